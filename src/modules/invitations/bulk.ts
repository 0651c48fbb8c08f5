import type { AppContext } from '../../context.js';
import { bulkStatus, presentEntryError } from '../../http/bulk.js';
import type { Principal } from '../../http/principal.js';
import { reachForInviting } from './policy.js';
import type { BulkInvitationsAnswer, BulkInvitationsBody } from './schemas.js';
import { inviteEmails } from './service.js';

/**
 * Up to a thousand invitations in one transaction: each entry is created or refused on its own
 * (its result says which), and a failure of the request itself leaves none of them behind.
 */
export async function bulkInvite(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: BulkInvitationsBody,
): Promise<BulkInvitationsAnswer> {
  const outcomes = await ctx.db.transaction(async (tx) => {
    const org = await reachForInviting(tx, principal, orgRef);
    return inviteEmails(
      tx,
      principal,
      org,
      input.invitations,
      (index, field) => `invitations[${index}].${field}`,
    );
  });
  const results = outcomes.map((outcome, index) =>
    'error' in outcome
      ? {
          index,
          status: bulkStatus(outcome.error),
          invitation: null,
          error: presentEntryError(outcome.error),
        }
      : { index, status: 'created' as const, invitation: outcome.invitation, error: null },
  );
  const created = results.filter((result) => result.status === 'created').length;
  return { results, created, refused: results.length - created };
}
