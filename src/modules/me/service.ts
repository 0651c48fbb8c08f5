import type { AppContext } from '../../context.js';
import type { Principal } from '../../http/principal.js';
import { presentInFull } from '../organizations/present.js';
import { findOrganizationById } from '../organizations/queries.js';
import { presentUser } from '../users/present.js';
import { findUserById } from '../users/queries.js';

export async function describeCaller(ctx: AppContext, principal: Principal) {
  const user = principal.userId ? await findUserById(ctx.db, principal.userId) : undefined;
  const organization = principal.organizationId
    ? await findOrganizationById(ctx.db, principal.organizationId)
    : undefined;
  return {
    principal: principal.kind,
    api_key_id: principal.keyId,
    scopes: [...principal.scopes],
    authentication: {
      method: principal.via,
      amr: [...principal.authMethods],
      second_factor: principal.secondFactor,
    },
    user: user ? presentUser(user) : null,
    // An organization key acts as an admin of its organization: it reads the private metadata too.
    organization: organization ? presentInFull(organization) : null,
  };
}
