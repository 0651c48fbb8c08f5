import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import type { PageRequest } from '../../http/pagination.js';
import type { InvitationStatus } from './schemas.js';

export interface InvitationRow {
  id: string;
  organization_id: string;
  root_id: string;
  email: string;
  /** The built-in role, or the custom role's key as it was named. */
  role: string;
  custom_role_id: string | null;
  /** As presented: a pending invitation past its expiry reads `expired`. */
  status: InvitationStatus;
  expires_at: string;
  inviter_user_id: string | null;
  inviter_key_id: string | null;
  accepted_at: string | null;
  accepted_by_user_id: string | null;
  revoked_at: string | null;
  created_at: string;
  updated_at: string;
}

const STATUS = `case when i.status = 'pending' and i.expires_at <= now() then 'expired' else i.status end`;

const COLUMNS = `i.id, i.organization_id, i.root_id, i.email, i.role, i.custom_role_id, ${STATUS} as status,
  ${isoColumn('i.expires_at')}, i.inviter_user_id, i.inviter_key_id, ${isoColumn('i.accepted_at')},
  i.accepted_by_user_id, ${isoColumn('i.revoked_at')}, ${isoColumn('i.created_at')}, ${isoColumn('i.updated_at')}`;

/** A change to one invitation, answered with the row as it is afterwards. */
function updated(set: string, where = 'i.id = $1') {
  return `with i as (update invitations i set ${set}, ${touchUpdatedAt('i')} where ${where} returning i.*)
          select ${COLUMNS} from i`;
}

export interface NewInvitation {
  id: string;
  email: string;
  role: string;
  customRoleId: string | null;
  tokenHash: string;
  expiresIn: number;
}

/**
 * Inserts the invitations in one statement. One whose email already has a pending invitation
 * (a concurrent request made it) is skipped rather than failing the statement: it is missing
 * from the answer, and the caller reports it.
 */
export async function insertInvitations(
  db: Queryable,
  org: { id: string; root_id: string },
  inviter: { userId: string | null; keyId: string | null },
  invitations: NewInvitation[],
): Promise<InvitationRow[]> {
  return db.query<InvitationRow>(
    `with i as (
       insert into invitations (id, organization_id, root_id, email, role, custom_role_id, token_hash,
                                expires_at, inviter_user_id, inviter_key_id)
       select n.id, $1, $2, n.email, n.role, n.custom_role_id, n.token_hash,
              now() + n.expires_in * interval '1 second', $3, $4
         from unnest($5::uuid[], $6::text[], $7::text[], $8::uuid[], $9::text[], $10::int[])
              as n(id, email, role, custom_role_id, token_hash, expires_in)
       on conflict (organization_id, lower(email)) where status = 'pending' do nothing
       returning *)
     select ${COLUMNS} from i order by i.id`,
    [
      org.id,
      org.root_id,
      inviter.userId,
      inviter.keyId,
      invitations.map((n) => n.id),
      invitations.map((n) => n.email),
      invitations.map((n) => n.role),
      invitations.map((n) => n.customRoleId),
      invitations.map((n) => n.tokenHash),
      invitations.map((n) => n.expiresIn),
    ],
  );
}

/**
 * Pending invitations of these emails that are past their expiry are stored as expired, which
 * frees the one-pending-per-email slot for a new invitation.
 */
export async function expireLapsedInvitations(db: Queryable, organizationId: string, emails: string[]) {
  await db.query(
    `update invitations set status = 'expired', ${touchUpdatedAt()}
      where organization_id = $1 and status = 'pending' and expires_at <= now()
        and lower(email) = any($2::text[])`,
    [organizationId, emails.map((email) => email.toLowerCase())],
  );
}

/** Of these emails (lower case), those with a pending invitation to the organization. */
export async function pendingEmails(db: Queryable, organizationId: string, emails: string[]) {
  const rows = await db.query<{ email: string }>(
    `select lower(email) as email from invitations
      where organization_id = $1 and status = 'pending' and lower(email) = any($2::text[])`,
    [organizationId, emails],
  );
  return new Set(rows.map((row) => row.email));
}

/** Of these emails (lower case), those of live users who are direct members of the organization. */
export async function memberEmails(db: Queryable, organizationId: string, emails: string[]) {
  const rows = await db.query<{ email: string }>(
    `select lower(u.email) as email from users u join memberships m on m.user_id = u.id
      where m.organization_id = $1 and u.deleted_at is null and lower(u.email) = any($2::text[])`,
    [organizationId, emails],
  );
  return new Set(rows.map((row) => row.email));
}

export async function findInvitation(
  db: Queryable,
  organizationId: string,
  id: string,
  lock = false,
): Promise<InvitationRow | undefined> {
  const rows = await db.query<InvitationRow>(
    `select ${COLUMNS} from invitations i where i.organization_id = $1 and i.id = $2 ${lock ? 'for update' : ''}`,
    [organizationId, id],
  );
  return rows[0];
}

/** The invitation a token names, locked: accepting it, revoking it and resending it serialise here. */
export async function findInvitationByTokenHash(db: Queryable, tokenHash: string) {
  const rows = await db.query<InvitationRow>(
    `select ${COLUMNS} from invitations i where i.token_hash = $1 for update`,
    [tokenHash],
  );
  return rows[0];
}

export interface InvitationFilter {
  status?: InvitationStatus;
  email?: string;
}

const STATUS_WHERE: Record<InvitationStatus, string> = {
  pending: `i.status = 'pending' and i.expires_at > now()`,
  expired: `(i.status = 'expired' or (i.status = 'pending' and i.expires_at <= now()))`,
  accepted: `i.status = 'accepted'`,
  revoked: `i.status = 'revoked'`,
};

export async function listInvitations(
  db: Queryable,
  organizationId: string,
  filter: InvitationFilter,
  page: PageRequest,
): Promise<InvitationRow[]> {
  const params: unknown[] = [organizationId];
  const where = ['i.organization_id = $1'];
  if (filter.status) where.push(STATUS_WHERE[filter.status]);
  if (filter.email) {
    params.push(filter.email);
    where.push(`lower(i.email) = lower($${params.length})`);
  }
  const keyset = keysetSql('i.id', page, params);
  where.push(keyset.where);
  return db.query<InvitationRow>(
    `select ${COLUMNS} from invitations i where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

/** Pending invitations to live organizations for this email, whichever organization sent them. */
export async function listPendingInvitationsForEmail(
  db: Queryable,
  email: string,
  page: PageRequest,
): Promise<InvitationRow[]> {
  const params: unknown[] = [email];
  const keyset = keysetSql('i.id', page, params);
  return db.query<InvitationRow>(
    `select ${COLUMNS} from invitations i join organizations o on o.id = i.organization_id
      where lower(i.email) = lower($1) and i.status = 'pending' and i.expires_at > now()
        and o.deleted_at is null and ${keyset.where}
      order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

export async function revokeInvitation(db: Queryable, id: string): Promise<InvitationRow> {
  const rows = await db.query<InvitationRow>(updated(`status = 'revoked', revoked_at = now()`), [id]);
  return rows[0]!;
}

/** A new token and a new expiry; an expired invitation is pending again. */
export async function renewInvitation(
  db: Queryable,
  id: string,
  tokenHash: string,
  expiresIn: number,
): Promise<InvitationRow> {
  const rows = await db.query<InvitationRow>(
    updated(`status = 'pending', token_hash = $2, expires_at = now() + $3::int * interval '1 second'`),
    [id, tokenHash, expiresIn],
  );
  return rows[0]!;
}

export async function markInvitationAccepted(db: Queryable, id: string, userId: string) {
  const rows = await db.query<InvitationRow>(
    updated(`status = 'accepted', accepted_at = now(), accepted_by_user_id = $2`),
    [id, userId],
  );
  return rows[0]!;
}
