import type { Queryable } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import type { Principal } from '../../http/principal.js';
import { atLeast, type Role } from '../members/roles.js';
import { reachOrganization } from '../organizations/access.js';
import type { AccessibleOrganizationRow } from '../organizations/queries.js';
import {
  builtinGrant,
  customGrant,
  defaultRoleOf,
  type Grant,
  reachToAddMembers,
  requireGrantable,
  resolveGrant,
} from '../roles/grants.js';
import { needing } from '../roles/permissions.js';
import { findRoleFor } from '../roles/queries.js';

/*
 * Who may invite, and which roles an invitation, an invite link or a bulk add may grant: one
 * place each, so organization settings and custom roles change them for every route at once.
 */

/**
 * Inviting and creating invite links: admins, holders of `invitation:manage`, and plain members
 * where `members_can_invite` is on.
 */
export function reachForInviting(
  tx: Queryable,
  principal: Principal,
  orgRef: string,
): Promise<AccessibleOrganizationRow> {
  return reachToAddMembers(tx, principal, orgRef, 'invitation:manage', 'member:write');
}

/** Adding members in bulk needs what adding one member needs. */
export function reachForAddingMembers(
  tx: Queryable,
  principal: Principal,
  orgRef: string,
): Promise<AccessibleOrganizationRow> {
  return reachToAddMembers(tx, principal, orgRef, 'member:manage', 'member:write');
}

/** Reading invitations and invite links: admins and holders of `invitation:manage`. */
export function reachForReadingInvitations(
  db: Queryable,
  principal: Principal,
  orgRef: string,
): Promise<AccessibleOrganizationRow> {
  return reachOrganization(db, principal, orgRef, needing('invitation:manage', 'member:read'));
}

/**
 * The role an invitation (or a bulk entry) grants: `requested`, or the organization's default
 * role when absent. It must name a built-in or custom role valid here, and the caller grants only
 * roles at or below its own, as adding a member does.
 */
export async function resolveInvitedRole(
  tx: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
  requested: string | undefined,
  param: string,
): Promise<Grant> {
  const grant = await resolveGrant(tx, org.id, requested ?? defaultRoleOf(org), param);
  await requireGrantable(tx, principal, org, grant, param);
  return grant;
}

/**
 * The role a stored invitation or invite link grants now: its custom role as it stands (share
 * locked until the transaction ends), or its built-in role. A custom role deleted or left behind
 * by a move since refuses, rather than granting something nobody chose.
 */
export async function storedGrant(
  tx: Queryable,
  organizationId: string,
  stored: { role: string; custom_role_id: string | null },
  param: string,
): Promise<Grant> {
  if (!stored.custom_role_id) return builtinGrant(stored.role as Role);
  const role = await findRoleFor(tx, organizationId, stored.custom_role_id, 'share');
  if (!role) {
    throw new ApiError(
      'unknown_role',
      `The custom role \`${stored.role}\` this grants is no longer a role of the organization.`,
      param,
    );
  }
  return customGrant(role);
}

/** The most an invite link grants: anyone holding it joins, so never an admin or an owner. */
export const LINK_ROLE_CEILING: Role = 'member';

export async function resolveLinkRole(
  tx: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
  requested: string | undefined,
  param: string,
): Promise<Grant> {
  const grant = await resolveInvitedRole(tx, principal, org, requested, param);
  if (!atLeast(LINK_ROLE_CEILING, grant.base_role) || grant.permissions.length > 0) {
    throw new ApiError(
      'invalid_request',
      `An invite link grants at most the ${LINK_ROLE_CEILING} role, and no custom permissions.`,
      param,
    );
  }
  return grant;
}
