import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import { notFound } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { reachForInviting, reachForReadingInvitations, resolveLinkRole } from '../invitations/policy.js';
import { checkExpiresIn, LINK_TOKEN_PREFIX, newToken } from '../invitations/tokens.js';
import {
  findInviteLink,
  type InviteLinkRow,
  insertInviteLink,
  listInviteLinks as listInviteLinkRows,
  revokeInviteLink as revokeInviteLinkRow,
} from './queries.js';
import type { CreatedInviteLink, CreateInviteLinkBody, InviteLink, ListInviteLinksQuery } from './schemas.js';

export function presentInviteLink(row: InviteLinkRow): InviteLink {
  return {
    id: row.id,
    organization_id: row.organization_id,
    role: row.role,
    role_id: row.custom_role_id ?? row.role,
    status: row.status,
    max_uses: row.max_uses,
    uses: row.uses,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    created_by: row.creator_user_id
      ? { type: 'user', id: row.creator_user_id }
      : { type: 'api_key', id: row.creator_key_id as string },
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const linkNotFound = () => notFound('invite link', 'link_id');

export async function createInviteLink(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: CreateInviteLinkBody,
): Promise<CreatedInviteLink> {
  return ctx.db.transaction(async (tx) => {
    const org = await reachForInviting(tx, principal, orgRef);
    const grant = await resolveLinkRole(tx, principal, org, input.role, 'role');
    const { token, hash } = newToken(LINK_TOKEN_PREFIX);
    const row = await insertInviteLink(tx, {
      id: uuidv7(),
      organization: org,
      role: grant.name,
      customRoleId: grant.custom_role_id,
      tokenHash: hash,
      maxUses: input.max_uses ?? null,
      expiresIn: checkExpiresIn(input.expires_in, 'expires_in'),
      creator: { userId: principal.kind === 'user' ? principal.userId : null, keyId: principal.keyId },
    });
    await recordAuditEvent(tx, principal, {
      action: 'invite_link.created',
      organization: org,
      target: { type: 'invite_link', id: row.id },
      after: presentInviteLink(row),
    });
    return { ...presentInviteLink(row), token };
  });
}

export async function listInviteLinks(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListInviteLinksQuery,
): Promise<PageResult<InviteLink>> {
  const org = await reachForReadingInvitations(ctx.db, principal, orgRef);
  const page = pageRequest(input, isUuid);
  const rows = await listInviteLinkRows(ctx.db, org.id, { status: input.status }, page);
  return toPage(rows, page, (row) => row.id, presentInviteLink);
}

export async function getInviteLink(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  id: string,
): Promise<InviteLink> {
  const org = await reachForReadingInvitations(ctx.db, principal, orgRef);
  const row = await findInviteLink(ctx.db, org.id, id);
  if (!row) throw linkNotFound();
  return presentInviteLink(row);
}

/** Stops the link admitting anyone; revoking a revoked link changes nothing. */
export async function revokeInviteLink(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  id: string,
  ifMatch?: IfMatch,
): Promise<InviteLink> {
  const row = await ctx.db.transaction(async (tx) => {
    const org = await reachForInviting(tx, principal, orgRef);
    const link = await findInviteLink(tx, org.id, id, true);
    if (!link) throw linkNotFound();
    checkIfMatch(ifMatch, link);
    if (link.status === 'revoked') return link;
    const revoked = await revokeInviteLinkRow(tx, link.id);
    await recordAuditEvent(tx, principal, {
      action: 'invite_link.revoked',
      organization: org,
      target: { type: 'invite_link', id: link.id },
      before: presentInviteLink(link),
      after: presentInviteLink(revoked),
    });
    return revoked;
  });
  return presentInviteLink(row);
}
