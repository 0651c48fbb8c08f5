import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { notFound } from '../../http/errors.js';
import { type MetadataFilterInput, metadataFilters } from '../../http/metadata.js';
import { type PageQueryInput, type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import type { IfMatch } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { needing } from '../roles/permissions.js';
import { type Need, reachOrganization } from './access.js';
import { presentListed, presentReached, readsPrivateMetadata } from './present.js';
import { listOrganizations, type OrganizationFilter } from './queries.js';
import { renderedPage } from './rendered.js';
import type { Organization, UpdateOrganizationBody } from './schemas.js';
import { type CreateInput, createOrganization, deleteOrganization, updateOrganization } from './service.js';

/** A team of `orgRef`: 404 unless it is a direct child the caller can reach. */
async function reachChild(db: Queryable, principal: Principal, orgRef: string, childRef: string, need: Need) {
  const parent = await reachOrganization(db, principal, orgRef, { role: 'viewer', scope: need.scope });
  const child = await reachOrganization(db, principal, childRef, need, 'child');
  if (child.parent_id !== parent.id) throw notFound('team', 'child');
  return child;
}

export interface ListChildrenInput extends PageQueryInput, MetadataFilterInput {
  name_search?: string;
  include_deleted: boolean;
}

/** The teams of `orgRef` a list shows: 404 unless the caller reaches `orgRef`. */
async function childrenFilter(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListChildrenInput,
): Promise<OrganizationFilter> {
  const parent = await reachOrganization(ctx.db, principal, orgRef, {
    role: 'viewer',
    scope: 'organization:read',
  });
  return {
    parentId: parent.id,
    nameSearch: input.name_search,
    activeOnly: false,
    includeDeleted: input.include_deleted,
    metadata: metadataFilters(input),
    // An admin of the parent is an admin of every team; anyone else may still be one of a team.
    privateReadableBy:
      principal.kind === 'user' && !readsPrivateMetadata(parent.caller_role) ? principal.userId! : undefined,
  };
}

export async function listChildren(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListChildrenInput,
): Promise<PageResult<Organization>> {
  const filter = await childrenFilter(ctx, principal, orgRef, input);
  const page = pageRequest(input, isUuid);
  return toPage(await listOrganizations(ctx.db, filter, page), page, (row) => row.id, presentListed);
}

/** `listChildren` as the JSON of its page, joined from kept renderings (./rendered.ts). */
export async function listChildrenJson(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListChildrenInput,
): Promise<string> {
  const filter = await childrenFilter(ctx, principal, orgRef, input);
  return renderedPage(ctx, filter, pageRequest(input, isUuid));
}

export function createChild(ctx: AppContext, principal: Principal, orgRef: string, input: CreateInput) {
  return createOrganization(ctx, principal, { ...input, parent_organization_id: orgRef });
}

export async function getChild(ctx: AppContext, principal: Principal, orgRef: string, childRef: string) {
  const child = await reachChild(ctx.db, principal, orgRef, childRef, {
    role: 'viewer',
    scope: 'organization:read',
  });
  return presentReached(child);
}

export async function updateChild(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  childRef: string,
  changes: UpdateOrganizationBody,
  ifMatch?: IfMatch,
) {
  const child = await reachChild(
    ctx.db,
    principal,
    orgRef,
    childRef,
    needing('organization:update', 'organization:write'),
  );
  return updateOrganization(ctx, principal, child.id, changes, ifMatch);
}

/** Deleting a team takes admin on its parent (see `reachForRemoval`), and removes its own teams with it. */
export async function deleteChild(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  childRef: string,
  ifMatch?: IfMatch,
) {
  const child = await reachChild(ctx.db, principal, orgRef, childRef, {
    role: 'viewer',
    scope: 'organization:write',
  });
  await deleteOrganization(ctx, principal, child.id, ifMatch);
}
