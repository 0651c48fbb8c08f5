import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import type { PageRequest } from '../../http/pagination.js';
import type { InviteLinkStatus } from './schemas.js';

export interface InviteLinkRow {
  id: string;
  organization_id: string;
  root_id: string;
  /** The built-in role, or the custom role's key as it was named. */
  role: string;
  custom_role_id: string | null;
  status: InviteLinkStatus;
  max_uses: number | null;
  uses: number;
  expires_at: string;
  revoked_at: string | null;
  creator_user_id: string | null;
  creator_key_id: string | null;
  created_at: string;
  updated_at: string;
}

const STATUS_WHERE: Record<InviteLinkStatus, string> = {
  revoked: 'l.revoked_at is not null',
  expired: 'l.revoked_at is null and l.expires_at <= now()',
  exhausted: 'l.revoked_at is null and l.expires_at > now() and l.uses >= l.max_uses',
  active: 'l.revoked_at is null and l.expires_at > now() and (l.max_uses is null or l.uses < l.max_uses)',
};

const STATUS = `case when ${STATUS_WHERE.revoked} then 'revoked' when ${STATUS_WHERE.expired} then 'expired'
  when ${STATUS_WHERE.exhausted} then 'exhausted' else 'active' end`;

const COLUMNS = `l.id, l.organization_id, l.root_id, l.role, l.custom_role_id, ${STATUS} as status, l.max_uses, l.uses,
  ${isoColumn('l.expires_at')}, ${isoColumn('l.revoked_at')}, l.creator_user_id, l.creator_key_id,
  ${isoColumn('l.created_at')}, ${isoColumn('l.updated_at')}`;

export interface NewInviteLink {
  id: string;
  organization: { id: string; root_id: string };
  role: string;
  customRoleId: string | null;
  tokenHash: string;
  maxUses: number | null;
  expiresIn: number;
  creator: { userId: string | null; keyId: string | null };
}

export async function insertInviteLink(db: Queryable, link: NewInviteLink): Promise<InviteLinkRow> {
  const rows = await db.query<InviteLinkRow>(
    `with l as (
       insert into invite_links (id, organization_id, root_id, role, custom_role_id, token_hash, max_uses,
                                 expires_at, creator_user_id, creator_key_id)
       values ($1, $2, $3, $4, $5, $6, $7, now() + $8::int * interval '1 second', $9, $10)
       returning *)
     select ${COLUMNS} from l`,
    [
      link.id,
      link.organization.id,
      link.organization.root_id,
      link.role,
      link.customRoleId,
      link.tokenHash,
      link.maxUses,
      link.expiresIn,
      link.creator.userId,
      link.creator.keyId,
    ],
  );
  return rows[0]!;
}

export async function findInviteLink(
  db: Queryable,
  organizationId: string,
  id: string,
  lock = false,
): Promise<InviteLinkRow | undefined> {
  const rows = await db.query<InviteLinkRow>(
    `select ${COLUMNS} from invite_links l where l.organization_id = $1 and l.id = $2 ${lock ? 'for update' : ''}`,
    [organizationId, id],
  );
  return rows[0];
}

/**
 * The link a token names, locked until the transaction ends: concurrent accepts of one link
 * queue here, so each sees the uses counted by the ones before it and the cap holds exactly.
 */
export async function findInviteLinkByTokenHash(db: Queryable, tokenHash: string) {
  const rows = await db.query<InviteLinkRow>(
    `select ${COLUMNS} from invite_links l where l.token_hash = $1 for update`,
    [tokenHash],
  );
  return rows[0];
}

export async function listInviteLinks(
  db: Queryable,
  organizationId: string,
  filter: { status?: InviteLinkStatus },
  page: PageRequest,
): Promise<InviteLinkRow[]> {
  const params: unknown[] = [organizationId];
  const where = ['l.organization_id = $1'];
  if (filter.status) where.push(`(${STATUS_WHERE[filter.status]})`);
  const keyset = keysetSql('l.id', page, params);
  where.push(keyset.where);
  return db.query<InviteLinkRow>(
    `select ${COLUMNS} from invite_links l where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

function updated(set: string) {
  return `with l as (update invite_links l set ${set}, ${touchUpdatedAt('l')} where l.id = $1 returning l.*)
          select ${COLUMNS} from l`;
}

export async function revokeInviteLink(db: Queryable, id: string): Promise<InviteLinkRow> {
  return (await db.query<InviteLinkRow>(updated('revoked_at = now()'), [id]))[0]!;
}

export async function countInviteLinkUse(db: Queryable, id: string): Promise<InviteLinkRow> {
  return (await db.query<InviteLinkRow>(updated('uses = l.uses + 1'), [id]))[0]!;
}
