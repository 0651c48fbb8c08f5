import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import { type Principal, requireScope, type Scope } from '../../http/principal.js';
import { findCallerRole } from '../members/queries.js';
import { atLeast, type Role } from '../members/roles.js';
import { type AccessibleOrganizationRow, findOrganizationForCaller } from './queries.js';

export interface Need {
  role: Role;
  scope: Scope;
  includeDeleted?: boolean;
  /** Lock the row for the rest of the transaction (and read the caller's role after the lock). */
  lock?: boolean;
  /** The write's If-Match, checked against the locked row once access is established. */
  ifMatch?: IfMatch;
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
    org.caller_role = await findCallerRole(db, principal.userId!, [...org.ancestor_ids, org.id]);
  }
  const reached = checkAccess(principal, org, need, param);
  checkIfMatch(need.ifMatch, reached);
  return reached;
}

/** What a statement that found an organization for a caller says about the caller there. */
type CallerView = { caller_role: Role | null; personal_keys_refused?: boolean; two_factor_refused?: boolean };

/** The checks of `reachOrganization`, for statements that fetched the organization themselves. */
export function checkAccess<T extends CallerView>(
  principal: Principal,
  org: T | undefined,
  need: Pick<Need, 'role' | 'scope'>,
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
  if (!atLeast(org.caller_role, need.role)) {
    throw new ApiError('forbidden', `This needs the ${need.role} role on the organization.`);
  }
  return org;
}
