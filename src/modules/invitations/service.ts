import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { duplicateEntry } from '../../http/bulk.js';
import { ApiError, notFound } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import { type Principal, requireScope } from '../../http/principal.js';
import { isEmail, isUuid } from '../../http/schemas.js';
import { recordAuditEvent, recordAuditEvents } from '../audit-events/record.js';
import type { AccessibleOrganizationRow } from '../organizations/queries.js';
import { requireGrantable } from '../roles/grants.js';
import { findUserById } from '../users/queries.js';
import { reachForInviting, reachForReadingInvitations, resolveInvitedRole, storedGrant } from './policy.js';
import {
  expireLapsedInvitations,
  findInvitation,
  type InvitationRow,
  insertInvitations,
  listInvitations as listInvitationRows,
  listPendingInvitationsForEmail,
  memberEmails,
  type NewInvitation,
  pendingEmails,
  renewInvitation,
  revokeInvitation as revokeInvitationRow,
} from './queries.js';
import type {
  CreatedInvitation,
  CreateInvitationBody,
  Invitation,
  ListInvitationsQuery,
  ListMyInvitationsQuery,
  ResendInvitationBody,
} from './schemas.js';
import { checkExpiresIn, INVITATION_TOKEN_PREFIX, newToken } from './tokens.js';

export function presentInvitation(row: InvitationRow): Invitation {
  return {
    id: row.id,
    organization_id: row.organization_id,
    email: row.email,
    role: row.role,
    role_id: row.custom_role_id ?? row.role,
    status: row.status,
    expires_at: row.expires_at,
    accepted_at: row.accepted_at,
    accepted_by_user_id: row.accepted_by_user_id,
    revoked_at: row.revoked_at,
    invited_by: row.inviter_user_id
      ? { type: 'user', id: row.inviter_user_id }
      : { type: 'api_key', id: row.inviter_key_id as string },
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const withToken = (row: InvitationRow, token: string): CreatedInvitation => ({
  ...presentInvitation(row),
  token,
});

export const invitationNotFound = () => notFound('invitation', 'invitation_id');

export interface InviteEntry {
  email: string;
  role?: string;
  expires_in?: number;
}

export type InviteOutcome = { invitation: CreatedInvitation } | { error: ApiError };

/** Names an entry's field in an error: `email` for a single request, `invitations[3].email` in bulk. */
export type ParamOf = (index: number, field: string) => string;

interface Planned {
  index: number;
  token: string;
  row: NewInvitation;
}

/** Checks each entry's values; the ones that pass get an id and a token. */
async function planInvitations(
  tx: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
  entries: InviteEntry[],
  param: ParamOf,
  outcomes: InviteOutcome[],
): Promise<Planned[]> {
  const planned: Planned[] = [];
  const firstByEmail = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    try {
      if (!isEmail(entry.email)) {
        throw new ApiError('invalid_request', '`email` must be an email address.', param(index, 'email'));
      }
      const grant = await resolveInvitedRole(tx, principal, org, entry.role, param(index, 'role'));
      const expiresIn = checkExpiresIn(entry.expires_in, param(index, 'expires_in'));
      const email = entry.email.toLowerCase();
      const first = firstByEmail.get(email);
      if (first !== undefined) throw duplicateEntry(param(index, 'email'), first);
      firstByEmail.set(email, index);
      const { token, hash } = newToken(INVITATION_TOKEN_PREFIX);
      planned.push({
        index,
        token,
        row: {
          id: uuidv7(),
          email: entry.email,
          role: grant.name,
          customRoleId: grant.custom_role_id,
          tokenHash: hash,
          expiresIn,
        },
      });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      outcomes[index] = { error };
    }
  }
  return planned;
}

/**
 * Invites each entry's email to the organization, in the caller's transaction: the one path of
 * single and bulk invitations. Every step is one statement for all entries (members, pending
 * invitations, the insert, the audit events), so a thousand entries cost a handful of round trips.
 */
export async function inviteEmails(
  tx: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
  entries: InviteEntry[],
  param: ParamOf,
): Promise<InviteOutcome[]> {
  const outcomes: InviteOutcome[] = new Array(entries.length);
  const planned = await planInvitations(tx, principal, org, entries, param, outcomes);
  if (planned.length === 0) return outcomes;
  const emails = planned.map((entry) => entry.row.email.toLowerCase());
  await expireLapsedInvitations(tx, org.id, emails);
  const members = await memberEmails(tx, org.id, emails);
  const pending = await pendingEmails(tx, org.id, emails);
  const alreadyInvited = (index: number) =>
    new ApiError(
      'already_invited',
      'This email already has a pending invitation to the organization.',
      param(index, 'email'),
    );
  const insertable: Planned[] = [];
  for (const entry of planned) {
    const email = entry.row.email.toLowerCase();
    if (members.has(email)) {
      outcomes[entry.index] = {
        error: new ApiError(
          'already_member',
          'A user with this email is already a member of this organization.',
          param(entry.index, 'email'),
        ),
      };
    } else if (pending.has(email)) outcomes[entry.index] = { error: alreadyInvited(entry.index) };
    else insertable.push(entry);
  }
  if (insertable.length === 0) return outcomes;
  const inviter = { userId: principal.kind === 'user' ? principal.userId : null, keyId: principal.keyId };
  const rows = await insertInvitations(
    tx,
    org,
    inviter,
    insertable.map((entry) => entry.row),
  );
  const inserted = new Map(rows.map((row) => [row.id, row]));
  for (const entry of insertable) {
    const row = inserted.get(entry.row.id);
    // Missing: a concurrent request invited the same email first.
    outcomes[entry.index] = row
      ? { invitation: withToken(row, entry.token) }
      : { error: alreadyInvited(entry.index) };
  }
  await recordAuditEvents(
    tx,
    principal,
    rows.map((row) => ({
      action: 'invitation.created',
      organization: org,
      target: { type: 'invitation', id: row.id },
      after: presentInvitation(row),
    })),
  );
  return outcomes;
}

export async function createInvitation(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: CreateInvitationBody,
): Promise<CreatedInvitation> {
  return ctx.db.transaction(async (tx) => {
    const org = await reachForInviting(tx, principal, orgRef);
    const [outcome] = await inviteEmails(tx, principal, org, [input], (_, field) => field);
    // Thrown inside the transaction, so a refused invitation leaves nothing changed.
    if ('error' in outcome!) throw outcome.error;
    return outcome!.invitation;
  });
}

export async function listInvitations(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListInvitationsQuery,
): Promise<PageResult<Invitation>> {
  const org = await reachForReadingInvitations(ctx.db, principal, orgRef);
  const page = pageRequest(input, isUuid);
  const rows = await listInvitationRows(ctx.db, org.id, { status: input.status, email: input.email }, page);
  return toPage(rows, page, (row) => row.id, presentInvitation);
}

export async function getInvitation(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  id: string,
): Promise<Invitation> {
  const org = await reachForReadingInvitations(ctx.db, principal, orgRef);
  const row = await findInvitation(ctx.db, org.id, id);
  if (!row) throw invitationNotFound();
  return presentInvitation(row);
}

/** The invitation locked for a change, checked against If-Match; refused once it was accepted. */
async function lockInvitation(
  tx: Queryable,
  principal: Principal,
  orgRef: string,
  id: string,
  ifMatch: IfMatch,
) {
  const org = await reachForInviting(tx, principal, orgRef);
  const row = await findInvitation(tx, org.id, id, true);
  if (!row) throw invitationNotFound();
  checkIfMatch(ifMatch, row);
  if (row.status === 'accepted') {
    throw new ApiError(
      'invitation_already_accepted',
      'This invitation was already accepted.',
      'invitation_id',
    );
  }
  return { org, row };
}

/** Revoking a revoked invitation changes nothing; an accepted one cannot be revoked. */
export async function revokeInvitation(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  id: string,
  ifMatch?: IfMatch,
): Promise<Invitation> {
  const row = await ctx.db.transaction(async (tx) => {
    const { org, row } = await lockInvitation(tx, principal, orgRef, id, ifMatch);
    if (row.status === 'revoked') return row;
    await requireGrantable(
      tx,
      principal,
      org,
      await storedGrant(tx, org.id, row, 'invitation_id'),
      'invitation_id',
    );
    const revoked = await revokeInvitationRow(tx, row.id);
    await recordAuditEvent(tx, principal, {
      action: 'invitation.revoked',
      organization: org,
      target: { type: 'invitation', id: row.id },
      before: presentInvitation(row),
      after: presentInvitation(revoked),
    });
    return revoked;
  });
  return presentInvitation(row);
}

/**
 * A new token (the old one stops working in the same transaction) and a new expiry. A pending or
 * expired invitation may be resent; a revoked or accepted one may not.
 */
export async function resendInvitation(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  id: string,
  input: ResendInvitationBody,
  ifMatch?: IfMatch,
): Promise<CreatedInvitation> {
  return ctx.db.transaction(async (tx) => {
    const { org, row } = await lockInvitation(tx, principal, orgRef, id, ifMatch);
    if (row.status === 'revoked') {
      throw new ApiError('invitation_revoked', 'This invitation was revoked; invite again.', 'invitation_id');
    }
    await requireGrantable(
      tx,
      principal,
      org,
      await storedGrant(tx, org.id, row, 'invitation_id'),
      'invitation_id',
    );
    if ((await memberEmails(tx, org.id, [row.email.toLowerCase()])).size > 0) {
      throw new ApiError(
        'already_member',
        'A user with this email is already a member of this organization.',
        'invitation_id',
      );
    }
    const { token, hash } = newToken(INVITATION_TOKEN_PREFIX);
    const renewed = await renewInvitation(tx, row.id, hash, checkExpiresIn(input.expires_in, 'expires_in'));
    await recordAuditEvent(tx, principal, {
      action: 'invitation.resent',
      organization: org,
      target: { type: 'invitation', id: row.id },
      before: presentInvitation(row),
      after: presentInvitation(renewed),
    });
    return withToken(renewed, token);
  });
}

/** Pending invitations addressed to the calling user's email, from any organization. */
export async function listMyInvitations(
  ctx: AppContext,
  principal: Principal,
  input: ListMyInvitationsQuery,
): Promise<PageResult<Invitation>> {
  if (principal.kind !== 'user') {
    throw new ApiError('forbidden', 'Only a user has invitations: call with a personal key.');
  }
  requireScope(principal, 'member:read');
  const user = await findUserById(ctx.db, principal.userId!);
  if (!user) throw notFound('user');
  const page = pageRequest(input, isUuid);
  const rows = await listPendingInvitationsForEmail(ctx.db, user.email, page);
  return toPage(rows, page, (row) => row.id, presentInvitation);
}
