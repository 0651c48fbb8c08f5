import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { bulkStatus, duplicateEntry, presentEntryError } from '../../http/bulk.js';
import { ApiError, notFound } from '../../http/errors.js';
import type { Principal } from '../../http/principal.js';
import { isEmail, isUuid } from '../../http/schemas.js';
import { reachForAddingMembers, resolveInvitedRole } from '../invitations/policy.js';
import { readsPrivateMetadata } from '../organizations/present.js';
import type { AccessibleOrganizationRow } from '../organizations/queries.js';
import { deleteNewUsers, findOrCreateUsersByEmails, liveUserIds } from '../users/queries.js';
import { presentMember } from './present.js';
import type { Role } from './roles.js';
import type { BulkAddMembersAnswer, BulkAddMembersBody, Member } from './schemas.js';
import { admitMembers } from './service.js';

type Outcome = { member: Member } | { error: ApiError };

interface Planned {
  index: number;
  /** The built-in rank granted: the role itself, or the base role of `customRoleId`. */
  role: Role;
  customRoleId: string | null;
  email?: string;
  userId?: string;
}

const param = (index: number, field: string) => `members[${index}].${field}`;

/** The field of entry `index` a refusal from the admission path is about. */
function entryParam(refusal: ApiError, index: number, identity: string): string | null {
  if (!refusal.param) return null;
  // Admission names the user as `user_id`; the entry may have named it by email.
  if (refusal.param === 'user_id' || refusal.param === 'email') return param(index, identity);
  return param(index, refusal.param);
}

/** Checks each entry's values: exactly one of email and user id, each well formed, a grantable role. */
async function planEntries(
  tx: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
  entries: BulkAddMembersBody['members'],
  outcomes: Outcome[],
): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const [index, entry] of entries.entries()) {
    try {
      if (!entry.email === !entry.user_id) {
        throw new ApiError(
          'invalid_request',
          'Give exactly one of `email` or `user_id`.',
          param(index, entry.email ? 'user_id' : 'email'),
        );
      }
      if (entry.email !== undefined && !isEmail(entry.email)) {
        throw new ApiError('invalid_request', '`email` must be an email address.', param(index, 'email'));
      }
      if (entry.user_id !== undefined && !isUuid(entry.user_id)) {
        throw new ApiError('invalid_request', '`user_id` must be a UUID.', param(index, 'user_id'));
      }
      const grant = await resolveInvitedRole(tx, principal, org, entry.role, param(index, 'role'));
      planned.push({
        index,
        role: grant.base_role,
        customRoleId: grant.custom_role_id,
        email: entry.email,
        userId: entry.user_id?.toLowerCase(),
      });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      outcomes[index] = { error };
    }
  }
  return planned;
}

/**
 * The user each entry names, looked up (and for unknown emails created) in two statements for
 * all entries; entries naming a user an earlier entry named are duplicates.
 */
async function resolveUsers(tx: Queryable, planned: Planned[], outcomes: Outcome[]) {
  const ids = planned.flatMap((entry) => (entry.userId ? [entry.userId] : []));
  const emails = planned.flatMap((entry) => (entry.email ? [entry.email] : []));
  const live = ids.length > 0 ? await liveUserIds(tx, ids) : new Set<string>();
  const { byEmail, created } =
    emails.length > 0
      ? await findOrCreateUsersByEmails(tx, emails)
      : { byEmail: new Map(), created: new Set() };
  const firstByUser = new Map<string, number>();
  const resolved: (Planned & { userId: string; role: Role })[] = [];
  for (const entry of planned) {
    const userId = entry.email ? byEmail.get(entry.email.toLowerCase()) : entry.userId;
    if (!userId || (entry.userId && !live.has(userId))) {
      outcomes[entry.index] = { error: notFound('user', param(entry.index, 'user_id')) };
      continue;
    }
    const first = firstByUser.get(userId);
    if (first !== undefined) {
      outcomes[entry.index] = {
        error: duplicateEntry(param(entry.index, entry.email ? 'email' : 'user_id'), first),
      };
      continue;
    }
    firstByUser.set(userId, entry.index);
    resolved.push({ ...entry, userId });
  }
  return { resolved, created: created as Set<string> };
}

/**
 * Adds up to a thousand members in one transaction, through the same admission path as a single
 * add, in a fixed number of statements. An entry refused on its own (already a member, no seat
 * left) is simply not written, so it undoes nothing of the others; a failure of the request
 * leaves none of them behind.
 */
export async function bulkAddMembers(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: BulkAddMembersBody,
): Promise<BulkAddMembersAnswer> {
  const outcomes = await ctx.db.transaction(async (tx) => {
    const org = await reachForAddingMembers(tx, principal, orgRef);
    const outcomes: Outcome[] = new Array(input.members.length);
    const planned = await planEntries(tx, principal, org, input.members, outcomes);
    const { resolved, created } = await resolveUsers(tx, planned, outcomes);
    const admitted = await admitMembers(tx, ctx.config.licensing, principal, org, resolved);
    const joined = new Set<string>();
    resolved.forEach((entry, i) => {
      const result = admitted[i]!;
      if (result instanceof ApiError) {
        const identity = entry.email ? 'email' : 'user_id';
        const error = new ApiError(result.code, result.message, entryParam(result, entry.index, identity));
        outcomes[entry.index] = { error };
      } else {
        joined.add(entry.userId);
        outcomes[entry.index] = {
          member: presentMember(result, org.id, readsPrivateMetadata(org.caller_role)),
        };
      }
    });
    // Users this request created for entries that were then refused are not left behind.
    await deleteNewUsers(
      tx,
      [...created].filter((id) => !joined.has(id)),
    );
    return outcomes;
  });
  const results = outcomes.map((outcome, index) =>
    'error' in outcome
      ? { index, status: bulkStatus(outcome.error), member: null, error: presentEntryError(outcome.error) }
      : { index, status: 'created' as const, member: outcome.member, error: null },
  );
  const createdCount = results.filter((result) => result.status === 'created').length;
  return { results, created: createdCount, refused: results.length - createdCount };
}
