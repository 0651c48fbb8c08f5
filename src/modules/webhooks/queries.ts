import type { Queryable } from '../../db/client.js';
import { isoColumn, isoText, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import { setClause } from '../../db/updates.js';
import type { PageRequest } from '../../http/pagination.js';
import type { AuditEventRow } from '../audit-events/queries.js';

export interface EndpointRow {
  id: string;
  root_id: string | null;
  organization_id: string | null;
  url: string;
  description: string | null;
  event_types: string[];
  secret: string;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

const ENDPOINT_COLUMNS = `w.id, w.root_id, w.organization_id, w.url, w.description, w.event_types, w.secret,
  w.enabled, w.disabled_reason, ${isoColumn('w.created_at')}, ${isoColumn('w.updated_at')}`;

export async function insertEndpoint(
  db: Queryable,
  endpoint: Omit<EndpointRow, 'created_at' | 'updated_at' | 'disabled_reason'>,
): Promise<EndpointRow> {
  const rows = await db.query<EndpointRow>(
    `insert into webhook_endpoints as w (id, root_id, organization_id, url, description, event_types, secret, enabled)
     values ($1, $2, $3, $4, $5, $6::text[], $7, $8) returning ${ENDPOINT_COLUMNS}`,
    [
      endpoint.id,
      endpoint.root_id,
      endpoint.organization_id,
      endpoint.url,
      endpoint.description,
      endpoint.event_types,
      endpoint.secret,
      endpoint.enabled,
    ],
  );
  return rows[0]!;
}

export async function findEndpoint(
  db: Queryable,
  id: string,
  lock = false,
): Promise<EndpointRow | undefined> {
  const rows = await db.query<EndpointRow>(
    `select ${ENDPOINT_COLUMNS} from webhook_endpoints w where w.id = $1 ${lock ? 'for update' : ''}`,
    [id],
  );
  return rows[0];
}

export async function listEndpoints(
  db: Queryable,
  organizationId: string | undefined,
  page: PageRequest,
): Promise<EndpointRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (organizationId) {
    params.push(organizationId);
    where.push(`w.organization_id = $${params.length}`);
  }
  const keyset = keysetSql('w.id', page, params);
  where.push(keyset.where);
  return db.query<EndpointRow>(
    `select ${ENDPOINT_COLUMNS} from webhook_endpoints w where ${where.join(' and ')}
      order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

const UPDATABLE = {
  url: { column: 'url' },
  description: { column: 'description' },
  event_types: { column: 'event_types', cast: 'text[]' },
  enabled: { column: 'enabled' },
};

export async function updateEndpoint(
  db: Queryable,
  id: string,
  changes: Record<string, unknown>,
): Promise<EndpointRow> {
  const params: unknown[] = [id];
  let sets = setClause(changes, UPDATABLE, params);
  // Turning an endpoint back on starts its failure count afresh.
  if (changes.enabled === true) sets += ', disabled_reason = null, consecutive_failures = 0';
  const rows = await db.query<EndpointRow>(
    `update webhook_endpoints w set ${sets} where id = $1 returning ${ENDPOINT_COLUMNS}`,
    params,
  );
  return rows[0]!;
}

export async function deleteEndpoint(db: Queryable, id: string): Promise<void> {
  await db.query('delete from webhook_endpoints where id = $1', [id]);
}

export interface DeliveryRow {
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  attempt_log: {
    attempt: number;
    status_code: number | null;
    error: string | null;
    duration_ms: number;
    at: string;
  }[];
}

export async function listDeliveries(
  db: Queryable,
  endpointId: string,
  page: PageRequest,
): Promise<DeliveryRow[]> {
  const params: unknown[] = [endpointId];
  const keyset = keysetSql('d.event_id', page, params);
  return db.query<DeliveryRow>(
    `select d.endpoint_id, d.event_id, d.event_type, d.status, d.attempts,
            case when d.status = 'pending' then ${isoText('d.next_attempt_at')} end as next_attempt_at,
            d.last_status_code, d.last_error, ${isoColumn('d.created_at')}, ${isoColumn('d.updated_at')},
            coalesce((select json_agg(json_build_object('attempt', a.attempt, 'status_code', a.status_code,
                        'error', a.error, 'duration_ms', a.duration_ms,
                        'at', ${isoText('a.created_at')})
                        order by a.attempt)
                        from webhook_attempts a where a.endpoint_id = d.endpoint_id and a.event_id = d.event_id),
                     '[]'::json) as attempt_log
       from webhook_deliveries d
      where d.endpoint_id = $1 and ${keyset.where}
      order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

export interface DueDelivery {
  endpoint_id: string;
  event_id: string;
  attempts: number;
  url: string;
  secret: string;
  event: AuditEventRow;
}

/**
 * Claims up to `limit` due deliveries for this worker: rows other workers hold are skipped, and a
 * claim lapses after `leaseMs`, so a worker that died mid-send does not strand its deliveries.
 */
export async function claimDueDeliveries(
  db: Queryable,
  limit: number,
  leaseMs: number,
): Promise<DueDelivery[]> {
  return db.query<DueDelivery>(
    `with due as (
       select endpoint_id, event_id from webhook_deliveries
        where status = 'pending' and next_attempt_at <= now()
          and (locked_until is null or locked_until < now())
          and exists (select 1 from webhook_endpoints w where w.id = endpoint_id and w.enabled)
        order by next_attempt_at limit $1
        for update skip locked),
     claimed as (
       update webhook_deliveries d
          set locked_until = now() + make_interval(secs => $2::double precision / 1000), attempts = d.attempts + 1
         from due where d.endpoint_id = due.endpoint_id and d.event_id = due.event_id
       returning d.endpoint_id, d.event_id, d.attempts)
     select c.endpoint_id, c.event_id, c.attempts, w.url, w.secret,
            json_build_object('id', e.id, 'organization_id', e.organization_id, 'action', e.action,
              'actor_kind', e.actor_kind, 'actor_user_id', e.actor_user_id, 'actor_key_id', e.actor_key_id,
              'target_type', e.target_type, 'target_id', e.target_id, 'changes', e.changes,
              'request_id', e.request_id, 'ip', e.ip, 'user_agent', e.user_agent,
              'created_at', ${isoText('e.created_at')}) as event
       from claimed c join webhook_endpoints w on w.id = c.endpoint_id join audit_events e on e.id = c.event_id`,
    [limit, leaseMs],
  );
}

export interface AttemptResult {
  endpointId: string;
  eventId: string;
  attempt: number;
  attemptId: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  succeeded: boolean;
  /** When to try again; null when this was the last attempt. */
  retryInMs: number | null;
  disableAfterFailures: number;
}

/** Records one attempt and its consequences for the delivery and the endpoint, in one transaction. */
export async function recordAttempt(db: Queryable, result: AttemptResult): Promise<void> {
  await db.query(
    `insert into webhook_attempts (id, endpoint_id, event_id, attempt, status_code, error, duration_ms)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [
      result.attemptId,
      result.endpointId,
      result.eventId,
      result.attempt,
      result.statusCode,
      result.error,
      result.durationMs,
    ],
  );
  const status = result.succeeded ? 'succeeded' : result.retryInMs === null ? 'failed' : 'pending';
  await db.query(
    `update webhook_deliveries
        set status = $3, locked_until = null, last_status_code = $4, last_error = $5,
            next_attempt_at = now() + make_interval(secs => coalesce($6::double precision, 0) / 1000),
            ${touchUpdatedAt()}
      where endpoint_id = $1 and event_id = $2`,
    [result.endpointId, result.eventId, status, result.statusCode, result.error, result.retryInMs],
  );
  await db.query(
    result.succeeded
      ? 'update webhook_endpoints set consecutive_failures = 0 where id = $1 and consecutive_failures > 0'
      : `update webhook_endpoints
            set consecutive_failures = consecutive_failures + 1,
                enabled = enabled and consecutive_failures + 1 < $2,
                disabled_reason = case when enabled and consecutive_failures + 1 >= $2
                  then 'disabled after ' || $2 || ' failed attempts in a row' else disabled_reason end
          where id = $1`,
    result.succeeded ? [result.endpointId] : [result.endpointId, result.disableAfterFailures],
  );
}
