import type { Queryable } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import type { Principal, Scope } from '../../http/principal.js';
import { atLeast, ROLES, type Role } from '../members/roles.js';
import { callerPermissions, holds, reachOrganization } from '../organizations/access.js';
import type { AccessibleOrganizationRow } from '../organizations/queries.js';
import { needing, type Permission } from './permissions.js';
import { findRoleById, findRoleFor, type RoleRow } from './queries.js';

/** A role as a membership holds it: a built-in role, or a custom role and its base rank. */
export interface Grant {
  /** What the API shows as `role`: the built-in name or the custom role's key. */
  name: string;
  /** The built-in name or the custom role's id. */
  id: string;
  base_role: Role;
  /** What a custom role adds to its base role; empty for built-in roles. */
  permissions: Permission[];
  custom_role_id: string | null;
}

const isBuiltin = (ref: string): ref is Role => (ROLES as readonly string[]).includes(ref);

export const builtinGrant = (role: Role): Grant => ({
  name: role,
  id: role,
  base_role: role,
  permissions: [],
  custom_role_id: null,
});

export const customGrant = (role: RoleRow): Grant => ({
  name: role.key,
  id: role.id,
  base_role: role.base_role,
  permissions: role.permissions,
  custom_role_id: role.id,
});

/**
 * The role `ref` names for the organization: a built-in name, or the key or id of a live custom
 * role of the organization or an ancestor. A custom role is share-locked until the transaction
 * ends, so it cannot be deleted or changed between this check and the write that uses it.
 */
export async function resolveGrant(
  db: Queryable,
  organizationId: string,
  ref: string,
  param: string,
): Promise<Grant> {
  if (isBuiltin(ref)) return builtinGrant(ref);
  const role = await findRoleFor(db, organizationId, ref, 'share');
  if (!role) {
    throw new ApiError(
      'unknown_role',
      `No role \`${ref}\`: name a built-in role or a custom role of this organization or an ancestor.`,
      param,
    );
  }
  return customGrant(role);
}

/** The role a membership holds now. */
export async function grantOf(
  db: Queryable,
  member: { role: Role; custom_role_id: string | null },
): Promise<Grant> {
  if (!member.custom_role_id) return builtinGrant(member.role);
  const role = await findRoleById(db, member.custom_role_id);
  return role ? customGrant(role) : builtinGrant(member.role);
}

/**
 * A caller grants, changes, removes, creates or edits only roles at or below its own: a base rank
 * no higher than its rank, and no permission it does not hold itself.
 */
export async function requireGrantable(
  db: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
  grant: Pick<Grant, 'base_role' | 'permissions'>,
  param: string | null,
): Promise<void> {
  if (!atLeast(org.caller_role, grant.base_role)) {
    throw new ApiError(
      'forbidden',
      `Only a caller with the ${grant.base_role} role can manage ${grant.base_role}s.`,
      param,
    );
  }
  if (grant.permissions.length === 0) return;
  const held = await callerPermissions(db, principal, org);
  const missing = grant.permissions.filter((permission) => !held.has(permission));
  if (missing.length > 0) {
    throw new ApiError(
      'forbidden',
      `The role grants ${missing.join(', ')}, which the caller does not hold itself.`,
      param,
    );
  }
}

/**
 * Reaches an organization to add people to it (members now, invitations too): admins and callers
 * whose custom role grants `permission` may, and so may plain members where the organization's
 * `members_can_invite` is on. What they may grant is then limited by `requireGrantable`.
 */
export async function reachToAddMembers(
  db: Queryable,
  principal: Principal,
  orgRef: string,
  permission: Extract<Permission, 'member:manage' | 'invitation:manage'>,
  scope: Scope,
): Promise<AccessibleOrganizationRow> {
  const org = await reachOrganization(db, principal, orgRef, { role: 'viewer', scope });
  if (await holds(db, principal, org, needing(permission, scope))) return org;
  if (org.settings.members_can_invite === true && atLeast(org.caller_role, 'member')) return org;
  throw new ApiError(
    'forbidden',
    `This needs the admin role or the ${permission} permission (or, where members_can_invite is on, the member role).`,
  );
}

/** The role a new member gets when none is named: the organization's `default_role_id`, else member. */
export function defaultRoleOf(org: { settings: Record<string, unknown> }): string {
  const configured = org.settings.default_role_id;
  return typeof configured === 'string' && configured ? configured : 'member';
}

/**
 * `settings.default_role_id` as it is stored: a built-in name or the id of a custom role valid
 * for the organization (`org`; null for a new top-level organization, which has no custom roles
 * yet). Owner is refused, and a caller may only name a default it could grant itself.
 */
export async function defaultRoleSetting(
  db: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow | null,
  ref: string,
  current?: unknown,
): Promise<string> {
  const param = 'settings.default_role_id';
  if (ref === 'owner') throw new ApiError('invalid_request', 'The owner role cannot be a default.', param);
  if (!org && !isBuiltin(ref)) {
    throw new ApiError(
      'unknown_role',
      `No role \`${ref}\`: a new organization has only built-in roles.`,
      param,
    );
  }
  const grant = org ? await resolveGrant(db, org.id, ref, param) : builtinGrant(ref as Role);
  if (org && grant.id !== current) await requireGrantable(db, principal, org, grant, param);
  return grant.id;
}
