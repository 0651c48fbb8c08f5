import { uuidv7 } from 'uuidv7';
import type { Queryable } from '../../db/client.js';
import type { Principal } from '../../http/principal.js';
import { insertAuditEvent, insertAuditEvents, type NewAuditEvent } from './queries.js';

/** Fields whose values never reach the audit trail, only the fact that they changed. */
const MASKED = /(^|_)(secret|token|password|key_hash|ciphertext)s?$/;
const MASK = '[masked]';

export interface AuditEntry {
  /** `<noun>.<past tense verb>`: `organization.updated`, `member.added`. */
  action: string;
  /** The organization the event belongs to; null for instance-level events. */
  organization: { id: string; root_id: string } | null;
  target: { type: string; id: string };
  /** The target as presented before and after; absent for creates and deletes respectively. */
  before?: object | null;
  after?: object | null;
  /** Deliver to this webhook endpoint only, instead of to every endpoint that wants the event. */
  onlyEndpointId?: string;
}

type Changes = Record<string, { before: unknown; after: unknown }>;

/** The fields that differ, with both values; secrets masked. */
export function changedFields(before: object | null | undefined, after: object | null | undefined): Changes {
  const was = (before ?? {}) as Record<string, unknown>;
  const now = (after ?? {}) as Record<string, unknown>;
  const changes: Changes = {};
  for (const field of new Set([...Object.keys(was), ...Object.keys(now)])) {
    const a = was[field] ?? null;
    const b = now[field] ?? null;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    changes[field] = MASKED.test(field) ? { before: a && MASK, after: b && MASK } : { before: a, after: b };
  }
  return changes;
}

function newEvent(principal: Principal, entry: AuditEntry): NewAuditEvent {
  return {
    id: uuidv7(),
    rootId: entry.organization?.root_id ?? null,
    organizationId: entry.organization?.id ?? null,
    action: entry.action,
    actorKind: principal.kind,
    actorUserId: principal.userId,
    actorKeyId: principal.keyId,
    targetType: entry.target.type,
    targetId: entry.target.id,
    changes: changedFields(entry.before, entry.after),
    requestId: principal.origin?.requestId ?? null,
    ip: principal.origin?.ip ?? null,
    userAgent: principal.origin?.userAgent ?? null,
  };
}

/** Writes one audit event (and queues its webhooks); call it inside the transaction of the change it records. */
export async function recordAuditEvent(
  db: Queryable,
  principal: Principal,
  entry: AuditEntry,
): Promise<string> {
  const event = newEvent(principal, entry);
  await insertAuditEvent(db, event, entry.onlyEndpointId);
  return event.id;
}

/** One event per entry, in one statement: for changes made many at a time (bulk requests). */
export async function recordAuditEvents(
  db: Queryable,
  principal: Principal,
  entries: Omit<AuditEntry, 'onlyEndpointId'>[],
): Promise<void> {
  await insertAuditEvents(
    db,
    entries.map((entry) => newEvent(principal, entry)),
  );
}
