import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { checkAccess, reachOrganization } from '../organizations/access.js';
import type { AccessibleOrganizationRow } from '../organizations/queries.js';
import {
  defaultRoleOf,
  grantOf,
  reachToAddMembers,
  requireGrantable,
  resolveGrant,
} from '../roles/grants.js';
import { needing } from '../roles/permissions.js';
import { findOrCreateUserByEmail, findUserById } from '../users/queries.js';
import {
  countOtherOwners,
  deleteMembership,
  findMember,
  insertMembership,
  listDirectMembersForCaller,
  listEffectiveMembers,
  type MemberPageRow,
  type MemberRow,
  updateMemberRole,
} from './queries.js';
import { lockTrees } from './reach.js';
import type { AddMemberBody, ListMembersQuery, Member, TransferOwnershipBody } from './schemas.js';

export function presentMember(row: MemberRow, organizationId: string): Member {
  return {
    organization_id: organizationId,
    user_id: row.user_id,
    email: row.email,
    name: row.name,
    external_id: row.external_id,
    role: row.custom_role_key ?? row.role,
    role_id: row.custom_role_id ?? row.role,
    base_role: row.role,
    inherited: row.via_organization_id !== organizationId,
    via_organization_id: row.via_organization_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const manageMembers = needing('member:manage', 'member:write');

export async function listMembers(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListMembersQuery,
): Promise<PageResult<Member>> {
  const page = pageRequest(input, isUuid);
  const filter = { role: input.role };
  const need = { role: 'viewer', scope: 'member:read' } as const;
  if (input.include_inherited) {
    const org = await reachOrganization(ctx.db, principal, orgRef, need);
    const rows = await listEffectiveMembers(ctx.db, [...org.ancestor_ids, org.id], filter, page);
    return toPage(
      rows,
      page,
      (row) => row.user_id,
      (row) => presentMember(row, org.id),
    );
  }
  const rows = await listDirectMembersForCaller(ctx.db, principal, orgRef, filter, page);
  const first = rows[0];
  checkAccess(
    principal,
    first && { caller_role: first.target_role, personal_keys_refused: first.target_personal_keys_refused },
    need,
  );
  const members = rows.filter((row): row is MemberPageRow & MemberRow => row.user_id != null);
  return toPage(
    members,
    page,
    (row) => row.user_id,
    (row) => presentMember(row, row.target_id),
  );
}

export async function addMember(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: AddMemberBody,
): Promise<Member> {
  if (!input.email === !input.user_id) {
    throw new ApiError(
      'invalid_request',
      'Give exactly one of `email` or `user_id`.',
      input.email ? 'user_id' : 'email',
    );
  }
  const row = await ctx.db.transaction(async (tx) => {
    const org = await reachToAddMembers(tx, principal, orgRef, 'member:manage', 'member:write');
    // Under the tree lock a concurrent move of this subtree is either done or waits, so the role
    // is resolved against the organization's path as it will stay.
    await lockTrees(tx, [org.root_id]);
    const grant = await resolveGrant(tx, org.id, input.role ?? defaultRoleOf(org), 'role');
    await requireGrantable(tx, principal, org, grant, 'role');
    let userId: string;
    if (input.user_id) {
      const user = await findUserById(tx, input.user_id);
      if (!user) throw notFound('user', 'user_id');
      userId = user.id;
    } else {
      userId = (await findOrCreateUserByEmail(tx, uuidv7(), input.email!)).id;
    }
    await insertMembership(tx, org.id, org.root_id, userId, grant.base_role, grant.custom_role_id);
    const added = (await findMember(tx, org.id, userId))!;
    await recordAuditEvent(tx, principal, {
      action: 'member.added',
      organization: org,
      target: { type: 'member', id: `${org.id}/${userId}` },
      after: presentMember(added, org.id),
    });
    return added;
  });
  return presentMember(row, row.organization_id);
}

export async function getMember(ctx: AppContext, principal: Principal, orgRef: string, userId: string) {
  const org = await reachOrganization(ctx.db, principal, orgRef, { role: 'viewer', scope: 'member:read' });
  const member = await findMember(ctx.db, org.id, userId);
  if (!member) throw notFound('member', 'user_id');
  return presentMember(member, org.id);
}

/** Refuses a change that would leave the organization (and its ancestors) with no owner. */
async function keepAnOwner(tx: Queryable, org: AccessibleOrganizationRow, member: MemberRow) {
  if (member.role !== 'owner') return;
  const others = await countOtherOwners(tx, org.id, [...org.ancestor_ids, org.id], member.user_id);
  if (others === 0) {
    throw new ApiError('last_owner', 'An organization must keep at least one owner.', 'user_id');
  }
}

export async function updateMember(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  userId: string,
  role: string,
  ifMatch?: IfMatch,
): Promise<Member> {
  const row = await ctx.db.transaction(async (tx) => {
    // The row lock serialises concurrent role changes, so two demotions cannot both pass the owner count.
    const org = await reachOrganization(tx, principal, orgRef, { ...manageMembers, lock: true });
    const member = await findMember(tx, org.id, userId);
    if (!member) throw notFound('member', 'user_id');
    checkIfMatch(ifMatch, member);
    await requireGrantable(tx, principal, org, await grantOf(tx, member), 'user_id');
    const grant = await resolveGrant(tx, org.id, role, 'role');
    await requireGrantable(tx, principal, org, grant, 'role');
    if (grant.base_role !== 'owner') await keepAnOwner(tx, org, member);
    await updateMemberRole(tx, org.id, userId, grant.base_role, grant.custom_role_id);
    const updated = (await findMember(tx, org.id, userId))!;
    await recordAuditEvent(tx, principal, {
      action: 'member.updated',
      organization: org,
      target: { type: 'member', id: `${org.id}/${userId}` },
      before: presentMember(member, org.id),
      after: presentMember(updated, org.id),
    });
    return updated;
  });
  return presentMember(row, row.organization_id);
}

/** Admins remove members at or below their role; anyone may leave an organization. */
export async function removeMember(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  userId: string,
  ifMatch?: IfMatch,
) {
  await ctx.db.transaction(async (tx) => {
    const leaving = principal.kind === 'user' && principal.userId === userId;
    const org = await reachOrganization(
      tx,
      principal,
      orgRef,
      leaving ? { role: 'viewer', scope: 'member:write', lock: true } : { ...manageMembers, lock: true },
    );
    const member = await findMember(tx, org.id, userId);
    if (!member) throw notFound('member', 'user_id');
    checkIfMatch(ifMatch, member);
    if (!leaving) await requireGrantable(tx, principal, org, await grantOf(tx, member), 'user_id');
    await keepAnOwner(tx, org, member);
    await deleteMembership(tx, org.id, userId);
    await recordAuditEvent(tx, principal, {
      action: 'member.removed',
      organization: org,
      target: { type: 'member', id: `${org.id}/${userId}` },
      before: presentMember(member, org.id),
    });
  });
}

/**
 * Makes a member an owner and, when the caller is a user who owns the organization directly,
 * gives the caller `previous_owner_role` (admin unless told). Only owners transfer ownership, and
 * the organization has an owner before, during and after.
 */
export async function transferOwnership(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: TransferOwnershipBody,
): Promise<Member> {
  const row = await ctx.db.transaction(async (tx) => {
    const org = await reachOrganization(tx, principal, orgRef, {
      lock: true,
      role: 'owner',
      scope: 'member:write',
    });
    if (principal.kind === 'user' && principal.userId === input.user_id) {
      throw new ApiError('invalid_request', 'Name another member as the new owner.', 'user_id');
    }
    const target = await findMember(tx, org.id, input.user_id);
    if (!target) throw notFound('member', 'user_id');
    // A custom role is replaced: owners hold the owner role itself.
    if (target.role !== 'owner') await updateMemberRole(tx, org.id, target.user_id, 'owner');
    const caller = principal.kind === 'user' ? await findMember(tx, org.id, principal.userId!) : undefined;
    const keep = await resolveGrant(tx, org.id, input.previous_owner_role ?? 'admin', 'previous_owner_role');
    const stepsDown = caller?.role === 'owner' && keep.base_role !== 'owner';
    if (stepsDown) await updateMemberRole(tx, org.id, caller.user_id, keep.base_role, keep.custom_role_id);
    const owner = (await findMember(tx, org.id, target.user_id))!;
    const callerRole = caller && presentMember(caller, org.id).role;
    await recordAuditEvent(tx, principal, {
      action: 'organization.ownership_transferred',
      organization: org,
      target: { type: 'member', id: `${org.id}/${target.user_id}` },
      before: { new_owner_role: presentMember(target, org.id).role, previous_owner_role: callerRole ?? null },
      after: {
        new_owner_role: 'owner',
        previous_owner_role: caller?.role === 'owner' ? keep.name : (callerRole ?? null),
      },
    });
    return owner;
  });
  return presentMember(row, row.organization_id);
}
