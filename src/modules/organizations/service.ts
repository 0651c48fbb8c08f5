import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { checkMetadata, type MetadataFilterInput, metadataFilters } from '../../http/metadata.js';
import { type PageQueryInput, type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import type { IfMatch } from '../../http/preconditions.js';
import { type Principal, requireScope } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { announceCredentialChange, forgetCredentials } from '../api-keys/revocations.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { ensureSeatFor } from '../licenses/coverage.js';
import { adoptInheritedOwners, insertMembership } from '../members/queries.js';
import { lockTrees, rebuildReach } from '../members/reach.js';
import { atLeast, type Role } from '../members/roles.js';
import { defaultRoleSetting } from '../roles/grants.js';
import { needing } from '../roles/permissions.js';
import { moveStrandsRoles } from '../roles/queries.js';
import { findOrCreateUserByEmail, findUserById } from '../users/queries.js';
import { holds, reachOrganization } from './access.js';
import { presentInFull, presentListed, presentReached } from './present.js';
import {
  type AccessibleOrganizationRow,
  countOrganizations as countOrganizationRows,
  findOrganizationById,
  findOrganizationForCaller,
  findStandings,
  insertOrganization,
  listOrganizations as listOrganizationRows,
  lockMoves,
  moveSubtree,
  type OrganizationFilter,
  restoreDeletion,
  slugIsTaken,
  softDeleteSubtree,
  subtreeHeight,
  updateOrganization as updateOrganizationRow,
} from './queries.js';
import { renderedPage } from './rendered.js';
import {
  type CreateOrganizationBody,
  DEFAULT_SETTINGS,
  type Organization,
  type UpdateOrganizationBody,
} from './schemas.js';
import { slugFromName, withSuffix } from './slugs.js';

// Writes answer with private metadata: every one of them needs the admin role or above on the
// organization it answers with (creators own what they create).

/** Every metadata object of a create or update, within the size and depth limits. */
function checkAllMetadata(
  input: Pick<UpdateOrganizationBody, 'metadata' | 'public_metadata' | 'private_metadata'>,
) {
  checkMetadata(input.metadata, 'metadata');
  checkMetadata(input.public_metadata, 'public_metadata');
  checkMetadata(input.private_metadata, 'private_metadata');
}

async function chooseSlug(db: Queryable, requested: string | undefined, name: string): Promise<string> {
  if (requested) {
    if (await slugIsTaken(db, requested)) {
      throw new ApiError('slug_taken', 'Another organization already uses this slug.', 'slug');
    }
    return requested;
  }
  const base = slugFromName(name);
  if (!(await slugIsTaken(db, base))) return base;
  for (let attempt = 0; attempt < 5; attempt++) {
    const candidate = withSuffix(base);
    if (!(await slugIsTaken(db, candidate))) return candidate;
  }
  throw new ApiError('slug_taken', 'Could not find a free slug; pass one explicitly.', 'slug');
}

export type CreateInput = CreateOrganizationBody;

/** Creates an organization (a team when it has a parent) and its first owner, in one transaction. */
export async function createOrganization(
  ctx: AppContext,
  principal: Principal,
  input: CreateInput,
): Promise<Organization> {
  requireScope(principal, 'organization:write');
  checkAllMetadata(input);
  if ((input.owner_user_id || input.owner_email) && principal.kind !== 'admin') {
    throw new ApiError(
      'forbidden',
      'Only an instance admin key may name the owner.',
      input.owner_user_id ? 'owner_user_id' : 'owner_email',
    );
  }
  if (input.owner_user_id && input.owner_email) {
    throw new ApiError(
      'invalid_request',
      'Name the owner by owner_user_id or owner_email, not both.',
      'owner_email',
    );
  }
  const parentRef = input.parent_organization_id ?? null;
  if (!parentRef && principal.kind === 'organization') {
    throw new ApiError(
      'forbidden',
      'An organization key can only create teams inside its own organization.',
      'parent_organization_id',
    );
  }
  const row = await ctx.db.transaction(async (tx) => {
    let parent: AccessibleOrganizationRow | null = null;
    if (parentRef) {
      parent = await reachOrganization(
        tx,
        principal,
        parentRef,
        needing('team:create', 'organization:write'),
        'parent_organization_id',
      );
      const depth = parent.ancestor_ids.length + 2;
      if (depth > ctx.config.maxOrgDepth) {
        throw new ApiError(
          'depth_limit_exceeded',
          `Organizations nest at most ${ctx.config.maxOrgDepth} levels deep.`,
          'parent_organization_id',
        );
      }
    }
    const settings = { ...DEFAULT_SETTINGS, ...input.settings };
    if (settings.default_role_id) {
      // A team may default to a role of its ancestors; a new top-level organization to a built-in one.
      settings.default_role_id = await defaultRoleSetting(tx, principal, parent, settings.default_role_id);
    }
    const id = uuidv7();
    const created = await insertOrganization(tx, {
      id,
      rootId: parent ? parent.root_id : id,
      parentId: parent?.id ?? null,
      ancestorIds: parent ? [...parent.ancestor_ids, parent.id] : [],
      name: input.name,
      slug: await chooseSlug(tx, input.slug, input.name),
      friendlyName: input.friendly_name ?? null,
      description: input.description ?? null,
      domain: input.domain?.toLowerCase() ?? null,
      logoMediaId: input.logo_media_id ?? null,
      billingAccountId: input.billing_account_id ?? null,
      connectionId: input.connection_id ?? null,
      active: input.active ?? true,
      settings,
      metadata: input.metadata ?? {},
      publicMetadata: input.public_metadata ?? {},
      privateMetadata: input.private_metadata ?? {},
    });
    const ownerId = await ownerFor(tx, principal, input);
    if (ownerId) {
      // The creator of a team inside a licensed organization may take a seat there.
      await ensureSeatFor(tx, ctx.config.licensing, created, ownerId);
      await insertMembership(tx, created.id, created.root_id, ownerId, 'owner');
    }
    await recordAuditEvent(tx, principal, {
      action: 'organization.created',
      organization: created,
      target: { type: 'organization', id: created.id },
      after: presentInFull(created),
    });
    return created;
  });
  return presentInFull(row);
}

/** The user who becomes owner: the calling user, or whom an admin named. */
async function ownerFor(tx: Queryable, principal: Principal, input: CreateInput): Promise<string | null> {
  if (principal.kind === 'user') return principal.userId;
  if (input.owner_user_id) {
    const user = await findUserById(tx, input.owner_user_id);
    if (!user) throw notFound('user', 'owner_user_id');
    return user.id;
  }
  if (input.owner_email) return (await findOrCreateUserByEmail(tx, uuidv7(), input.owner_email)).id;
  return null;
}

export async function getOrganization(
  ctx: AppContext,
  principal: Principal,
  ref: string,
  includeDeleted = false,
): Promise<Organization> {
  const org = await reachOrganization(ctx.db, principal, ref, {
    role: 'viewer',
    scope: 'organization:read',
    includeDeleted,
  });
  return presentReached(org);
}

export async function updateOrganization(
  ctx: AppContext,
  principal: Principal,
  ref: string,
  changes: UpdateOrganizationBody,
  ifMatch?: IfMatch,
): Promise<Organization> {
  checkAllMetadata(changes);
  const changing = Object.values(changes).some((value) => value !== undefined);
  const row = await ctx.db.transaction(async (tx) => {
    const org = await reachOrganization(tx, principal, ref, {
      ...needing('organization:update', 'organization:write'),
      lock: true,
      ifMatch,
    });
    // An update naming no field (APIs whose PATCH accepts `{}`) writes nothing, not even updated_at.
    if (!changing) return org;
    if (changes.slug && changes.slug !== org.slug && (await slugIsTaken(tx, changes.slug))) {
      throw new ApiError('slug_taken', 'Another organization already uses this slug.', 'slug');
    }
    const settings = changes.settings && { ...DEFAULT_SETTINGS, ...org.settings, ...changes.settings };
    if (settings?.default_role_id && changes.settings?.default_role_id) {
      const current = org.settings.default_role_id;
      settings.default_role_id = await defaultRoleSetting(
        tx,
        principal,
        org,
        settings.default_role_id,
        current,
      );
    }
    const updated = await updateOrganizationRow(tx, org.id, {
      ...changes,
      domain: changes.domain === undefined ? undefined : (changes.domain?.toLowerCase() ?? null),
      settings,
    });
    await recordAuditEvent(tx, principal, {
      action: 'organization.updated',
      organization: org,
      target: { type: 'organization', id: org.id },
      before: presentInFull(org),
      after: presentInFull(updated),
    });
    return updated;
  });
  return presentInFull(row);
}

/**
 * Loads an organization for deleting or restoring it: a top-level organization takes its owner,
 * a team an admin of its parent, whichever route names it.
 */
export async function reachForRemoval(
  tx: Queryable,
  principal: Principal,
  ref: string,
  includeDeleted: boolean,
  ifMatch?: IfMatch,
): Promise<AccessibleOrganizationRow> {
  const org = await reachOrganization(tx, principal, ref, {
    role: 'viewer',
    scope: 'organization:write',
    includeDeleted,
    lock: true,
    ifMatch,
  });
  if (!org.parent_id) {
    if (!atLeast(org.caller_role, 'owner')) {
      throw new ApiError('forbidden', 'Deleting an organization needs the owner role.');
    }
    return org;
  }
  const parent = await findOrganizationForCaller(tx, principal, org.parent_id, { includeDeleted: true });
  if (!parent || !(await holds(tx, principal, parent, needing('team:delete', 'organization:write')))) {
    throw new ApiError(
      'forbidden',
      'Deleting a team needs the admin role (or the team:delete permission) on its parent organization.',
    );
  }
  return org;
}

/** Soft-deletes the organization and its whole subtree. */
export async function deleteOrganization(
  ctx: AppContext,
  principal: Principal,
  ref: string,
  ifMatch?: IfMatch,
): Promise<void> {
  const removed = await ctx.db.transaction(async (tx) => {
    const org = await reachForRemoval(tx, principal, ref, false, ifMatch);
    const removed = await softDeleteSubtree(tx, org.id, uuidv7());
    await announceCredentialChange(tx, { organizations: removed });
    await recordAuditEvent(tx, principal, {
      action: 'organization.deleted',
      organization: org,
      target: { type: 'organization', id: org.id },
      before: { deleted_at: null, deleted_organization_ids: [] },
      after: { deleted_at: new Date().toISOString(), deleted_organization_ids: removed },
    });
    return removed;
  });
  // Organization keys of the removed subtree must stop working now, not when their cache entry ages out.
  forgetCredentials(ctx, { organizations: removed });
}

/** Brings back exactly what the delete of this organization removed. */
export async function restoreOrganization(
  ctx: AppContext,
  principal: Principal,
  ref: string,
  ifMatch?: IfMatch,
): Promise<Organization> {
  const row = await ctx.db.transaction(async (tx) => {
    const org = await reachForRemoval(tx, principal, ref, true, ifMatch);
    if (!org.deleted_at || !org.deletion_id) return org;
    if (org.parent_id) {
      const parent = await findOrganizationById(tx, org.parent_id);
      if (parent?.deleted_at) {
        throw new ApiError(
          'parent_deleted',
          'Restore the parent organization first.',
          'parent_organization_id',
        );
      }
    }
    await restoreDeletion(tx, org.deletion_id);
    const restored = (await findOrganizationById(tx, org.id))!;
    await recordAuditEvent(tx, principal, {
      action: 'organization.restored',
      organization: org,
      target: { type: 'organization', id: org.id },
      before: presentInFull(org),
      after: presentInFull(restored),
    });
    return restored;
  });
  return presentInFull(row);
}

/** Re-parents an organization (null makes it top-level), refusing cycles and too-deep trees. */
export async function moveOrganization(
  ctx: AppContext,
  principal: Principal,
  ref: string,
  parentRef: string | null,
  ifMatch?: IfMatch,
): Promise<Organization> {
  const row = await ctx.db.transaction(async (tx) => {
    await lockMoves(tx);
    const org = await reachOrganization(tx, principal, ref, {
      role: 'owner',
      scope: 'organization:write',
      lock: true,
      ifMatch,
    });
    let ancestors: string[] = [];
    let rootId = org.id;
    if (parentRef) {
      const parent = await reachOrganization(
        tx,
        principal,
        parentRef,
        needing('team:create', 'organization:write'),
        'parent_organization_id',
      );
      if (parent.id === org.id || parent.ancestor_ids.includes(org.id)) {
        throw new ApiError(
          'cycle_detected',
          'An organization cannot move under itself or its own team.',
          'parent_organization_id',
        );
      }
      ancestors = [...parent.ancestor_ids, parent.id];
      rootId = parent.root_id;
    } else if (principal.kind === 'organization') {
      throw new ApiError(
        'forbidden',
        'An organization key cannot move an organization out of its subtree.',
        'parent_organization_id',
      );
    }
    const height = await subtreeHeight(tx, org);
    if (ancestors.length + 1 + height > ctx.config.maxOrgDepth) {
      throw new ApiError(
        'depth_limit_exceeded',
        `Organizations nest at most ${ctx.config.maxOrgDepth} levels deep.`,
        'parent_organization_id',
      );
    }
    await lockTrees(tx, [org.root_id, rootId]);
    await moveSubtree(tx, org, parentRef ? ancestors[ancestors.length - 1]! : null, ancestors, rootId);
    // Checked after the subtree's rows are locked by the move, so no grant can slip in behind it.
    if (await moveStrandsRoles(tx, org.id, org.ancestor_ids, ancestors)) {
      throw new ApiError(
        'role_in_use',
        'Members of this subtree hold custom roles (or default to them) of organizations it would leave.',
        'parent_organization_id',
      );
    }
    // A team that becomes top-level keeps the owners it had through its old ancestors, so it
    // is never left without an owner and nobody who owned it loses it.
    if (!parentRef && org.parent_id) await adoptInheritedOwners(tx, org.id, org.ancestor_ids);
    await rebuildReach(tx, org.id);
    const moved = (await findOrganizationById(tx, org.id))!;
    await recordAuditEvent(tx, principal, {
      action: 'organization.moved',
      organization: moved,
      target: { type: 'organization', id: org.id },
      before: presentInFull(org),
      after: presentInFull(moved),
    });
    return moved;
  });
  return presentInFull(row);
}

export interface ListInput extends PageQueryInput, MetadataFilterInput {
  no_children: boolean;
  /** Only organizations without a parent, whoever asks (tenants, not their teams). */
  top_level_only?: boolean;
  parent_organization_id?: string;
  name_search?: string;
  active_only: boolean;
  include_deleted: boolean;
}

/** What a list may show the caller: what it reaches, or (with `forUserId`) what that user belongs to. */
function listFilter(principal: Principal, input: Omit<ListInput, keyof PageQueryInput>, forUserId?: string) {
  requireScope(principal, 'organization:read');
  const filter: OrganizationFilter = {
    parentId: input.parent_organization_id,
    nameSearch: input.name_search,
    activeOnly: input.active_only,
    includeDeleted: input.include_deleted,
    metadata: metadataFilters(input),
    topLevelOnly: input.top_level_only,
  };
  if (forUserId) {
    if (principal.kind === 'user' && principal.userId !== forUserId) throw notFound('user', 'user_id');
    filter.memberOf = { userId: forUserId, directOnly: input.no_children };
  } else if (principal.kind === 'user') {
    filter.memberOf = { userId: principal.userId!, directOnly: input.no_children };
  } else if (principal.kind === 'admin' && input.no_children) {
    filter.topLevelOnly = true;
  }
  if (principal.kind === 'organization') {
    const directOnly = !forUserId && input.no_children;
    filter.subtree = { rootId: principal.organizationId!, directOnly };
  }
  return filter;
}

/** Organizations the caller can reach, or (with `forUserId`) those a given user belongs to. */
export async function listOrganizations(
  ctx: AppContext,
  principal: Principal,
  input: ListInput,
  forUserId?: string,
): Promise<PageResult<Organization>> {
  const filter = listFilter(principal, input, forUserId);
  const page = pageRequest(input, isUuid);
  if (principal.kind === 'user') filter.privateReadableBy = principal.userId!;
  const rows = await listOrganizationRows(ctx.db, filter, page);
  return toPage(rows, page, (row) => row.id, presentListed);
}

/** `listOrganizations` as the JSON of its page, joined from kept renderings (./rendered.ts). */
export async function listOrganizationsJson(
  ctx: AppContext,
  principal: Principal,
  input: ListInput,
  forUserId?: string,
): Promise<string> {
  const filter = listFilter(principal, input, forUserId);
  const page = pageRequest(input, isUuid);
  if (principal.kind === 'user') filter.privateReadableBy = principal.userId!;
  return renderedPage(ctx, filter, page);
}

/** How many organizations `listOrganizations` would show over all its pages. */
export async function countOrganizations(
  ctx: AppContext,
  principal: Principal,
  input: Omit<ListInput, keyof PageQueryInput>,
  forUserId?: string,
): Promise<number> {
  return countOrganizationRows(ctx.db, listFilter(principal, input, forUserId));
}

export interface Standing {
  /** The role the caller holds there: its own or inherited; owner for admin keys, admin for organization keys. */
  caller_role: Role;
  /** Direct members, not those who reach it from an ancestor. */
  member_count: number;
}

/** The caller's standing in each organization of `ids` it can reach; the others are left out. */
export async function standingsOf(
  ctx: AppContext,
  principal: Principal,
  ids: string[],
): Promise<Map<string, Standing>> {
  if (ids.length === 0) return new Map();
  const rows = await findStandings(ctx.db, principal, ids);
  return new Map(rows.map(({ id, ...standing }) => [id, standing]));
}
