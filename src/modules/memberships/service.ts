import type { AppContext } from '../../context.js';
import { ApiError, notFound } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { type Principal, requireScope } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { findUserById, userInSubtree } from '../users/queries.js';
import { listUserMemberships as listRows, type UserMembershipRow } from './queries.js';
import type { ListUserMembershipsQuery, UserMembership } from './schemas.js';

function present(row: UserMembershipRow): UserMembership {
  return {
    organization_id: row.organization_id,
    user_id: row.user_id,
    role: row.role,
    public_metadata: row.public_metadata,
    organization: { id: row.organization_id, slug: row.organization_slug, name: row.organization_name },
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/**
 * Admin keys read anyone's memberships and a user its own. Anyone else gets 404, so a stranger
 * cannot learn the user exists; an organization key that can see the user (a member of its
 * subtree) gets 403, since the list spans organizations outside its own.
 */
async function checkReach(ctx: AppContext, principal: Principal, userId: string): Promise<void> {
  if (principal.kind === 'user' && principal.userId === userId) return;
  if (principal.kind === 'admin') {
    if (!(await findUserById(ctx.db, userId))) throw notFound('user', 'user_id');
    return;
  }
  if (principal.kind === 'organization' && (await userInSubtree(ctx.db, userId, principal.organizationId!))) {
    throw new ApiError('forbidden', "Only an admin key or the user itself may list a user's memberships.");
  }
  throw notFound('user', 'user_id');
}

async function listFor(
  ctx: AppContext,
  userId: string,
  input: ListUserMembershipsQuery,
): Promise<PageResult<UserMembership>> {
  const page = pageRequest(input, isUuid);
  const rows = await listRows(ctx.db, userId, { role: input.role }, page);
  return toPage(rows, page, (row) => row.organization_id, present);
}

export async function listUserMemberships(
  ctx: AppContext,
  principal: Principal,
  userId: string,
  input: ListUserMembershipsQuery,
): Promise<PageResult<UserMembership>> {
  requireScope(principal, 'member:read');
  await checkReach(ctx, principal, userId);
  return listFor(ctx, userId, input);
}

/** The calling user's memberships; admin and organization keys act for no user and have none. */
export async function listMyMemberships(
  ctx: AppContext,
  principal: Principal,
  input: ListUserMembershipsQuery,
): Promise<PageResult<UserMembership>> {
  requireScope(principal, 'member:read');
  if (principal.kind !== 'user') {
    throw new ApiError('forbidden', 'Only a personal API key acts for a user with memberships.');
  }
  return listFor(ctx, principal.userId!, input);
}
