import type { LicensingConfig } from '../../config.js';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import { type Principal, requireScope } from '../../http/principal.js';
import { hashSecret } from '../api-keys/secrets.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { countInviteLinkUse, findInviteLinkByTokenHash } from '../invite-links/queries.js';
import { presentInviteLink } from '../invite-links/service.js';
import { presentMember } from '../members/present.js';
import { findMember } from '../members/queries.js';
import type { Member } from '../members/schemas.js';
import { admitMember } from '../members/service.js';
import { readsPrivateMetadata } from '../organizations/present.js';
import { findOrganizationById, type OrganizationRow } from '../organizations/queries.js';
import { findUserById } from '../users/queries.js';
import { storedGrant } from './policy.js';
import { findInvitationByTokenHash, markInvitationAccepted } from './queries.js';
import { presentInvitation } from './service.js';
import { INVITATION_TOKEN_PREFIX, LINK_TOKEN_PREFIX } from './tokens.js';

/*
 * One endpoint accepts both kinds of token; the prefix says which. Every refusal names only the
 * token's state, never the organization or the invited email, so a token in the wrong hands
 * tells its holder nothing about the tenant behind it.
 */

const unknownToken = () =>
  new ApiError('invitation_not_found', 'No invitation or invite link has this token.', 'token');

const refusals = {
  expired: () =>
    new ApiError('invitation_expired', 'This invitation has expired; ask for a new one.', 'token'),
  revoked: () => new ApiError('invitation_revoked', 'This invitation was revoked.', 'token'),
  accepted: () =>
    new ApiError('invitation_already_accepted', 'This invitation was already accepted.', 'token'),
  exhausted: () =>
    new ApiError('invite_link_exhausted', 'This invite link has admitted as many users as it may.', 'token'),
};

const alreadyMember = () =>
  new ApiError('already_member', 'You are already a member of this organization.', 'token');

/** The organization a token leads to, if it still exists. */
async function liveOrganization(tx: Queryable, id: string): Promise<OrganizationRow> {
  const org = await findOrganizationById(tx, id);
  if (!org || org.deleted_at) throw unknownToken();
  return org;
}

async function refuseMember(tx: Queryable, organizationId: string, userId: string) {
  if (await findMember(tx, organizationId, userId)) throw alreadyMember();
}

/** The invitation's email must be the caller's (case aside); its role becomes the membership's. */
async function acceptEmailInvitation(
  tx: Queryable,
  licensing: LicensingConfig,
  principal: Principal,
  tokenHash: string,
) {
  const invitation = await findInvitationByTokenHash(tx, tokenHash);
  if (!invitation) throw unknownToken();
  const user = await findUserById(tx, principal.userId!);
  if (!user || user.email.toLowerCase() !== invitation.email.toLowerCase()) {
    throw new ApiError(
      'invitation_email_mismatch',
      "This invitation was sent to another email address than your user's.",
      'token',
    );
  }
  if (invitation.status !== 'pending') throw refusals[invitation.status]();
  const org = await liveOrganization(tx, invitation.organization_id);
  await refuseMember(tx, org.id, user.id);
  const grant = await storedGrant(tx, org.id, invitation, 'token');
  const member = await admitMember(tx, licensing, principal, org, {
    userId: user.id,
    role: grant.base_role,
    customRoleId: grant.custom_role_id,
  });
  const accepted = await markInvitationAccepted(tx, invitation.id, user.id);
  await recordAuditEvent(tx, principal, {
    action: 'invitation.accepted',
    organization: org,
    target: { type: 'invitation', id: invitation.id },
    before: presentInvitation(invitation),
    after: presentInvitation(accepted),
  });
  return presentMember(member, org.id, readsPrivateMetadata(member.role));
}

/** Any user who is not yet a member joins with the link's role, while it has uses left. */
async function acceptInviteLink(
  tx: Queryable,
  licensing: LicensingConfig,
  principal: Principal,
  tokenHash: string,
) {
  const link = await findInviteLinkByTokenHash(tx, tokenHash);
  if (!link) throw unknownToken();
  if (link.status !== 'active') throw refusals[link.status]();
  const org = await liveOrganization(tx, link.organization_id);
  const userId = principal.userId!;
  await refuseMember(tx, org.id, userId);
  const grant = await storedGrant(tx, org.id, link, 'token');
  const member = await admitMember(tx, licensing, principal, org, {
    userId,
    role: grant.base_role,
    customRoleId: grant.custom_role_id,
  });
  const used = await countInviteLinkUse(tx, link.id);
  await recordAuditEvent(tx, principal, {
    action: 'invite_link.accepted',
    organization: org,
    target: { type: 'invite_link', id: link.id },
    before: presentInviteLink(link),
    after: presentInviteLink(used),
  });
  return presentMember(member, org.id, readsPrivateMetadata(member.role));
}

/** Joins the organization an invitation or invite link token leads to, as the calling user. */
export async function acceptInvitation(
  ctx: AppContext,
  principal: Principal,
  token: string,
): Promise<Member> {
  if (principal.kind !== 'user') {
    throw new ApiError('forbidden', 'Only a user accepts an invitation: call with a personal key.');
  }
  requireScope(principal, 'member:write');
  const tokenHash = hashSecret(token);
  if (token.startsWith(INVITATION_TOKEN_PREFIX)) {
    return ctx.db.transaction((tx) => acceptEmailInvitation(tx, ctx.config.licensing, principal, tokenHash));
  }
  if (token.startsWith(LINK_TOKEN_PREFIX)) {
    return ctx.db.transaction((tx) => acceptInviteLink(tx, ctx.config.licensing, principal, tokenHash));
  }
  throw unknownToken();
}
