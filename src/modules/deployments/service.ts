import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { checkMetadata } from '../../http/metadata.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import { type Principal, requireScope } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { findLicense, findLicenseOfOrganization, type LicenseRow } from '../licenses/queries.js';
import { reachOrganization } from '../organizations/access.js';
import { findOrganizationById } from '../organizations/queries.js';
import {
  type DeploymentFilter,
  type DeploymentRow,
  findDeployment,
  findLiveDeploymentByName,
  insertDeployment,
  listDeployments,
  recordHeartbeat,
  softDeleteDeployment,
} from './queries.js';
import type { Deployment, ListDeploymentsQuery, ReportDeploymentBody } from './schemas.js';

export function presentDeployment(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    license_id: row.license_id,
    organization_id: row.organization_id,
    name: row.name,
    version: row.version,
    hostname: row.hostname,
    metadata: row.metadata,
    last_seen_at: row.last_seen_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

/**
 * The license, if the caller may report under it: admin keys for any license, an organization key
 * for the license its organization holds. Everyone else is told there is no such license.
 */
async function reachLicenseToReport(db: Queryable, principal: Principal, licenseId: string) {
  const license = await findLicense(db, licenseId);
  const allowed =
    principal.kind === 'admin' ||
    (principal.kind === 'organization' && license?.organization_id === principal.organizationId);
  if (!license || !allowed) throw notFound('license', 'license_id');
  requireScope(principal, 'organization:write');
  return license;
}

/** Admin keys only; anyone else gets 404, as for the license itself. */
async function reachLicenseAsOperator(
  db: Queryable,
  principal: Principal,
  licenseId: string,
  write: boolean,
) {
  if (principal.kind !== 'admin') throw notFound('license', 'license_id');
  requireScope(principal, write ? 'organization:write' : 'organization:read');
  const license = await findLicense(db, licenseId);
  if (!license) throw notFound('license', 'license_id');
  return license;
}

/**
 * Registers an installation (`created: true`) or records its heartbeat. Reports are accepted
 * under an expired license too: they say what runs, entitlements say what it may do, and an
 * operator chasing a renewal wants to see installations that still report.
 */
export async function reportDeployment(
  ctx: AppContext,
  principal: Principal,
  licenseId: string,
  input: ReportDeploymentBody,
): Promise<{ created: boolean; deployment: Deployment }> {
  checkMetadata(input.metadata);
  return ctx.db.transaction(async (tx) => {
    const license = await reachLicenseToReport(tx, principal, licenseId);
    const holder =
      (license.organization_id && (await findOrganizationById(tx, license.organization_id))) || null;
    const report = {
      licenseId: license.id,
      organizationId: holder?.id ?? null,
      rootId: holder?.root_id ?? null,
      name: input.name,
      version: input.version,
      hostname: input.hostname,
      metadata: input.metadata,
    };
    const created = await insertDeployment(tx, uuidv7(), report);
    if (created) {
      await recordAuditEvent(tx, principal, {
        action: 'deployment.registered',
        organization: holder,
        target: { type: 'deployment', id: created.id },
        after: presentDeployment(created),
      });
      return { created: true, deployment: presentDeployment(created) };
    }
    const existing = await findLiveDeploymentByName(tx, license.id, input.name);
    // Deleted between the insert and this read: a retry registers it afresh.
    if (!existing) throw new ApiError('conflict', 'The deployment changed while reporting; retry.', 'name');
    const updated = await recordHeartbeat(tx, existing.id, report);
    const before = describe(existing);
    const after = describe(updated);
    // A plain heartbeat only moves last_seen_at: the trail records what changed, not every beat.
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      await recordAuditEvent(tx, principal, {
        action: 'deployment.updated',
        organization: holder,
        target: { type: 'deployment', id: updated.id },
        before,
        after,
      });
    }
    return { created: false, deployment: presentDeployment(updated) };
  });
}

/** What a heartbeat may change, without the times that every heartbeat moves. */
function describe(row: DeploymentRow) {
  const { last_seen_at: _seen, updated_at: _updated, ...rest } = presentDeployment(row);
  return rest;
}

function timeFilter(value: string | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (!Number.isFinite(time) || time < 0 || time >= 253402300800000) {
    throw new ApiError('invalid_request', `\`${param}\` is not a time between 1970 and 9999.`, param);
  }
  return new Date(time).toISOString();
}

async function listPage(
  db: Queryable,
  filter: DeploymentFilter | null,
  input: ListDeploymentsQuery,
): Promise<PageResult<Deployment>> {
  const page = pageRequest(input, isUuid);
  const rows = filter ? await listDeployments(db, filter, page) : [];
  return toPage(rows, page, (row) => row.id, presentDeployment);
}

function filterOf(license: LicenseRow, input: ListDeploymentsQuery, organizationId?: string) {
  return {
    licenseId: license.id,
    organizationId,
    seenSince: timeFilter(input.seen_since, 'seen_since'),
    notSeenSince: timeFilter(input.not_seen_since, 'not_seen_since'),
    includeDeleted: input.include_deleted,
  };
}

/**
 * Deployments under the organization's own license that reported while it held it. Without a
 * license the list is empty.
 */
export async function listOrganizationDeployments(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListDeploymentsQuery,
): Promise<PageResult<Deployment>> {
  const org = await reachOrganization(ctx.db, principal, orgRef, {
    role: 'viewer',
    scope: 'organization:read',
  });
  const license = await findLicenseOfOrganization(ctx.db, org.id);
  return listPage(ctx.db, license ? filterOf(license, input, org.id) : null, input);
}

/** Every deployment of a license, whoever held it (admin keys). */
export async function listLicenseDeployments(
  ctx: AppContext,
  principal: Principal,
  licenseId: string,
  input: ListDeploymentsQuery,
): Promise<PageResult<Deployment>> {
  const license = await reachLicenseAsOperator(ctx.db, principal, licenseId, false);
  return listPage(ctx.db, filterOf(license, input), input);
}

/** Soft delete, to keep lists clean of installations that are gone; a later report registers anew. */
export async function deleteDeployment(
  ctx: AppContext,
  principal: Principal,
  licenseId: string,
  deploymentId: string,
  ifMatch?: IfMatch,
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const license = await reachLicenseAsOperator(tx, principal, licenseId, true);
    const deployment = await findDeployment(tx, license.id, deploymentId);
    if (!deployment) throw notFound('deployment', 'deployment_id');
    checkIfMatch(ifMatch, deployment);
    const deleted = await softDeleteDeployment(tx, deployment.id);
    await recordAuditEvent(tx, principal, {
      action: 'deployment.deleted',
      organization:
        deployment.organization_id && deployment.root_id
          ? { id: deployment.organization_id, root_id: deployment.root_id }
          : null,
      target: { type: 'deployment', id: deployment.id },
      before: presentDeployment(deployment),
      after: presentDeployment(deleted),
    });
  });
}
