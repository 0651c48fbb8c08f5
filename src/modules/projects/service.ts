import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { notFound } from '../../http/errors.js';
import { checkMetadata } from '../../http/metadata.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { reachOrganization } from '../organizations/access.js';
import { slugFromName, withSuffix } from '../organizations/slugs.js';
import { needing } from '../roles/permissions.js';
import {
  findProject,
  insertProject,
  listProjects as listProjectRows,
  type ProjectRow,
  setProjectDeleted,
  slugIsTaken,
  updateProject as updateProjectRow,
} from './queries.js';
import type { CreateProjectBody, ListProjectsQuery, Project, UpdateProjectBody } from './schemas.js';

export function presentProject(row: ProjectRow): Project {
  return {
    id: row.id,
    organization_id: row.organization_id,
    name: row.name,
    slug: row.slug,
    description: row.description,
    metadata: row.metadata,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

const read = { role: 'viewer', scope: 'organization:read' } as const;
const write = needing('project:manage', 'organization:write');

async function chooseSlug(db: Queryable, organizationId: string, given: string | undefined, name: string) {
  if (given) return given;
  const base = slugFromName(name);
  return (await slugIsTaken(db, organizationId, base)) ? withSuffix(base) : base;
}

/** The project, locked for a write and checked against If-Match; 404 when it is not there. */
async function reachProject(
  tx: Queryable,
  principal: Principal,
  orgRef: string,
  projectRef: string,
  options: { includeDeleted: boolean; ifMatch?: IfMatch },
) {
  const org = await reachOrganization(tx, principal, orgRef, write);
  const project = await findProject(tx, org.id, projectRef, {
    includeDeleted: options.includeDeleted,
    lock: true,
  });
  if (!project) throw notFound('project', 'project_id');
  checkIfMatch(options.ifMatch, project);
  return { org, project };
}

export async function listProjects(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListProjectsQuery,
): Promise<PageResult<Project>> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  const page = pageRequest(input, isUuid);
  const rows = await listProjectRows(
    ctx.db,
    org.id,
    { nameSearch: input.name_search, includeDeleted: input.include_deleted },
    page,
  );
  return toPage(rows, page, (row) => row.id, presentProject);
}

export async function createProject(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: CreateProjectBody,
): Promise<Project> {
  checkMetadata(input.metadata);
  const row = await ctx.db.transaction(async (tx) => {
    const org = await reachOrganization(tx, principal, orgRef, write);
    const created = await insertProject(tx, {
      id: uuidv7(),
      organization_id: org.id,
      root_id: org.root_id,
      name: input.name,
      slug: await chooseSlug(tx, org.id, input.slug, input.name),
      description: input.description ?? null,
      metadata: input.metadata ?? {},
    });
    await recordAuditEvent(tx, principal, {
      action: 'project.created',
      organization: org,
      target: { type: 'project', id: created.id },
      after: presentProject(created),
    });
    return created;
  });
  return presentProject(row);
}

export async function getProject(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  projectRef: string,
  includeDeleted: boolean,
): Promise<Project> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  const project = await findProject(ctx.db, org.id, projectRef, { includeDeleted });
  if (!project) throw notFound('project', 'project_id');
  return presentProject(project);
}

export async function updateProject(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  projectRef: string,
  changes: UpdateProjectBody,
  ifMatch?: IfMatch,
): Promise<Project> {
  checkMetadata(changes.metadata);
  const row = await ctx.db.transaction(async (tx) => {
    const { org, project } = await reachProject(tx, principal, orgRef, projectRef, {
      includeDeleted: false,
      ifMatch,
    });
    const updated = await updateProjectRow(tx, project.id, changes);
    await recordAuditEvent(tx, principal, {
      action: 'project.updated',
      organization: org,
      target: { type: 'project', id: project.id },
      before: presentProject(project),
      after: presentProject(updated),
    });
    return updated;
  });
  return presentProject(row);
}

/** Soft delete (`deleted: true`) or restore (`false`); restoring a live project changes nothing. */
export async function setProjectRemoved(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  projectRef: string,
  deleted: boolean,
  ifMatch?: IfMatch,
): Promise<Project> {
  const row = await ctx.db.transaction(async (tx) => {
    const { org, project } = await reachProject(tx, principal, orgRef, projectRef, {
      includeDeleted: !deleted,
      ifMatch,
    });
    if (!deleted && !project.deleted_at) return project;
    const changed = await setProjectDeleted(tx, project.id, deleted);
    await recordAuditEvent(tx, principal, {
      action: deleted ? 'project.deleted' : 'project.restored',
      organization: org,
      target: { type: 'project', id: project.id },
      before: presentProject(project),
      after: presentProject(changed),
    });
    return changed;
  });
  return presentProject(row);
}
