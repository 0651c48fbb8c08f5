import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import { setClause } from '../../db/updates.js';
import type { PageRequest } from '../../http/pagination.js';
import { isUuid } from '../../http/schemas.js';
import { ROLES, type Role } from '../members/roles.js';
import type { Permission } from './permissions.js';

export type BaseRole = Exclude<Role, 'owner'>;

export interface RoleRow {
  id: string;
  organization_id: string;
  root_id: string;
  key: string;
  name: string;
  description: string | null;
  base_role: BaseRole;
  permissions: Permission[];
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

const COLUMNS = `r.id, r.organization_id, r.root_id, r.key, r.name, r.description, r.base_role, r.permissions,
  ${isoColumn('r.created_at')}, ${isoColumn('r.updated_at')}, ${isoColumn('r.deleted_at')}`;
const RETURNING = COLUMNS.replaceAll('r.', '');

export async function insertRole(
  db: Queryable,
  role: Omit<RoleRow, 'created_at' | 'updated_at' | 'deleted_at'>,
): Promise<RoleRow> {
  const rows = await db.query<RoleRow>(
    `insert into roles (id, organization_id, root_id, key, name, description, base_role, permissions)
     values ($1, $2, $3, $4, $5, $6, $7, $8::text[]) returning ${RETURNING}`,
    [
      role.id,
      role.organization_id,
      role.root_id,
      role.key,
      role.name,
      role.description,
      role.base_role,
      role.permissions,
    ],
  );
  return rows[0]!;
}

/**
 * The live custom role `ref` (an id or a key) names for the organization: one of its own roles or
 * an ancestor's, the nearest organization winning when several define the key. The organization's
 * path is read in the same statement, so a subtree moved meanwhile is seen where it is now.
 * `share` keeps the role from being deleted or changed until the transaction ends (grants take
 * it); `update` is for changing the role itself.
 */
export async function findRoleFor(
  db: Queryable,
  organizationId: string,
  ref: string,
  lock?: 'share' | 'update',
): Promise<RoleRow | undefined> {
  const match = isUuid(ref) ? 'r.id = $2::uuid' : 'r.key = $2';
  const rows = await db.query<RoleRow>(
    `select ${COLUMNS} from organizations o
       join roles r on r.organization_id = any(o.ancestor_ids || o.id)
      where o.id = $1 and ${match} and r.deleted_at is null
      order by array_position(o.ancestor_ids || o.id, r.organization_id) desc
      limit 1 ${lock ? `for ${lock} of r` : ''}`,
    [organizationId, isUuid(ref) ? ref.toLowerCase() : ref],
  );
  return rows[0];
}

export async function findRoleById(db: Queryable, id: string): Promise<RoleRow | undefined> {
  const rows = await db.query<RoleRow>(`select ${COLUMNS} from roles r where r.id = $1`, [id]);
  return rows[0];
}

/** A row of the role list: a built-in role (only `id` and `sort_key` set) or a custom one. */
export type RoleListRow = (RoleRow & { builtin: false }) | { builtin: true; id: Role };

/**
 * Built-in roles first (lowest to highest), then the custom roles of the organization and its
 * ancestors (`path`) in creation order. One keyset over both: `sort_key` is `0-<rank>` for
 * built-in roles and `1-<id>` for custom ones.
 */
export async function listRoles(db: Queryable, path: string[], page: PageRequest): Promise<RoleListRow[]> {
  const params: unknown[] = [path, [...ROLES]];
  const keyset = keysetSql('sort_key', page, params);
  const rows = await db.query<RoleRow & { sort_key: string; builtin: boolean }>(
    `select * from (
       select ('0-' || b.rank) collate "C" as sort_key, true as builtin, b.name as id, null::uuid as organization_id,
              null::uuid as root_id, null as key, null as name, null as description, null as base_role,
              null::text[] as permissions, null as created_at, null as updated_at, null as deleted_at
         from unnest($2::text[]) with ordinality as b(name, rank)
       union all
       select ('1-' || r.id::text) collate "C", false, r.id::text, ${COLUMNS.replace('r.id, ', '')}
         from roles r where r.organization_id = any($1::uuid[]) and r.deleted_at is null
     ) listed
     where ${keyset.where} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
  return rows.map((row) => {
    const { sort_key: _key, ...rest } = row;
    return rest.builtin ? { builtin: true, id: rest.id as Role } : { ...rest, builtin: false };
  });
}

/** The list's cursor key of a row, and which keys are valid. */
export const roleSortKey = (row: RoleListRow) =>
  row.builtin ? `0-${ROLES.indexOf(row.id) + 1}` : `1-${row.id}`;
export const isRoleSortKey = (key: string) =>
  /^0-[1-4]$/.test(key) || (key.startsWith('1-') && isUuid(key.slice(2)));

const UPDATABLE = {
  key: { column: 'key' },
  name: { column: 'name' },
  description: { column: 'description' },
  base_role: { column: 'base_role' },
  permissions: { column: 'permissions', cast: 'text[]' },
};

export async function updateRole(
  db: Queryable,
  id: string,
  changes: Record<string, unknown>,
): Promise<RoleRow> {
  const params: unknown[] = [id];
  const rows = await db.query<RoleRow>(
    `update roles set ${setClause(changes, UPDATABLE, params)} where id = $1 returning ${RETURNING}`,
    params,
  );
  return rows[0]!;
}

/** Holders of a custom role keep its base role as their rank. */
export async function setHolderRanks(db: Queryable, roleId: string, baseRole: BaseRole): Promise<void> {
  await db.query(
    `update memberships set role = $2, ${touchUpdatedAt()} where custom_role_id = $1 and role <> $2`,
    [roleId, baseRole],
  );
}

export async function softDeleteRole(db: Queryable, id: string): Promise<void> {
  await db.query(`update roles set deleted_at = now(), ${touchUpdatedAt()} where id = $1`, [id]);
}

/**
 * Whether a membership, a pending invitation or a live invite link holds the role, or an
 * organization names it as `default_role_id`. Only the defining organization's subtree can name it
 * (moves that would strand a role are refused).
 * Deleted organizations count: restoring one must not bring back a dangling reference.
 */
export async function roleIsInUse(db: Queryable, role: RoleRow): Promise<boolean> {
  const rows = await db.query<{ in_use: boolean }>(
    `select exists (select 1 from memberships where custom_role_id = $1)
         or exists (select 1 from invitations
                     where custom_role_id = $1 and status = 'pending' and expires_at > now())
         or exists (select 1 from invite_links
                     where custom_role_id = $1 and revoked_at is null and expires_at > now())
         or exists (select 1 from organizations
                     where (id = $2 or ancestor_ids @> array[$2::uuid])
                       and settings->>'default_role_id' = $1::text) as in_use`,
    [role.id, role.organization_id],
  );
  return rows[0]?.in_use ?? false;
}

/**
 * Whether moving the subtree of `organizationId` from under `oldAncestors` to under
 * `newAncestors` would leave a member (or a `default_role_id`, a pending invitation or a live
 * invite link) in it with a custom role defined by an organization that is no longer above it.
 */
export async function moveStrandsRoles(
  db: Queryable,
  organizationId: string,
  oldAncestors: string[],
  newAncestors: string[],
): Promise<boolean> {
  const left = `r.organization_id = any($2::uuid[]) and not (r.organization_id = any($3::uuid[]))`;
  const subtree = `(d.id = $1 or d.ancestor_ids @> array[$1::uuid])`;
  const rows = await db.query<{ stranded: boolean }>(
    `select exists (select 1 from organizations d
                      join memberships m on m.organization_id = d.id
                      join roles r on r.id = m.custom_role_id
                     where ${subtree} and ${left})
         or exists (select 1 from organizations d join roles r on d.settings->>'default_role_id' = r.id::text
                     where ${subtree} and ${left})
         or exists (select 1 from organizations d
                      join invitations i on i.organization_id = d.id and i.status = 'pending'
                      join roles r on r.id = i.custom_role_id
                     where ${subtree} and ${left})
         or exists (select 1 from organizations d
                      join invite_links l on l.organization_id = d.id and l.revoked_at is null
                      join roles r on r.id = l.custom_role_id
                     where ${subtree} and ${left}) as stranded`,
    [organizationId, oldAncestors, newAncestors],
  );
  return rows[0]?.stranded ?? false;
}
