import type { Queryable, QueryOptions } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import { setClause } from '../../db/updates.js';
import type { PageRequest } from '../../http/pagination.js';
import type { Principal } from '../../http/principal.js';
import { escapeLike, organizationForCallerSql } from '../organizations/queries.js';
import type { Permission } from '../roles/permissions.js';
import {
  grantReach,
  grantReachToMany,
  lockTreeOf,
  lockTrees,
  lockTreesOfUser,
  withdrawAllReach,
  withdrawReach,
} from './reach.js';
import { ROLES as RANKED, type Role } from './roles.js';

export interface MemberRow {
  organization_id: string;
  user_id: string;
  /** The built-in rank: the custom role's base role when the member holds one. */
  role: Role;
  custom_role_id: string | null;
  custom_role_key: string | null;
  public_metadata: Record<string, unknown>;
  private_metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  email: string;
  name: string | null;
  external_id: string | null;
  /** Where the role comes from: the organization itself or an ancestor. */
  via_organization_id: string;
}

const MEMBER_COLUMNS = `m.organization_id, m.user_id, m.role, m.custom_role_id, cr.key as custom_role_key,
  m.public_metadata, m.private_metadata, ${isoColumn('m.created_at')}, ${isoColumn('m.updated_at')},
  u.email, u.name, u.external_id, m.organization_id as via_organization_id`;

/** Memberships with their users and custom roles, as MEMBER_COLUMNS reads them. */
const MEMBERS_FROM =
  'memberships m join users u on u.id = m.user_id left join roles cr on cr.id = m.custom_role_id';

export interface MembershipMetadata {
  public_metadata?: Record<string, unknown>;
  private_metadata?: Record<string, unknown>;
}

export async function insertMembership(
  db: Queryable,
  organizationId: string,
  rootId: string,
  userId: string,
  role: Role,
): Promise<void> {
  await lockTrees(db, [rootId]);
  await db.query(
    'insert into memberships (organization_id, user_id, root_id, role) values ($1, $2, $3, $4)',
    [organizationId, userId, rootId, role],
  );
  await grantReach(db, userId, organizationId);
}

/**
 * Memberships for many users in one statement. Users who already are members (also by a
 * concurrent request, once it commits) are skipped: the answer holds the user ids inserted.
 */
export async function insertMemberships(
  db: Queryable,
  organizationId: string,
  rootId: string,
  admissions: { userId: string; role: Role; customRoleId?: string | null; metadata?: MembershipMetadata }[],
): Promise<Set<string>> {
  await lockTrees(db, [rootId]);
  // Metadata travels as JSON text: one text[] parameter per object, cast per row.
  const json = (pick: (metadata: MembershipMetadata) => object | undefined) =>
    admissions.map((a) => JSON.stringify((a.metadata && pick(a.metadata)) ?? {}));
  const rows = await db.query<{ user_id: string }>(
    `insert into memberships
       (organization_id, user_id, root_id, role, custom_role_id, public_metadata, private_metadata)
     select $1, n.user_id, $2, n.role, n.custom_role_id, n.public_metadata::jsonb, n.private_metadata::jsonb
       from unnest($3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[])
         as n(user_id, role, custom_role_id, public_metadata, private_metadata)
     on conflict (organization_id, user_id) do nothing
     returning user_id`,
    [
      organizationId,
      rootId,
      admissions.map((a) => a.userId),
      admissions.map((a) => a.role),
      admissions.map((a) => a.customRoleId ?? null),
      json((metadata) => metadata.public_metadata),
      json((metadata) => metadata.private_metadata),
    ],
  );
  const inserted = rows.map((row) => row.user_id);
  if (inserted.length > 0) await grantReachToMany(db, inserted, organizationId);
  return new Set(inserted);
}

export async function findMembers(db: Queryable, organizationId: string, userIds: string[]) {
  return db.query<MemberRow>(
    `select ${MEMBER_COLUMNS} from ${MEMBERS_FROM}
      where m.organization_id = $1 and m.user_id = any($2::uuid[])`,
    [organizationId, userIds],
  );
}

export async function findMember(
  db: Queryable,
  organizationId: string,
  userId: string,
): Promise<MemberRow | undefined> {
  const rows = await db.query<MemberRow>(
    `select ${MEMBER_COLUMNS} from ${MEMBERS_FROM} where m.organization_id = $1 and m.user_id = $2`,
    [organizationId, userId],
  );
  return rows[0];
}

export interface MemberFilter {
  role?: Role;
  /** A substring of the email or name, matched in any case (not by `listDirectMembersForCaller`). */
  search?: string;
}

/**
 * A search is planned for its term on each call, as the organization lists are
 * (organizations/queries.ts): a prepared statement's generic plan serves a rare term badly.
 */
const planOf = (filter: MemberFilter): QueryOptions => ({ prepare: filter.search === undefined });

/** SQL for the search condition on `u` (trigram indexes on users' email and name serve it). */
function searchSql(search: string | undefined, params: unknown[]): string | null {
  if (search === undefined) return null;
  params.push(`%${escapeLike(search)}%`);
  return `(u.email ilike $${params.length} or u.name ilike $${params.length})`;
}

export interface MemberPageRow extends Partial<MemberRow> {
  target_id: string;
  target_role: Role | null;
  target_personal_keys_refused: boolean;
  target_two_factor_refused: boolean;
}

/**
 * Direct members of the organization `ref` names, fetched in the same statement that finds the
 * organization and the caller's role on it: one round trip for the most common list. Members are
 * read only when the caller has a role; a row with null member fields means an empty page.
 */
export async function listDirectMembersForCaller(
  db: Queryable,
  principal: Principal,
  ref: string,
  filter: MemberFilter,
  page: PageRequest,
): Promise<MemberPageRow[]> {
  return db.query<MemberPageRow>(...directMembersForCallerSql(principal, ref, filter, page, MEMBER_COLUMNS));
}

/**
 * What identifies one rendering of a membership: every write to the membership, its user or its
 * custom role moves that row's `updated_at` forward.
 */
const MEMBER_VERSION = `concat(m.updated_at, '|', u.updated_at, '|', cr.updated_at) as version`;

export interface MemberVersionPageRow extends Omit<MemberPageRow, keyof MemberRow> {
  user_id: string | null;
  version: string | null;
}

/** `listDirectMembersForCaller` reading only the members' ids and versions (./rendered.ts). */
export async function listDirectMemberVersionsForCaller(
  db: Queryable,
  principal: Principal,
  ref: string,
  filter: MemberFilter,
  page: PageRequest,
): Promise<MemberVersionPageRow[]> {
  return db.query<MemberVersionPageRow>(
    ...directMembersForCallerSql(principal, ref, filter, page, `m.user_id, ${MEMBER_VERSION}`),
  );
}

/** Direct memberships of an organization by user id, with their versions, to be rendered. */
export async function findVersionedMembers(
  db: Queryable,
  organizationId: string,
  userIds: string[],
): Promise<(MemberRow & { version: string })[]> {
  return db.query(
    `select ${MEMBER_COLUMNS}, ${MEMBER_VERSION} from ${MEMBERS_FROM}
      where m.organization_id = $1 and m.user_id = any($2::uuid[])`,
    [organizationId, userIds],
  );
}

function directMembersForCallerSql(
  principal: Principal,
  ref: string,
  filter: MemberFilter,
  page: PageRequest,
  columns: string,
): [string, unknown[]] {
  const params: unknown[] = [];
  const target = organizationForCallerSql(principal, ref, params, { includeDeleted: false });
  const where = ['m.organization_id = t.id', 't.caller_role is not null'];
  if (filter.role) {
    params.push(filter.role);
    where.push(`m.role = $${params.length}`);
  }
  const keyset = keysetSql('m.user_id', page, params);
  where.push(keyset.where);
  const sql = `with t as (${target})
     select t.id as target_id, t.caller_role as target_role,
            t.personal_keys_refused as target_personal_keys_refused,
            t.two_factor_refused as target_two_factor_refused, page.*
       from t left join lateral (
         select ${columns} from ${MEMBERS_FROM}
          where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}
       ) page on true`;
  return [sql, params];
}

/**
 * Direct members of an organization already reached. Searches take this path rather than the one
 * statement above: with the organization's id known when the statement is planned, the planner
 * sees how many members it has and, for a rare search term in a large organization, starts from
 * the trigram indexes instead of reading every membership.
 */
export async function listDirectMembers(
  db: Queryable,
  organizationId: string,
  filter: MemberFilter,
  page: PageRequest,
): Promise<MemberRow[]> {
  const params: unknown[] = [organizationId];
  const where = ['m.organization_id = $1'];
  if (filter.role) {
    params.push(filter.role);
    where.push(`m.role = $${params.length}`);
  }
  const search = searchSql(filter.search, params);
  if (search) where.push(search);
  const keyset = keysetSql('m.user_id', page, params);
  // The same bound on the users' side: the planner does not carry a range across the join, and
  // a plan that reads users in id order would otherwise start from the first one on every page.
  where.push(keyset.where, keyset.where.replace('m.user_id', 'u.id'));
  return db.query<MemberRow>(
    `select ${MEMBER_COLUMNS} from ${MEMBERS_FROM}
      where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
    planOf(filter),
  );
}

/**
 * Everyone with access: members of the organization and of its ancestors, each once, with the
 * highest role held on the path (the nearest organization wins a tie).
 */
export async function listEffectiveMembers(
  db: Queryable,
  path: string[],
  filter: MemberFilter,
  page: PageRequest,
): Promise<MemberRow[]> {
  const params: unknown[] = [path];
  const inner = ['m.organization_id = any($1::uuid[])'];
  const search = searchSql(filter.search, params);
  if (search) inner.push(search);
  const { where: keyset, order, tail } = keysetSql('m.user_id', page, params);
  inner.push(keyset);
  const outer: string[] = [];
  if (filter.role) {
    params.push(filter.role);
    outer.push(`role = $${params.length}`);
  }
  return db.query<MemberRow>(
    `select * from (
       select distinct on (m.user_id) ${MEMBER_COLUMNS}
         from ${MEMBERS_FROM}
        where ${inner.join(' and ')}
        order by m.user_id ${order.endsWith('desc') ? 'desc' : 'asc'},
                 array_position(array['viewer','member','admin','owner']::text[], m.role) desc,
                 array_position($1::uuid[], m.organization_id) desc
     ) best ${outer.length ? `where ${outer.join(' and ')}` : ''}
     order by ${order.replace('m.user_id', 'user_id')} ${tail}`,
    params,
    planOf(filter),
  );
}

/** Sets the member's built-in rank and custom role (null for a built-in role). */
export async function updateMemberRole(
  db: Queryable,
  organizationId: string,
  userId: string,
  role: Role,
  customRoleId: string | null = null,
) {
  await db.query(
    `update memberships set role = $3, custom_role_id = $4, ${touchUpdatedAt()}
      where organization_id = $1 and user_id = $2`,
    [organizationId, userId, role, customRoleId],
  );
}

const UPDATABLE = {
  role: { column: 'role' },
  custom_role_id: { column: 'custom_role_id', cast: 'uuid' },
  public_metadata: { column: 'public_metadata', cast: 'jsonb' },
  private_metadata: { column: 'private_metadata', cast: 'jsonb' },
};

/** Sets the role (its base rank and custom role, which travel together) and metadata objects given (each object replaced whole). */
export async function updateMembership(
  db: Queryable,
  organizationId: string,
  userId: string,
  changes: MembershipMetadata & { role?: Role; custom_role_id?: string | null },
) {
  const params: unknown[] = [organizationId, userId];
  await db.query(
    `update memberships set ${setClause({ ...changes }, UPDATABLE, params)} where organization_id = $1 and user_id = $2`,
    params,
  );
}

export async function deleteMembership(db: Queryable, organizationId: string, userId: string): Promise<void> {
  await lockTreeOf(db, organizationId);
  await db.query('delete from memberships where organization_id = $1 and user_id = $2', [
    organizationId,
    userId,
  ]);
  await withdrawReach(db, userId, organizationId);
}

export async function deleteUserMemberships(db: Queryable, userId: string): Promise<void> {
  await lockTreesOfUser(db, userId);
  await db.query('delete from memberships where user_id = $1', [userId]);
  await withdrawAllReach(db, userId);
}

/** The roles the user holds directly on organizations of `path`, by organization id. */
export async function directRolesOnPath(
  db: Queryable,
  userId: string,
  path: string[],
): Promise<Map<string, Role>> {
  const rows = await db.query<{ organization_id: string; role: Role }>(
    'select organization_id, role from memberships where user_id = $1 and organization_id = any($2::uuid[])',
    [userId, path],
  );
  return new Map(rows.map((row) => [row.organization_id, row.role]));
}

/**
 * What the user holds on the organization or an ancestor (`path`), read afresh: the highest
 * built-in rank and every permission its custom roles there grant. One row per membership on the
 * path, which is at most as long as the tree is deep.
 */
export async function findCallerGrants(
  db: Queryable,
  userId: string,
  path: string[],
): Promise<{ role: Role | null; permissions: Permission[] }> {
  const rows = await db.query<{ role: Role; permissions: Permission[] | null }>(
    `select m.role, r.permissions from memberships m left join roles r on r.id = m.custom_role_id
      where m.user_id = $1 and m.organization_id = any($2::uuid[])`,
    [userId, path],
  );
  let role: Role | null = null;
  const permissions = new Set<Permission>();
  for (const row of rows) {
    if (!role || RANKED.indexOf(row.role) > RANKED.indexOf(role)) role = row.role;
    for (const permission of row.permissions ?? []) permissions.add(permission);
  }
  return { role, permissions: [...permissions] };
}

/** Owners on the organization or its ancestors, other than `exceptUserId` on the organization itself. */
export async function countOtherOwners(
  db: Queryable,
  organizationId: string,
  path: string[],
  exceptUserId: string,
): Promise<number> {
  const rows = await db.query<{ owners: number }>(
    `select count(*)::int as owners from memberships
      where organization_id = any($1::uuid[]) and role = 'owner'
        and not (organization_id = $2 and user_id = $3)`,
    [path, organizationId, exceptUserId],
  );
  return rows[0]?.owners ?? 0;
}

/** Organizations where this user is the only owner: deleting the user would orphan them. */
export async function organizationsOnlyOwnedBy(db: Queryable, userId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `select m.organization_id as id from memberships m join organizations o on o.id = m.organization_id
      where m.user_id = $1 and m.role = 'owner' and o.deleted_at is null and o.parent_id is null
        and not exists (select 1 from memberships other where other.organization_id = m.organization_id
                          and other.role = 'owner' and other.user_id <> $1)`,
    [userId],
  );
  return rows.map((row) => row.id);
}

/** Makes the owners of any of `ancestorIds` direct owners of the organization. */
export async function adoptInheritedOwners(db: Queryable, organizationId: string, ancestorIds: string[]) {
  await db.query(
    `insert into memberships (organization_id, user_id, root_id, role)
     select distinct $1::uuid, user_id, $1::uuid, 'owner' from memberships
      where organization_id = any($2::uuid[]) and role = 'owner'
     on conflict (organization_id, user_id)
       do update set role = 'owner', custom_role_id = null, ${touchUpdatedAt('memberships')}`,
    [organizationId, ancestorIds],
  );
}
