import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { type Role as BuiltinRole, ROLES } from '../members/roles.js';
import { reachOrganization } from '../organizations/access.js';
import { requireGrantable } from './grants.js';
import { builtinPermissions, needing, PERMISSION_NAMES, PERMISSIONS, rolesHolding } from './permissions.js';
import {
  findRoleFor,
  insertRole,
  isRoleSortKey,
  listRoles as listRoleRows,
  type RoleListRow,
  type RoleRow,
  roleIsInUse,
  roleSortKey,
  setHolderRanks,
  softDeleteRole,
  updateRole as updateRoleRow,
} from './queries.js';
import type {
  CreateRoleBody,
  ListPermissionsQuery,
  ListRolesQuery,
  PermissionEntry,
  Role,
  UpdateRoleBody,
} from './schemas.js';

const read = { role: 'viewer', scope: 'organization:read' } as const;
const write = needing('role:manage', 'organization:write');

const BUILTIN_DESCRIPTIONS: Record<BuiltinRole, string> = {
  viewer: 'Reads the organization, its teams, members and projects.',
  member: 'A viewer who belongs to the organization; may add members where members_can_invite is on.',
  admin: 'Manages the organization, its teams, members below owner, projects, keys and webhooks.',
  owner: 'Everything, including deleting or moving the organization and granting the owner role.',
};

function presentBuiltin(role: BuiltinRole): Role {
  return {
    id: role,
    key: role,
    name: role[0]!.toUpperCase() + role.slice(1),
    description: BUILTIN_DESCRIPTIONS[role],
    builtin: true,
    base_role: role,
    permissions: builtinPermissions(role),
    organization_id: null,
    created_at: null,
    updated_at: null,
  };
}

export function presentRole(row: RoleRow): Role {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    description: row.description,
    builtin: false,
    base_role: row.base_role,
    permissions: row.permissions,
    organization_id: row.organization_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const presentListed = (row: RoleListRow) => (row.builtin ? presentBuiltin(row.id) : presentRole(row));

const isBuiltin = (ref: string): ref is BuiltinRole => (ROLES as readonly string[]).includes(ref);

/** Sorted and without repeats, so a role's permissions compare and audit cleanly. */
const normalized = <T extends string>(permissions: readonly T[]) => [...new Set(permissions)].sort();

function checkKey(key: string) {
  if (isBuiltin(key) || isUuid(key)) {
    throw new ApiError(
      'invalid_request',
      'A role key cannot be a built-in role name or look like an id.',
      'key',
    );
  }
}

function refuseBuiltin(ref: string) {
  if (isBuiltin(ref)) {
    throw new ApiError('builtin_role_read_only', 'Built-in roles cannot be changed or deleted.', 'role_id');
  }
}

export async function listRoles(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListRolesQuery,
): Promise<PageResult<Role>> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  const page = pageRequest(input, isRoleSortKey);
  const rows = await listRoleRows(ctx.db, [...org.ancestor_ids, org.id], page);
  return toPage(rows, page, roleSortKey, presentListed);
}

export async function getRole(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  roleRef: string,
): Promise<Role> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  if (isBuiltin(roleRef)) return presentBuiltin(roleRef);
  const role = await findRoleFor(ctx.db, org.id, roleRef);
  if (!role) throw notFound('role', 'role_id');
  return presentRole(role);
}

export async function createRole(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: CreateRoleBody,
): Promise<Role> {
  checkKey(input.key);
  const row = await ctx.db.transaction(async (tx) => {
    const org = await reachOrganization(tx, principal, orgRef, write);
    const permissions = normalized(input.permissions ?? []);
    await requireGrantable(tx, principal, org, { base_role: input.base_role, permissions }, 'permissions');
    const created = await insertRole(tx, {
      id: uuidv7(),
      organization_id: org.id,
      root_id: org.root_id,
      key: input.key,
      name: input.name,
      description: input.description ?? null,
      base_role: input.base_role,
      permissions,
    });
    await recordAuditEvent(tx, principal, {
      action: 'role.created',
      organization: org,
      target: { type: 'role', id: created.id },
      after: presentRole(created),
    });
    return created;
  });
  return presentRole(row);
}

/** A role the organization itself defines, locked for a change, checked against If-Match and the caller's reach. */
async function reachOwnRole(
  tx: Queryable,
  principal: Principal,
  orgRef: string,
  roleRef: string,
  ifMatch: IfMatch,
) {
  const org = await reachOrganization(tx, principal, orgRef, write);
  refuseBuiltin(roleRef);
  const role = await findRoleFor(tx, org.id, roleRef, 'update');
  if (!role) throw notFound('role', 'role_id');
  if (role.organization_id !== org.id) {
    throw new ApiError(
      'forbidden',
      'This role belongs to an ancestor organization; change it there.',
      'role_id',
    );
  }
  checkIfMatch(ifMatch, role);
  await requireGrantable(tx, principal, org, role, 'role_id');
  return { org, role };
}

export async function updateRole(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  roleRef: string,
  changes: UpdateRoleBody,
  ifMatch?: IfMatch,
): Promise<Role> {
  if (changes.key !== undefined) checkKey(changes.key);
  const row = await ctx.db.transaction(async (tx) => {
    const { org, role } = await reachOwnRole(tx, principal, orgRef, roleRef, ifMatch);
    const permissions = changes.permissions && normalized(changes.permissions);
    const after = {
      base_role: changes.base_role ?? role.base_role,
      permissions: permissions ?? role.permissions,
    };
    await requireGrantable(tx, principal, org, after, changes.base_role ? 'base_role' : 'permissions');
    const updated = await updateRoleRow(tx, role.id, { ...changes, permissions });
    // Members holding the role carry its base role as their rank.
    if (updated.base_role !== role.base_role) await setHolderRanks(tx, role.id, updated.base_role);
    await recordAuditEvent(tx, principal, {
      action: 'role.updated',
      organization: org,
      target: { type: 'role', id: role.id },
      before: presentRole(role),
      after: presentRole(updated),
    });
    return updated;
  });
  return presentRole(row);
}

/** Soft-deletes a custom role nothing uses: no membership holds it and no organization names it as default. */
export async function deleteRole(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  roleRef: string,
  ifMatch?: IfMatch,
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const { org, role } = await reachOwnRole(tx, principal, orgRef, roleRef, ifMatch);
    // Grants share-lock the role before using it, so under this lock the count is final.
    if (await roleIsInUse(tx, role)) {
      throw new ApiError(
        'role_in_use',
        'Members hold this role or an organization makes it its default_role_id; change those first.',
        'role_id',
      );
    }
    await softDeleteRole(tx, role.id);
    await recordAuditEvent(tx, principal, {
      action: 'role.deleted',
      organization: org,
      target: { type: 'role', id: role.id },
      before: presentRole(role),
    });
  });
}

const presentPermission = (name: (typeof PERMISSION_NAMES)[number]): PermissionEntry => ({
  name,
  description: PERMISSIONS[name].description,
  roles: rolesHolding(name),
});

/** The published permissions, by name. */
export function listPermissions(input: ListPermissionsQuery): PageResult<PermissionEntry> {
  const page = pageRequest(input, (key) => (PERMISSION_NAMES as readonly string[]).includes(key));
  let names = [...PERMISSION_NAMES];
  if (page.after !== undefined) names = names.filter((name) => name > page.after!);
  if (page.before !== undefined) names = names.filter((name) => name < page.before!).reverse();
  const rows = names.slice(page.offset, page.offset + page.limit + 1);
  return toPage(rows, page, (name) => name, presentPermission);
}
