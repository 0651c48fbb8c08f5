import { createHash } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import { ApiError } from '../../http/errors.js';
import type { Principal } from '../../http/principal.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { chargeMonthTotals } from '../budgets/queries.js';
import { reachOrganization } from '../organizations/access.js';
import { needing } from '../roles/permissions.js';
import {
  findBatchByKey,
  insertBatch,
  type RecordColumns,
  type StoredBatch,
  summarizeCosts,
  summarizeStorageType,
  type TotalsRow,
} from './queries.js';
import type {
  CostQuery,
  CostSummary,
  IngestedBatch,
  IngestUsageBody,
  StorageTypeCostSummary,
  UsageRecord,
} from './schemas.js';

const ingest = needing('usage:write', 'usage:write');
const read = { role: 'viewer', scope: 'usage:read' } as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_RANGE_MS = 6 * HOUR_MS;
export const MAX_RANGE_DAYS = 400;
/** Clocks disagree a little; usage further in the future than this is a client bug. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** Milliseconds since the epoch of an RFC 3339 time, or a 400 naming the field. */
function parseTime(text: string, param: string): number {
  const ms = Date.parse(text);
  // Before 1970 is no usage anyone meters; it also keeps year 0000 (no such year in PostgreSQL) out.
  if (Number.isNaN(ms) || ms < 0) {
    throw new ApiError('invalid_request', `\`${param}\` is not a valid RFC 3339 time after 1970.`, param);
  }
  return ms;
}

function columnsOf(records: readonly UsageRecord[]): RecordColumns {
  const latest = Date.now() + FUTURE_TOLERANCE_MS;
  const columns: RecordColumns = {
    storageTypes: [],
    pipelineIds: [],
    billingTypes: [],
    bytes: [],
    costs: [],
    occurredAts: [],
  };
  records.forEach((record, i) => {
    const param = `records[${i}].occurred_at`;
    const occurred = parseTime(record.occurred_at, param);
    if (occurred > latest) throw new ApiError('invalid_request', `\`${param}\` is in the future.`, param);
    columns.storageTypes.push(record.storage_type);
    columns.pipelineIds.push(record.pipeline_id ?? null);
    columns.billingTypes.push(record.billing_type);
    columns.bytes.push(record.bytes);
    columns.costs.push(record.cost);
    columns.occurredAts.push(new Date(occurred).toISOString());
  });
  return columns;
}

/** Same records in the same order, same fingerprint: tells a retry from a reused key. */
function fingerprintOf(columns: RecordColumns): string {
  return createHash('sha256').update(JSON.stringify(columns)).digest('hex');
}

const presentBatch = (batch: StoredBatch): IngestedBatch => ({
  batch_id: batch.id,
  accepted: batch.record_count,
  total_cost: batch.total_cost,
  total_bytes: Number(batch.total_bytes),
});

export interface IngestResult {
  batch: IngestedBatch;
  /** The key had been used for this batch before: the first answer, nothing stored again. */
  replayed: boolean;
}

/**
 * Stores a batch of usage records, all or nothing, in one transaction with its rollups, the
 * running month totals of the organization and its ancestors, the idempotency key and the audit
 * event. Refused with 402 `budget_exceeded` when a budget on the organization's path would go
 * past its limit plus overage in any month the batch touches.
 */
export async function ingestUsage(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: IngestUsageBody,
  idempotencyKey: string | null,
): Promise<IngestResult> {
  const columns = columnsOf(input.records);
  const fingerprint = fingerprintOf(columns);
  return ctx.db.transaction(async (tx) => {
    const org = await reachOrganization(tx, principal, orgRef, ingest);
    const inserted = await insertBatch(
      tx,
      { id: uuidv7(), organizationId: org.id, rootId: org.root_id, idempotencyKey, fingerprint },
      columns,
    );
    if (!inserted) {
      const first = await findBatchByKey(tx, org.id, idempotencyKey!);
      if (!first || first.fingerprint !== fingerprint) {
        throw new ApiError(
          'idempotency_key_reused',
          'This Idempotency-Key was used for other usage records in this organization; use a new key.',
          'Idempotency-Key',
        );
      }
      return { batch: presentBatch(first), replayed: true };
    }
    if (inserted.billable_by_month.length > 0) {
      const exceeded = await chargeMonthTotals(
        tx,
        { ids: [...org.ancestor_ids, org.id], rootId: org.root_id },
        inserted.billable_by_month,
      );
      if (exceeded) {
        const whose = exceeded.organization_id === org.id ? 'this organization' : 'an organization above it';
        throw new ApiError(
          'budget_exceeded',
          `Budget limit exceeded for monthly period ${exceeded.period}: this usage would take the billable cost ` +
            `past the budget of ${whose} plus its maximum overage. Nothing was stored.`,
        );
      }
    }
    const batch = presentBatch(inserted);
    await recordAuditEvent(tx, principal, {
      action: 'usage.ingested',
      organization: org,
      target: { type: 'usage_batch', id: batch.batch_id },
      after: batch,
    });
    return { batch, replayed: false };
  });
}

/**
 * The hours a summary counts: `start` rounded down and `end` rounded up to whole hours; and the
 * whole days (UTC) among them, which are read from the daily rollups.
 */
export function hoursOf(query: Pick<CostQuery, 'start' | 'end'>, now = Date.now()) {
  const end = query.end === undefined ? now : parseTime(query.end, 'end');
  const start = query.start === undefined ? end - DEFAULT_RANGE_MS : parseTime(query.start, 'start');
  if (start >= end) throw new ApiError('invalid_request', '`start` must be before `end`.', 'start');
  if (end - start > MAX_RANGE_DAYS * 24 * HOUR_MS) {
    throw new ApiError('invalid_request', `A range may span at most ${MAX_RANGE_DAYS} days.`, 'start');
  }
  const startAt = Math.floor(start / HOUR_MS) * HOUR_MS;
  const endAt = Math.ceil(end / HOUR_MS) * HOUR_MS;
  let firstDay = Math.ceil(startAt / DAY_MS) * DAY_MS;
  let endDay = Math.floor(endAt / DAY_MS) * DAY_MS;
  if (firstDay >= endDay) firstDay = endDay = endAt;
  const iso = (ms: number) => new Date(ms).toISOString();
  return { startAt: iso(startAt), endAt: iso(endAt), firstDay: iso(firstDay), endDay: iso(endDay) };
}

const totals = (row: TotalsRow | undefined) => ({
  total_cost: row?.total_cost ?? '0',
  total_bytes: Number(row?.total_bytes ?? 0),
  record_count: Number(row?.record_count ?? 0),
});

async function summaryScope(ctx: AppContext, principal: Principal, orgRef: string, query: CostQuery) {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  const hours = hoursOf(query);
  return {
    org,
    filter: {
      organizationId: org.id,
      includeChildren: query.include_children,
      startAt: hours.startAt,
      endAt: hours.endAt,
      firstDay: hours.firstDay,
      endDay: hours.endDay,
      billingType: query.billing_type,
      pipelineId: query.pipeline_id,
    },
    head: {
      organization_id: org.id,
      organization_name: org.name,
      start_at: hours.startAt,
      end_at: hours.endAt,
      include_children: query.include_children,
      billing_type: query.billing_type ?? null,
      pipeline_id: query.pipeline_id ?? null,
    },
  };
}

export async function storageTypeSummary(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  storageType: string,
  query: CostQuery,
): Promise<StorageTypeCostSummary> {
  const { filter, head } = await summaryScope(ctx, principal, orgRef, query);
  const rows = await summarizeStorageType(ctx.db, { ...filter, storageType });
  return {
    ...head,
    storage_type: storageType,
    ...totals(rows.find((row) => row.grouping === 'all')),
    by_pipeline: rows
      .filter((row) => row.grouping === 'pipeline')
      .map((row) => ({ pipeline_id: row.pipeline_id, ...totals(row) })),
    by_hour: rows
      .filter((row) => row.grouping === 'hour')
      .map((row) => ({ hour: row.hour!, ...totals(row) })),
  };
}

export async function costSummary(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  query: CostQuery,
): Promise<CostSummary> {
  const { filter, head } = await summaryScope(ctx, principal, orgRef, query);
  const rows = await summarizeCosts(ctx.db, filter);
  return {
    ...head,
    ...totals(rows.find((row) => row.storage_type === null)),
    by_storage_type: rows
      .filter((row) => row.storage_type !== null)
      .map((row) => ({ storage_type: row.storage_type!, ...totals(row) })),
  };
}
