import type { AppContext } from '../../context.js';
import { ApiError } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { type Principal, requireAdmin, requireScope } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { reachOrganization } from '../organizations/access.js';
import { needing } from '../roles/permissions.js';
import { type AuditEventRow, type AuditFilter, listAuditEvents } from './queries.js';
import type { AuditEvent, ListAuditEventsQuery, ListOrganizationAuditEventsQuery } from './schemas.js';

export function presentAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    action: row.action,
    organization_id: row.organization_id,
    actor: {
      kind: row.actor_kind as AuditEvent['actor']['kind'],
      user_id: row.actor_user_id,
      key_id: row.actor_key_id,
    },
    target: { type: row.target_type, id: row.target_id },
    changes: row.changes,
    request_id: row.request_id,
    ip: row.ip,
    user_agent: row.user_agent,
    created_at: row.created_at,
  };
}

/** The smallest UUID v7 of a millisecond: ids at or after it were made at or after that time. */
function firstIdAt(time: string, param: string): string {
  const ms = Date.parse(time);
  if (!Number.isFinite(ms) || ms < 0 || ms >= 2 ** 48) {
    throw new ApiError('invalid_request', `\`${param}\` is not a time orgstack can have recorded.`, param);
  }
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

function timeRange(input: { since?: string; until?: string }): Pick<AuditFilter, 'fromId' | 'toId'> {
  return {
    fromId: input.since ? firstIdAt(input.since, 'since') : undefined,
    toId: input.until ? firstIdAt(input.until, 'until') : undefined,
  };
}

async function page(ctx: AppContext, filter: AuditFilter, input: ListAuditEventsQuery) {
  const request = pageRequest(input, isUuid);
  const rows = await listAuditEvents(ctx.db, filter, request);
  return toPage(rows, request, (row) => row.id, presentAuditEvent);
}

/** An organization's trail: its admins (and keys with `organization:read` that reach it) read it. */
export async function listOrganizationAuditEvents(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListOrganizationAuditEventsQuery,
): Promise<PageResult<AuditEvent>> {
  const org = await reachOrganization(ctx.db, principal, orgRef, {
    ...needing('audit:read', 'organization:read'),
    includeDeleted: true,
  });
  return page(
    ctx,
    {
      organizationId: org.id,
      includeDescendants: input.include_descendants,
      action: input.action,
      actorId: input.actor,
      targetId: input.target_id,
      ...timeRange(input),
    },
    input,
  );
}

/** The whole instance's trail, for admin keys. */
export async function listAllAuditEvents(
  ctx: AppContext,
  principal: Principal,
  input: ListAuditEventsQuery,
): Promise<PageResult<AuditEvent>> {
  requireScope(principal, 'organization:read');
  requireAdmin(principal);
  return page(
    ctx,
    {
      organizationId: input.organization_id,
      action: input.action,
      actorId: input.actor,
      targetId: input.target_id,
      ...timeRange(input),
    },
    input,
  );
}
