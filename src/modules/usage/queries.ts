import type { Queryable } from '../../db/client.js';
import { isoText } from '../../db/columns.js';

/** The records of one batch as column arrays, in batch order: what `unnest` takes. */
export interface RecordColumns {
  storageTypes: string[];
  pipelineIds: (string | null)[];
  billingTypes: string[];
  bytes: number[];
  costs: string[];
  occurredAts: string[];
}

export interface NewBatch {
  id: string;
  organizationId: string;
  rootId: string;
  idempotencyKey: string | null;
  fingerprint: string;
}

export interface StoredBatch {
  id: string;
  record_count: number;
  total_cost: string;
  total_bytes: string;
  fingerprint: string;
}

export interface MonthlyBillable {
  month: string;
  cost: string;
}

export interface InsertedBatch extends StoredBatch {
  /** Billable cost of the batch per calendar month (UTC), for the budget check. */
  billable_by_month: MonthlyBillable[];
}

/** Decimal text without trailing zeros: `0.30` -> `0.3`, `2.000` -> `2`. */
export const decimalText = (expression: string) => `trim_scale(${expression})::text`;

/** Adds the rows of `input` to one rollup table, grouped by its key (the grain's time column is `at`). */
function rollupSql(table: string, at: string, pipeline: boolean): string {
  const pipe = pipeline ? ", coalesce(pipeline_id, '')" : '';
  const columns = `organization_id, storage_type, ${at}, billing_type${pipeline ? ', pipeline_id' : ''}`;
  const key = `storage_type, ${at}, billing_type${pipe}`;
  return `insert into ${table} as r (${columns}, root_id, bytes, cost, record_count)
       select $2::uuid, ${key}, $3::uuid, sum(bytes), sum(cost), count(*)
         from input
        where exists (select 1 from claim)
        group by ${key}
        -- One order for every writer, so two batches upserting the same rows cannot deadlock.
        order by ${key}
       on conflict (${columns}) do update
          set bytes = r.bytes + excluded.bytes, cost = r.cost + excluded.cost,
              record_count = r.record_count + excluded.record_count`;
}

/**
 * Stores a batch in one statement: the batch row (claiming its idempotency key), every record
 * (`unnest` of the column arrays) and the rollups it adds to. When the key was already
 * used in this organization the claim inserts nothing, nor does anything else, and no row comes
 * back. A concurrent batch with the same key waits here for the first to commit or roll back.
 */
export async function insertBatch(
  db: Queryable,
  batch: NewBatch,
  records: RecordColumns,
): Promise<InsertedBatch | undefined> {
  const rows = await db.query<InsertedBatch>(
    `with input as materialized (
       select r.seq::int as seq, r.storage_type, r.pipeline_id, r.billing_type, r.bytes, r.cost, r.occurred_at,
              date_trunc('hour', r.occurred_at, 'UTC') as hour, date_trunc('day', r.occurred_at, 'UTC') as day
         from unnest($6::text[], $7::text[], $8::text[], $9::bigint[], $10::numeric[], $11::timestamptz[])
              with ordinality as r(storage_type, pipeline_id, billing_type, bytes, cost, occurred_at, seq)
     ),
     claim as (
       insert into usage_batches (id, organization_id, root_id, idempotency_key, fingerprint, record_count,
                                  total_cost, total_bytes)
       select $1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, count(*), sum(cost), sum(bytes) from input
       on conflict (organization_id, idempotency_key) where idempotency_key is not null do nothing
       returning id, record_count, total_cost, total_bytes, fingerprint
     ),
     stored as (
       insert into usage_records (batch_id, seq, organization_id, root_id, storage_type, pipeline_id,
                                  billing_type, bytes, cost, occurred_at)
       select claim.id, input.seq, $2::uuid, $3::uuid, input.storage_type, input.pipeline_id, input.billing_type,
              input.bytes, input.cost, input.occurred_at
         from input cross join claim
     ),
     hourly as (${rollupSql('usage_hourly', 'hour', true)}),
     hourly_totals as (${rollupSql('usage_hourly_totals', 'hour', false)}),
     daily as (${rollupSql('usage_daily', 'day', true)})
     select claim.id, claim.record_count, ${decimalText('claim.total_cost')} as total_cost,
            claim.total_bytes::text as total_bytes, claim.fingerprint,
            coalesce((select json_agg(json_build_object('month', m.month, 'cost', m.cost) order by m.month)
                        from (select to_char(date_trunc('month', occurred_at at time zone 'UTC'), 'YYYY-MM-DD') as month,
                                     sum(cost)::text as cost
                                from input where billing_type = 'billable' group by 1) m),
                     '[]'::json) as billable_by_month
       from claim`,
    [
      batch.id,
      batch.organizationId,
      batch.rootId,
      batch.idempotencyKey,
      batch.fingerprint,
      records.storageTypes,
      records.pipelineIds,
      records.billingTypes,
      records.bytes,
      records.costs,
      records.occurredAts,
    ],
  );
  return rows[0];
}

/** The batch that already holds an idempotency key in an organization. */
export async function findBatchByKey(
  db: Queryable,
  organizationId: string,
  idempotencyKey: string,
): Promise<StoredBatch | undefined> {
  const rows = await db.query<StoredBatch>(
    `select id, record_count, ${decimalText('total_cost')} as total_cost, total_bytes::text as total_bytes,
            fingerprint
       from usage_batches where organization_id = $1 and idempotency_key = $2`,
    [organizationId, idempotencyKey],
  );
  return rows[0];
}

export interface SummaryFilter {
  organizationId: string;
  includeChildren: boolean;
  /** Whole hours: [startAt, endAt). */
  startAt: string;
  endAt: string;
  /** The whole days (UTC) inside [startAt, endAt): [firstDay, endDay), empty when equal. */
  firstDay: string;
  endDay: string;
  storageType?: string;
  billingType?: string;
  pipelineId?: string;
}

export interface TotalsRow {
  total_cost: string;
  total_bytes: string;
  record_count: string;
}

export interface StorageTypeSummaryRow extends TotalsRow {
  /** What the row totals: everything, one pipeline, or one hour. */
  grouping: 'all' | 'pipeline' | 'hour';
  pipeline_id: string | null;
  hour: string | null;
}

export interface CostSummaryRow extends TotalsRow {
  storage_type: string | null;
}

const sums = (table: string) => `${decimalText(`coalesce(sum(${table}.cost), 0)`)} as total_cost,
  coalesce(sum(${table}.bytes), 0)::text as total_bytes, coalesce(sum(${table}.record_count), 0)::text as record_count`;

/**
 * Conditions on rollup rows of `table` (alias) for a summary: the organization (or its subtree),
 * the filters, and `during`, a condition on its time column. Parameters are appended to `params`.
 */
function rollupWhere(table: string, filter: SummaryFilter, params: unknown[], during: string): string {
  const where = [
    filter.includeChildren
      ? `${table}.organization_id in (select o.id from organizations o where o.id = $1 or o.ancestor_ids @> array[$1::uuid])`
      : `${table}.organization_id = $1`,
    during,
  ];
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    params.push(value);
    where.push(`${table}.${column} = $${params.length}`);
  };
  equal('storage_type', filter.storageType);
  equal('billing_type', filter.billingType);
  equal('pipeline_id', filter.pipelineId);
  return where.join(' and ');
}

/** $1 organization, $2 start, $3 end; with `days`, $4 first whole day and $5 the end of the whole days. */
const rangeParams = (filter: SummaryFilter, days = false): unknown[] => [
  filter.organizationId,
  filter.startAt,
  filter.endAt,
  ...(days ? [filter.firstDay, filter.endDay] : []),
];
const HOURS = (table: string) => `${table}.hour >= $2::timestamptz and ${table}.hour < $3::timestamptz`;

/**
 * Totals of one storage type, by pipeline and by hour, in one statement. Without a pipeline filter
 * the totals and hours come from `usage_hourly_totals` and the pipelines from `usage_daily` for the
 * whole days plus `usage_hourly` for the hours around them; with one, from `usage_hourly` alone.
 */
export async function summarizeStorageType(
  db: Queryable,
  filter: SummaryFilter,
): Promise<StorageTypeSummaryRow[]> {
  if (filter.pipelineId !== undefined) {
    const params = rangeParams(filter);
    return db.query<StorageTypeSummaryRow>(
      `select case when grouping(h.pipeline_id) = 0 then 'pipeline' when grouping(h.hour) = 0 then 'hour'
                   else 'all' end as grouping,
              nullif(h.pipeline_id, '') as pipeline_id, ${isoText('h.hour')} as hour, ${sums('h')}
         from usage_hourly h
        where ${rollupWhere('h', filter, params, HOURS('h'))}
        group by grouping sets ((), (h.pipeline_id), (h.hour))
        order by grouping(h.pipeline_id), grouping(h.hour), h.pipeline_id, h.hour`,
      params,
    );
  }
  const params = rangeParams(filter, true);
  const totals = rollupWhere('t', filter, params, HOURS('t'));
  const days = rollupWhere('d', filter, params, 'd.day >= $4::timestamptz and d.day < $5::timestamptz');
  const edges = rollupWhere(
    'h',
    filter,
    params,
    `h.hour >= $2::timestamptz and h.hour < $3::timestamptz
     and (h.hour < $4::timestamptz or h.hour >= $5::timestamptz)`,
  );
  return db.query<StorageTypeSummaryRow>(
    `select * from (
       select case when grouping(t.hour) = 0 then 'hour' else 'all' end as grouping, null::text as pipeline_id,
              ${isoText('t.hour')} as hour, ${sums('t')}
         from usage_hourly_totals t
        where ${totals}
        group by grouping sets ((), (t.hour))
       union all
       select 'pipeline', nullif(p.pipeline_id, ''), null, ${sums('p')}
         from (select d.pipeline_id, d.cost, d.bytes, d.record_count from usage_daily d where ${days}
               union all
               select h.pipeline_id, h.cost, h.bytes, h.record_count from usage_hourly h where ${edges}) p
        group by p.pipeline_id
     ) s
     order by grouping, pipeline_id nulls first, hour`,
    params,
  );
}

/** Totals of every storage type, and overall. */
export async function summarizeCosts(db: Queryable, filter: SummaryFilter): Promise<CostSummaryRow[]> {
  const params = rangeParams(filter);
  // Without a pipeline filter, the hourly totals of every pipeline together are the fewer rows.
  const table = filter.pipelineId === undefined ? 'usage_hourly_totals' : 'usage_hourly';
  return db.query<CostSummaryRow>(
    `select h.storage_type, ${sums('h')}
       from ${table} h
      where ${rollupWhere('h', filter, params, HOURS('h'))}
      group by grouping sets ((), (h.storage_type))
      order by grouping(h.storage_type) desc, h.storage_type`,
    params,
  );
}
