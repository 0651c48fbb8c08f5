import { type Static, Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../http/schemas.js';
import { Decimal } from './decimals.js';

export const MAX_RECORDS = 10_000;

export const STORAGE_TYPE_PATTERN = '^[a-z0-9](?:[a-z0-9_.-]{0,62}[a-z0-9])?$';
export const PIPELINE_ID_PATTERN = '^[A-Za-z0-9](?:[A-Za-z0-9_.:/-]{0,126}[A-Za-z0-9])?$';

export const StorageType = Type.String({
  pattern: STORAGE_TYPE_PATTERN,
  minLength: 1,
  maxLength: 64,
  description: 'Storage type, lowercase (e.g. `s3`, `dev-null`, `bigquery`).',
});

export const PipelineId = Type.String({
  pattern: PIPELINE_ID_PATTERN,
  minLength: 1,
  maxLength: 128,
  description: "The pipeline that produced the usage: the host application's own identifier.",
});

export const BillingType = Type.Union([Type.Literal('billable'), Type.Literal('non_billable')], {
  description: '`billable` usage counts against budgets; `non_billable` is reported only.',
});

const Cost = Decimal(
  'Exact decimal, as a string ("0.25"); a JSON number is read digit for digit, never rounded. Not negative.',
);

export const UsageRecord = Type.Object(
  {
    storage_type: StorageType,
    pipeline_id: Type.Optional(Nullable(PipelineId)),
    billing_type: BillingType,
    bytes: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    cost: Cost,
    occurred_at: Timestamp('When the usage happened (RFC 3339); stored to the millisecond.'),
  },
  { additionalProperties: false },
);
export type UsageRecord = Static<typeof UsageRecord>;

export const IngestUsageBody = Type.Object(
  {
    records: Type.Array(UsageRecord, {
      minItems: 1,
      maxItems: MAX_RECORDS,
      description: `1 to ${MAX_RECORDS.toLocaleString('en-US')} records, stored all together or not at all.`,
    }),
  },
  { additionalProperties: false },
);
export type IngestUsageBody = Static<typeof IngestUsageBody>;

export const IngestedBatch = Type.Object({
  batch_id: Uuid(),
  accepted: Type.Integer({ description: 'Records stored.' }),
  total_cost: Type.String({ description: 'Exact decimal sum of the batch.' }),
  total_bytes: Type.Integer(),
});
export type IngestedBatch = Static<typeof IngestedBatch>;

const Totals = {
  total_cost: Type.String({ description: 'Exact decimal.' }),
  total_bytes: Type.Integer(),
  record_count: Type.Integer(),
};

const rangeFields = {
  start: Type.Optional(Timestamp('RFC 3339 start; default 6 hours before `end`.')),
  end: Type.Optional(Timestamp('RFC 3339 end; default now.')),
  billing_type: Type.Optional(BillingType),
  pipeline_id: Type.Optional(PipelineId),
  include_children: Type.Boolean({
    default: false,
    description: "Add the usage of the organization's teams (all descendants).",
  }),
};

export const CostQuery = Type.Object(rangeFields, { additionalProperties: false });
export type CostQuery = Static<typeof CostQuery>;

const summaryFields = {
  organization_id: Uuid(),
  organization_name: Type.String(),
  start_at: Timestamp('Start of the first hour counted: `start` rounded down to the hour.'),
  end_at: Timestamp('End of the last hour counted: `end` rounded up to the hour.'),
  include_children: Type.Boolean(),
  billing_type: Nullable(Type.String(), 'The billing type filter, if any.'),
  pipeline_id: Nullable(Type.String(), 'The pipeline filter, if any.'),
  ...Totals,
};

export const StorageTypeCostSummary = Type.Object({
  ...summaryFields,
  storage_type: Type.String(),
  by_pipeline: Type.Array(
    Type.Object({ pipeline_id: Nullable(Type.String(), 'Null: usage without a pipeline.'), ...Totals }),
  ),
  by_hour: Type.Array(Type.Object({ hour: Timestamp('Start of the hour.'), ...Totals }), {
    description: 'Hours with usage, oldest first; hours without usage are left out.',
  }),
});
export type StorageTypeCostSummary = Static<typeof StorageTypeCostSummary>;

export const CostSummary = Type.Object({
  ...summaryFields,
  by_storage_type: Type.Array(Type.Object({ storage_type: Type.String(), ...Totals })),
});
export type CostSummary = Static<typeof CostSummary>;
