import { uuidv7 } from 'uuidv7';
import type { LicensingConfig } from '../../config.js';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { checkMetadata } from '../../http/metadata.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { type Rendering, renderingJson } from '../../http/renderings.js';
import { isUuid } from '../../http/schemas.js';
import { pageJson } from '../../http/serialization.js';
import { recordAuditEvent, recordAuditEvents } from '../audit-events/record.js';
import { checkSeats } from '../licenses/coverage.js';
import { checkAccess, reachOrganization } from '../organizations/access.js';
import { presentReached, readsPrivateMetadata } from '../organizations/present.js';
import type { AccessibleOrganizationRow, OrganizationRow } from '../organizations/queries.js';
import type { Organization } from '../organizations/schemas.js';
import {
  defaultRoleOf,
  type Grant,
  grantOf,
  reachToAddMembers,
  requireGrantable,
  resolveGrant,
} from '../roles/grants.js';
import { needing } from '../roles/permissions.js';
import { findOrCreateUserByEmail, findUserById } from '../users/queries.js';
import { presentMember } from './present.js';
import {
  countOtherOwners,
  deleteMembership,
  directRolesOnPath,
  findMember,
  findMembers,
  findVersionedMembers,
  insertMemberships,
  listDirectMembers,
  listDirectMembersForCaller,
  listDirectMemberVersionsForCaller,
  listEffectiveMembers,
  type MemberPageRow,
  type MemberRow,
  type MembershipMetadata,
  updateMemberRole,
  updateMembership,
} from './queries.js';
import { lockTrees } from './reach.js';
import { memberKey } from './rendered.js';
import type { Role } from './roles.js';
import type {
  AddMemberBody,
  ListMembersQuery,
  Member,
  TransferOwnershipBody,
  UpdateMemberBody,
} from './schemas.js';

const manageMembers = needing('member:manage', 'member:write');

/**
 * The organizations of the path (root first) on which the caller may read memberships' private
 * metadata: where its role, inherited down the path, is admin or above.
 */
async function privateReadableOnPath(
  db: Queryable,
  principal: Principal,
  org: AccessibleOrganizationRow,
): Promise<Set<string>> {
  const path = [...org.ancestor_ids, org.id];
  if (principal.kind === 'admin') return new Set(path);
  if (principal.kind === 'organization') {
    const from = path.indexOf(principal.organizationId!);
    return new Set(from < 0 ? [] : path.slice(from));
  }
  // Roles flow down the path: below admin on the organization means below admin on every ancestor.
  if (!readsPrivateMetadata(org.caller_role)) return new Set();
  const direct = await directRolesOnPath(db, principal.userId!, path);
  const readable = new Set<string>();
  let held = false;
  for (const id of path) {
    held ||= readsPrivateMetadata(direct.get(id));
    if (held) readable.add(id);
  }
  return readable;
}

function checkMembershipMetadata(input: MembershipMetadata) {
  checkMetadata(input.public_metadata, 'public_metadata');
  checkMetadata(input.private_metadata, 'private_metadata');
}

export async function listMembers(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListMembersQuery,
): Promise<PageResult<Member>> {
  const page = pageRequest(input, isUuid);
  const filter = { role: input.role, search: input.search };
  const need = READ_MEMBERS;
  if (input.include_inherited) {
    const org = await reachOrganization(ctx.db, principal, orgRef, need);
    const path = [...org.ancestor_ids, org.id];
    const rows = await listEffectiveMembers(ctx.db, path, filter, page);
    const readable = rows.length > 0 ? await privateReadableOnPath(ctx.db, principal, org) : new Set();
    return toPage(
      rows,
      page,
      (row) => row.user_id,
      (row) => presentMember(row, org.id, readable.has(row.via_organization_id)),
    );
  }
  if (input.search !== undefined) {
    const org = await reachOrganization(ctx.db, principal, orgRef, need);
    const rows = await listDirectMembers(ctx.db, org.id, filter, page);
    const readable = readsPrivateMetadata(org.caller_role);
    return toPage(
      rows,
      page,
      (row) => row.user_id,
      (row) => presentMember(row, org.id, readable),
    );
  }
  const rows = await listDirectMembersForCaller(ctx.db, principal, orgRef, filter, page);
  const first = checkPageAccess(principal, rows);
  const members = rows.filter((row): row is MemberPageRow & MemberRow => row.user_id != null);
  const readable = readsPrivateMetadata(first.target_role);
  return toPage(
    members,
    page,
    (row) => row.user_id,
    (row) => presentMember(row, row.target_id, readable),
  );
}

const READ_MEMBERS = { role: 'viewer', scope: 'member:read' } as const;

/**
 * A member page read in the statement that finds the organization carries the caller's standing
 * on its first row (there is one even when the page is empty): 404 or 403 unless it may read.
 */
function checkPageAccess<Row extends Omit<MemberPageRow, keyof MemberRow>>(
  principal: Principal,
  rows: Row[],
) {
  const first = rows[0];
  checkAccess(
    principal,
    first && {
      caller_role: first.target_role,
      personal_keys_refused: first.target_personal_keys_refused,
      two_factor_refused: first.target_two_factor_refused,
    },
    READ_MEMBERS,
  );
  return first!;
}

/** `listMembers` as the JSON of its page: a direct member page joins kept renderings (./rendered.ts). */
export async function listMembersJson(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListMembersQuery,
): Promise<string> {
  if (input.include_inherited || input.search !== undefined) {
    return JSON.stringify(await listMembers(ctx, principal, orgRef, input));
  }
  const page = pageRequest(input, isUuid);
  const rows = await listDirectMemberVersionsForCaller(ctx.db, principal, orgRef, { role: input.role }, page);
  const first = checkPageAccess(principal, rows);
  const members = rows.filter(
    (row): row is typeof row & { user_id: string; version: string } => row.user_id != null,
  );
  const renderings = new Map<string, Rendering>();
  const missing: string[] = [];
  for (const row of members) {
    const rendering = ctx.renderedMembers.find(memberKey(first.target_id, row.user_id), row.version);
    if (rendering) renderings.set(row.user_id, rendering);
    else missing.push(row.user_id);
  }
  if (missing.length > 0) {
    for (const row of await findVersionedMembers(ctx.db, first.target_id, missing)) {
      renderings.set(row.user_id, ctx.renderedMembers.keep(memberKey(row.organization_id, row.user_id), row));
    }
  }
  const readable = readsPrivateMetadata(first.target_role);
  // A member removed since the page was read has no rendering and is left out.
  const paged = toPage(
    members,
    page,
    (row) => row.user_id,
    (row) => renderings.get(row.user_id),
  );
  const data = paged.data.flatMap((rendering) => (rendering ? [renderingJson(rendering, readable)] : []));
  return pageJson({ data, pagination: paged.pagination });
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
  checkMembershipMetadata(input);
  const { org, row } = await ctx.db.transaction(async (tx) => {
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
    const row = await admitMember(tx, ctx.config.licensing, principal, org, {
      userId,
      role: grant.base_role,
      customRoleId: grant.custom_role_id,
      metadata: input,
    });
    return { org, row };
  });
  return presentMember(row, row.organization_id, readsPrivateMetadata(org.caller_role));
}

export interface Admission {
  userId: string;
  /** The built-in rank: the role itself, or the base role of `customRoleId`. */
  role: Role;
  customRoleId?: string | null;
  metadata?: MembershipMetadata;
}

/**
 * The one way users become members of an organization: adding one, adding in bulk, accepting an
 * invitation or an invite link all come here, so a rule about who may join is written once.
 * Inserts the memberships, extends the users' reach and records one `member.added` each, inside
 * the caller's transaction, in a fixed number of statements however many there are. The answer
 * has, for each admission in order, the new membership or the `ApiError` refusing it
 * (`already_member`, `seat_limit_reached`); a rule that refuses one admission puts its error
 * there, a rule that refuses them all throws. The caller has already decided that each role may be granted; `principal` is
 * who the events name as the actor.
 */
export async function admitMembers(
  tx: Queryable,
  licensing: LicensingConfig,
  principal: Principal,
  org: OrganizationRow,
  admissions: Admission[],
): Promise<(MemberRow | ApiError)[]> {
  if (admissions.length === 0) return [];
  const seats = await checkSeats(
    tx,
    licensing,
    org,
    admissions.map((admission) => admission.userId),
  );
  const fitting = admissions.filter((admission) => seats.fitting.has(admission.userId));
  const inserted = await insertMemberships(tx, org.id, org.root_id, fitting);
  const rows = inserted.size > 0 ? await findMembers(tx, org.id, [...inserted]) : [];
  const byUser = new Map(rows.map((row) => [row.user_id, row]));
  // A user named twice is admitted once; the second naming is refused like any existing member.
  const claimed = new Set<string>();
  const results = admissions.map(({ userId }) => {
    if (!seats.fitting.has(userId)) return seats.refusal;
    const added = byUser.get(userId);
    if (!added || claimed.has(userId)) {
      return new ApiError('already_member', 'The user is already a member of this organization.', 'user_id');
    }
    claimed.add(userId);
    return added;
  });
  await recordAuditEvents(
    tx,
    principal,
    results.flatMap((added) =>
      added instanceof ApiError
        ? []
        : [
            {
              action: 'member.added',
              organization: org,
              target: { type: 'member', id: `${org.id}/${added.user_id}` },
              after: presentMember(added, org.id, true),
            },
          ],
    ),
  );
  return results;
}

/** `admitMembers` for one user: throws the refusal. */
export async function admitMember(
  tx: Queryable,
  licensing: LicensingConfig,
  principal: Principal,
  org: OrganizationRow,
  admission: Admission,
): Promise<MemberRow> {
  const [admitted] = await admitMembers(tx, licensing, principal, org, [admission]);
  if (admitted instanceof ApiError) throw admitted;
  return admitted!;
}

export async function getMember(ctx: AppContext, principal: Principal, orgRef: string, userId: string) {
  const org = await reachOrganization(ctx.db, principal, orgRef, { role: 'viewer', scope: 'member:read' });
  const member = await findMember(ctx.db, org.id, userId);
  if (!member) throw notFound('member', 'user_id');
  return presentMember(member, org.id, readsPrivateMetadata(org.caller_role));
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
  changes: UpdateMemberBody,
  ifMatch?: IfMatch,
): Promise<Member> {
  checkMembershipMetadata(changes);
  const { role } = changes;
  const row = await ctx.db.transaction(async (tx) => {
    // The row lock serialises concurrent role changes, so two demotions cannot both pass the owner count.
    const org = await reachOrganization(tx, principal, orgRef, { ...manageMembers, lock: true });
    const member = await findMember(tx, org.id, userId);
    if (!member) throw notFound('member', 'user_id');
    checkIfMatch(ifMatch, member);
    await requireGrantable(tx, principal, org, await grantOf(tx, member), 'user_id');
    let grant: Grant | undefined;
    if (role !== undefined) {
      grant = await resolveGrant(tx, org.id, role, 'role');
      await requireGrantable(tx, principal, org, grant, 'role');
      if (grant.base_role !== 'owner') await keepAnOwner(tx, org, member);
    }
    await updateMembership(tx, org.id, userId, {
      role: grant?.base_role,
      custom_role_id: grant?.custom_role_id,
      public_metadata: changes.public_metadata,
      private_metadata: changes.private_metadata,
    });
    const updated = (await findMember(tx, org.id, userId))!;
    await recordAuditEvent(tx, principal, {
      action: 'member.updated',
      organization: org,
      target: { type: 'member', id: `${org.id}/${userId}` },
      before: presentMember(member, org.id, true),
      after: presentMember(updated, org.id, true),
    });
    return updated;
  });
  return presentMember(row, row.organization_id, true);
}

/**
 * Admins remove members at or below their role; anyone may leave an organization. Answers the
 * organization as the caller reached it (a member who left can no longer read it).
 */
export async function removeMember(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  userId: string,
  ifMatch?: IfMatch,
): Promise<Organization> {
  return ctx.db.transaction(async (tx) => {
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
      before: presentMember(member, org.id, true),
    });
    return presentReached(org);
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
    const callerRole = caller && presentMember(caller, org.id, false).role;
    await recordAuditEvent(tx, principal, {
      action: 'organization.ownership_transferred',
      organization: org,
      target: { type: 'member', id: `${org.id}/${target.user_id}` },
      before: {
        new_owner_role: presentMember(target, org.id, false).role,
        previous_owner_role: callerRole ?? null,
      },
      after: {
        new_owner_role: 'owner',
        previous_owner_role: caller?.role === 'owner' ? keep.name : (callerRole ?? null),
      },
    });
    return owner;
  });
  return presentMember(row, row.organization_id, true);
}
