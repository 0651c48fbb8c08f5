import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { checkMetadata } from '../../http/metadata.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import { type Principal, requireAdmin, requireScope } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { revokeUserKeys } from '../api-keys/queries.js';
import { announceCredentialChange, forgetCredentials } from '../api-keys/revocations.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { deleteUserMemberships, organizationsOnlyOwnedBy } from '../members/queries.js';
import { presentUser } from './present.js';
import {
  findUserById,
  insertUser,
  listUsers as listUserRows,
  lockOrganizationsOwnedBy,
  softDeleteUser,
  type UserRow,
  updateUser as updateUserRow,
  userInSubtree,
} from './queries.js';
import type { CreateUserBody, ListUsersQuery, UpdateUserBody, User } from './schemas.js';

/**
 * A user the caller may see: admins see all, a user sees itself, an organization key its members.
 * With `ifMatch` the row is locked and checked against it.
 */
async function reachUser(
  db: Queryable,
  principal: Principal,
  userId: string,
  ifMatch?: IfMatch,
): Promise<UserRow> {
  const user = await findUserById(db, userId, ifMatch !== undefined);
  if (!user || !(await mayReach(db, principal, user))) throw notFound('user', 'user_id');
  checkIfMatch(ifMatch, user);
  return user;
}

async function mayReach(db: Queryable, principal: Principal, user: UserRow): Promise<boolean> {
  if (principal.kind === 'admin') return true;
  if (principal.kind === 'user') return principal.userId === user.id;
  return userInSubtree(db, user.id, principal.organizationId!);
}

export async function createUser(
  ctx: AppContext,
  principal: Principal,
  input: CreateUserBody,
): Promise<User> {
  requireScope(principal, 'user:write');
  requireAdmin(principal);
  checkMetadata(input.metadata);
  const row = await ctx.db.transaction(async (tx) => {
    const created = await insertUser(tx, {
      id: uuidv7(),
      email: input.email,
      name: input.name ?? null,
      externalId: input.external_id ?? null,
      metadata: input.metadata ?? {},
    });
    await recordAuditEvent(tx, principal, {
      action: 'user.created',
      organization: null,
      target: { type: 'user', id: created.id },
      after: presentUser(created),
    });
    return created;
  });
  return presentUser(row);
}

export async function listUsers(
  ctx: AppContext,
  principal: Principal,
  input: ListUsersQuery,
): Promise<PageResult<User>> {
  requireScope(principal, 'user:read');
  const page = pageRequest(input, isUuid);
  const rows = await listUserRows(
    ctx.db,
    {
      email: input.email,
      onlyId: principal.kind === 'user' ? principal.userId! : undefined,
      memberOfSubtree: principal.kind === 'organization' ? principal.organizationId! : undefined,
    },
    page,
  );
  return toPage(rows, page, (row) => row.id, presentUser);
}

export async function getUser(ctx: AppContext, principal: Principal, userId: string): Promise<User> {
  requireScope(principal, 'user:read');
  return presentUser(await reachUser(ctx.db, principal, userId));
}

/** Admins change anyone; a user changes itself. Organization keys cannot edit people. */
export async function updateUser(
  ctx: AppContext,
  principal: Principal,
  userId: string,
  changes: UpdateUserBody,
  ifMatch?: IfMatch,
): Promise<User> {
  requireScope(principal, 'user:write');
  checkMetadata(changes.metadata);
  const row = await ctx.db.transaction(async (tx) => {
    const user = await reachUser(tx, principal, userId, ifMatch);
    if (principal.kind === 'organization')
      throw new ApiError('forbidden', 'Organization keys cannot edit users.');
    if (changes.email === null) throw new ApiError('invalid_request', 'email cannot be null.', 'email');
    const updated = await updateUserRow(tx, user.id, changes);
    // A JWT whose `sub` was this user's external_id must stop reaching it at once, everywhere.
    if (changes.external_id !== undefined) await announceCredentialChange(tx, { user: user.id });
    await recordAuditEvent(tx, principal, {
      action: 'user.updated',
      organization: null,
      target: { type: 'user', id: user.id },
      before: presentUser(user),
      after: presentUser(updated),
    });
    return updated;
  });
  if (changes.external_id !== undefined) forgetCredentials(ctx, { user: userId });
  return presentUser(row);
}

/**
 * Soft-deletes a user, removing its memberships and revoking its keys in the same transaction.
 * Refused while it is the only owner of an organization, which would be left without one.
 */
export async function deleteUser(
  ctx: AppContext,
  principal: Principal,
  userId: string,
  ifMatch?: IfMatch,
): Promise<void> {
  requireScope(principal, 'user:write');
  await ctx.db.transaction(async (tx) => {
    const user = await reachUser(tx, principal, userId, ifMatch);
    if (principal.kind === 'organization')
      throw new ApiError('forbidden', 'Organization keys cannot delete users.');
    await lockOrganizationsOwnedBy(tx, user.id);
    const orphaned = await organizationsOnlyOwnedBy(tx, user.id);
    if (orphaned.length > 0) {
      throw new ApiError(
        'last_owner',
        `The user is the only owner of ${orphaned.length} organization(s); transfer ownership first.`,
        'user_id',
      );
    }
    await deleteUserMemberships(tx, user.id);
    await revokeUserKeys(tx, user.id);
    await announceCredentialChange(tx, { user: user.id });
    await softDeleteUser(tx, user.id);
    await recordAuditEvent(tx, principal, {
      action: 'user.deleted',
      organization: null,
      target: { type: 'user', id: user.id },
      before: presentUser(user),
    });
  });
  forgetCredentials(ctx, { user: userId });
}
