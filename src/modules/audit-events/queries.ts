import type { Queryable } from '../../db/client.js';
import { isoColumn } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import type { PageRequest } from '../../http/pagination.js';

export interface NewAuditEvent {
  id: string;
  rootId: string | null;
  organizationId: string | null;
  action: string;
  actorKind: string;
  actorUserId: string | null;
  actorKeyId: string | null;
  targetType: string;
  targetId: string;
  changes: Record<string, unknown>;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEventRow {
  id: string;
  organization_id: string | null;
  action: string;
  actor_kind: string;
  actor_user_id: string | null;
  actor_key_id: string | null;
  target_type: string;
  target_id: string;
  changes: Record<string, { before: unknown; after: unknown }>;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
}

/** Endpoints that want event `e`: enabled, subscribed, and of its organization or an ancestor. */
const WANTING_ENDPOINTS = `w.enabled
        and (cardinality(w.event_types) = 0 or e.action = any(w.event_types))
        and not (e.target_type = 'webhook_endpoint' and e.target_id = w.id::text)
        and (w.organization_id is null or w.organization_id = e.organization_id
             or exists (select 1 from organizations o
                         where o.id = e.organization_id and o.ancestor_ids @> array[w.organization_id]))`;

/**
 * Writes the event and, in the same statement, queues it for every enabled webhook endpoint that
 * wants it: the outbox is filled in the transaction of the change, so no event is lost or invented.
 * An endpoint is not told about changes to itself. `onlyEndpointId` queues the event for that
 * endpoint alone (test events).
 */
export async function insertAuditEvent(
  db: Queryable,
  event: NewAuditEvent,
  onlyEndpointId?: string,
): Promise<void> {
  const endpoints = onlyEndpointId ? 'w.id = $14' : WANTING_ENDPOINTS;
  await db.query(
    `with e as (
       insert into audit_events (id, root_id, organization_id, action, actor_kind, actor_user_id, actor_key_id,
         target_type, target_id, changes, request_id, ip, user_agent)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)
       returning id, organization_id, action, target_type, target_id)
     insert into webhook_deliveries (endpoint_id, event_id, event_type, root_id)
     select w.id, e.id, e.action, w.root_id from e join webhook_endpoints w on ${endpoints}`,
    [
      event.id,
      event.rootId,
      event.organizationId,
      event.action,
      event.actorKind,
      event.actorUserId,
      event.actorKeyId,
      event.targetType,
      event.targetId,
      event.changes,
      event.requestId,
      event.ip,
      event.userAgent,
      ...(onlyEndpointId ? [onlyEndpointId] : []),
    ],
  );
}

/**
 * Many events of one actor and request in one statement, each queued for the endpoints that
 * want it: what a bulk change writes, at the cost of one event.
 */
export async function insertAuditEvents(db: Queryable, events: NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const column = <K extends keyof NewAuditEvent>(key: K) => events.map((event) => event[key]);
  // Joining a thousand new events with the endpoints is estimated costly enough to start JIT
  // compilation, which takes far longer (most of a second) than running the statement does.
  await db.query('set local jit = off');
  await db.query(
    `with e as (
       insert into audit_events (id, root_id, organization_id, action, actor_kind, actor_user_id, actor_key_id,
         target_type, target_id, changes, request_id, ip, user_agent)
       select n.id, n.root_id, n.organization_id, n.action, n.actor_kind, n.actor_user_id, n.actor_key_id,
              n.target_type, n.target_id, n.changes::jsonb, n.request_id, n.ip, n.user_agent
         from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::uuid[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
              as n(id, root_id, organization_id, action, actor_kind, actor_user_id, actor_key_id,
                   target_type, target_id, changes, request_id, ip, user_agent)
       returning id, organization_id, action, target_type, target_id)
     insert into webhook_deliveries (endpoint_id, event_id, event_type, root_id)
     select w.id, e.id, e.action, w.root_id from e join webhook_endpoints w on ${WANTING_ENDPOINTS}`,
    [
      column('id'),
      column('rootId'),
      column('organizationId'),
      column('action'),
      column('actorKind'),
      column('actorUserId'),
      column('actorKeyId'),
      column('targetType'),
      column('targetId'),
      events.map((event) => JSON.stringify(event.changes)),
      column('requestId'),
      column('ip'),
      column('userAgent'),
    ],
  );
}

export interface AuditFilter {
  /** One organization, or it and its descendants; absent for the instance-wide list. */
  organizationId?: string;
  includeDescendants?: boolean;
  action?: string;
  actorId?: string;
  targetId?: string;
  /** Ids are UUID v7, ordered by time: the time range is an id range on the same index. */
  fromId?: string;
  toId?: string;
}

export async function listAuditEvents(
  db: Queryable,
  filter: AuditFilter,
  page: PageRequest,
): Promise<AuditEventRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.organizationId) {
    add(
      (p) =>
        filter.includeDescendants
          ? `e.organization_id in (select id from organizations where id = ${p} or ancestor_ids @> array[${p}::uuid])`
          : `e.organization_id = ${p}`,
      filter.organizationId,
    );
  }
  if (filter.action) {
    // `organization.` matches every organization action; a full name matches itself.
    if (filter.action.endsWith('.')) add((p) => `starts_with(e.action, ${p})`, filter.action);
    else add((p) => `e.action = ${p}`, filter.action);
  }
  if (filter.actorId) add((p) => `(e.actor_user_id = ${p} or e.actor_key_id = ${p})`, filter.actorId);
  if (filter.targetId) add((p) => `e.target_id = ${p}`, filter.targetId);
  if (filter.fromId) add((p) => `e.id >= ${p}`, filter.fromId);
  if (filter.toId) add((p) => `e.id < ${p}`, filter.toId);
  const keyset = keysetSql('e.id', page, params);
  where.push(keyset.where);
  return db.query<AuditEventRow>(
    `select e.id, e.organization_id, e.action, e.actor_kind, e.actor_user_id, e.actor_key_id, e.target_type,
            e.target_id, e.changes, e.request_id, e.ip, e.user_agent, ${isoColumn('e.created_at')}
       from audit_events e where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}
