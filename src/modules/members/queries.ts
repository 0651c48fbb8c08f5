import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import type { PageRequest } from '../../http/pagination.js';
import type { Principal } from '../../http/principal.js';
import { organizationForCallerSql } from '../organizations/queries.js';
import type { Permission } from '../roles/permissions.js';
import {
  grantReach,
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
  created_at: string;
  updated_at: string;
  email: string;
  name: string | null;
  external_id: string | null;
  /** Where the role comes from: the organization itself or an ancestor. */
  via_organization_id: string;
}

const MEMBER_COLUMNS = `m.organization_id, m.user_id, m.role, m.custom_role_id, cr.key as custom_role_key,
  ${isoColumn('m.created_at')}, ${isoColumn('m.updated_at')},
  u.email, u.name, u.external_id, m.organization_id as via_organization_id`;

/** Memberships with their users and custom roles, as MEMBER_COLUMNS reads them. */
const MEMBERS_FROM =
  'memberships m join users u on u.id = m.user_id left join roles cr on cr.id = m.custom_role_id';

export async function insertMembership(
  db: Queryable,
  organizationId: string,
  rootId: string,
  userId: string,
  role: Role,
  customRoleId: string | null = null,
): Promise<void> {
  await lockTrees(db, [rootId]);
  await db.query(
    `insert into memberships (organization_id, user_id, root_id, role, custom_role_id)
     values ($1, $2, $3, $4, $5)`,
    [organizationId, userId, rootId, role, customRoleId],
  );
  await grantReach(db, userId, organizationId);
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
}

export interface MemberPageRow extends Partial<MemberRow> {
  target_id: string;
  target_role: Role | null;
  target_personal_keys_refused: boolean;
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
  const params: unknown[] = [];
  const target = organizationForCallerSql(principal, ref, params, { includeDeleted: false });
  const where = ['m.organization_id = t.id', 't.caller_role is not null'];
  if (filter.role) {
    params.push(filter.role);
    where.push(`m.role = $${params.length}`);
  }
  const keyset = keysetSql('m.user_id', page, params);
  where.push(keyset.where);
  return db.query<MemberPageRow>(
    `with t as (${target})
     select t.id as target_id, t.caller_role as target_role,
            t.personal_keys_refused as target_personal_keys_refused, page.*
       from t left join lateral (
         select ${MEMBER_COLUMNS} from ${MEMBERS_FROM}
          where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}
       ) page on true`,
    params,
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

/** The highest role the user holds on the organization or an ancestor (`path`), read afresh. */
export async function findCallerRole(db: Queryable, userId: string, path: string[]): Promise<Role | null> {
  const rows = await db.query<{ role: Role }>(
    `select role from memberships where user_id = $1 and organization_id = any($2::uuid[])
      order by array_position(array['viewer','member','admin','owner']::text[], role) desc limit 1`,
    [userId, path],
  );
  return rows[0]?.role ?? null;
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
