import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import { type Principal, requireScope, type Scope } from '../../http/principal.js';
import { findCallerGrants } from '../members/queries.js';
import { atLeast, type Role } from '../members/roles.js';
import { builtinPermissions, type Permission } from '../roles/permissions.js';
import { type AccessibleOrganizationRow, findOrganizationForCaller } from './queries.js';

export interface Need {
  role: Role;
  scope: Scope;
  /**
   * A permission that lets a caller below `role` through when a custom role it holds on the
   * organization or an ancestor grants it. Use `needing(permission, scope)` from
   * `roles/permissions.ts` to get the matching role too. Without it the check is by rank only.
   */
  permission?: Permission;
  includeDeleted?: boolean;
  /** Lock the row for the rest of the transaction (and read the caller's role after the lock). */
  lock?: boolean;
  /** The write's If-Match, checked against the locked row once access is established. */
  ifMatch?: IfMatch;
}

/** What `checkAccess` reads of an organization row. */
interface Reached {
  caller_role: Role | null;
  /** Permissions the caller's custom roles on the path grant; loaded only when a need asks. */
  caller_permissions?: Permission[];
  personal_keys_refused?: boolean;
  two_factor_refused?: boolean;
}

/**
 * Loads an organization the principal may act on. 404 when the caller cannot see it at all,
 * so a stranger cannot learn that it exists; 403 when it can see it but lacks role or scope.
 */
export async function reachOrganization(
  db: Queryable,
  principal: Principal,
  ref: string,
  need: Need,
  param = 'org',
): Promise<AccessibleOrganizationRow> {
  const org = await findOrganizationForCaller(db, principal, ref, {
    includeDeleted: need.includeDeleted ?? false,
    lock: need.lock,
  });
  if (org && need.lock && principal.kind === 'user') {
    // That statement read the caller's role before its row lock was granted: a caller demoted
    // or removed by the transaction it waited for must not act with the role it had.
    const grants = await findCallerGrants(db, principal.userId!, [...org.ancestor_ids, org.id]);
    org.caller_role = grants.role;
    org.caller_permissions = grants.permissions;
  } else if (org?.caller_role && need.permission && !atLeast(org.caller_role, need.role)) {
    await loadCallerPermissions(db, principal, org);
  }
  const reached = checkAccess(principal, org, need, param);
  checkIfMatch(need.ifMatch, reached);
  return reached;
}

/**
 * Reads the permissions the caller's custom roles grant on the organization, once. The common
 * statement that reaches an organization does not: only callers whose rank falls short of a need
 * that names a permission pay this second round trip.
 */
async function loadCallerPermissions(db: Queryable, principal: Principal, org: AccessibleOrganizationRow) {
  if (org.caller_permissions || principal.kind !== 'user') return;
  const grants = await findCallerGrants(db, principal.userId!, [...org.ancestor_ids, org.id]);
  org.caller_permissions = grants.permissions;
}

/** The checks of `reachOrganization`, for statements that fetched the organization themselves. */
export function checkAccess<T extends Reached>(
  principal: Principal,
  org: T | undefined,
  need: Pick<Need, 'role' | 'scope' | 'permission'>,
  param = 'org',
): T {
  if (!org?.caller_role) throw notFound('organization', param);
  if (principal.kind === 'user' && org.personal_keys_refused) {
    throw new ApiError('personal_api_keys_disabled', 'This organization does not accept personal API keys.');
  }
  if (org.two_factor_refused) {
    throw new ApiError(
      'two_factor_required',
      'This organization requires a sign-in with a second factor; the `amr` claim of the token shows none.',
    );
  }
  requireScope(principal, need.scope);
  if (!meets(org, need)) {
    const or = need.permission ? ` or the ${need.permission} permission` : '';
    throw new ApiError('forbidden', `This needs the ${need.role} role${or} on the organization.`);
  }
  return org;
}

function meets(org: Reached, need: Pick<Need, 'role' | 'permission'>): boolean {
  if (atLeast(org.caller_role, need.role)) return true;
  return need.permission !== undefined && (org.caller_permissions ?? []).includes(need.permission);
}

/**
 * Whether the caller, already past `reachOrganization` on `org`, also meets another need there
 * (role or permission), without throwing. Scope and visibility were checked when it was reached.
 */
export async function holds(
  db: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
  need: Pick<Need, 'role' | 'permission'>,
): Promise<boolean> {
  if (atLeast(org.caller_role, need.role)) return true;
  if (!need.permission || !org.caller_role) return false;
  await loadCallerPermissions(db, principal, org);
  return meets(org, need);
}

/**
 * Every permission the caller holds on the organization: those of its built-in rank and those its
 * custom roles on the path grant. Admins, owners, organization keys and admin keys hold them all.
 */
export async function callerPermissions(
  db: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
): Promise<Set<Permission>> {
  const held = new Set(builtinPermissions(org.caller_role));
  if (!atLeast(org.caller_role, 'admin')) {
    await loadCallerPermissions(db, principal, org);
    for (const permission of org.caller_permissions ?? []) held.add(permission);
  }
  return held;
}
