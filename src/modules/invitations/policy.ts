import type { Queryable } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import type { Principal } from '../../http/principal.js';
import { atLeast, ROLES, type Role } from '../members/roles.js';
import { requireRoleAtLeast } from '../members/service.js';
import { reachOrganization } from '../organizations/access.js';
import type { AccessibleOrganizationRow } from '../organizations/queries.js';

/*
 * Who may invite, and which roles an invitation, an invite link or a bulk add may grant: one
 * place each, so organization settings and custom roles change them for every route at once.
 */

/**
 * Inviting, creating invite links and adding members in bulk need what adding one member needs:
 * the admin role and `member:write`.
 */
export function reachForInviting(
  tx: Queryable,
  principal: Principal,
  orgRef: string,
): Promise<AccessibleOrganizationRow> {
  return reachOrganization(tx, principal, orgRef, { role: 'admin', scope: 'member:write' });
}

/** Reading invitations and invite links needs the admin role and `member:read`. */
export function reachForReadingInvitations(
  db: Queryable,
  principal: Principal,
  orgRef: string,
): Promise<AccessibleOrganizationRow> {
  return reachOrganization(db, principal, orgRef, { role: 'admin', scope: 'member:read' });
}

const DEFAULT_ROLE: Role = 'member';

/**
 * The role an invitation (or a bulk entry) grants: `requested`, or the default when absent. It
 * must name a role, and the caller grants only roles at or below its own, as adding a member does.
 */
export async function resolveInvitedRole(
  _tx: Queryable,
  org: AccessibleOrganizationRow,
  requested: string | undefined,
  param: string,
): Promise<Role> {
  const role = requested ?? DEFAULT_ROLE;
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ApiError('invalid_request', `\`role\` must be one of ${ROLES.join(', ')}.`, param);
  }
  requireRoleAtLeast(org, role as Role, param);
  return role as Role;
}

/** The most an invite link grants: anyone holding it joins, so never an admin or an owner. */
export const LINK_ROLE_CEILING: Role = 'member';

export async function resolveLinkRole(
  tx: Queryable,
  org: AccessibleOrganizationRow,
  requested: string | undefined,
  param: string,
): Promise<Role> {
  const role = await resolveInvitedRole(tx, org, requested, param);
  if (!atLeast(LINK_ROLE_CEILING, role)) {
    throw new ApiError(
      'invalid_request',
      `An invite link grants at most the ${LINK_ROLE_CEILING} role.`,
      param,
    );
  }
  return role;
}
