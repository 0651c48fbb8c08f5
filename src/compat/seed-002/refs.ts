import { ApiError } from '../../http/errors.js';
import type { Principal } from '../../http/principal.js';

/**
 * PostHog's `@current` is the caller's current organization. Only an organization key has one
 * that is not a guess: its own. Anything else is an id or a slug, passed on as it is.
 */
export function organizationRef(principal: Principal, ref: string, param: string): string {
  if (ref !== '@current') return ref;
  if (principal.kind === 'organization') return principal.organizationId!;
  throw new ApiError('not_found', 'Only an organization key has a current organization (`@current`).', param);
}
