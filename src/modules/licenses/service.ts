import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { checkMetadata } from '../../http/metadata.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import { type Principal, requireAdmin, requireScope, type Scope } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { lockTrees } from '../members/reach.js';
import { findOrganizationById } from '../organizations/queries.js';
import { presentOrganizationLicense } from './assignment.js';
import {
  findLicense,
  insertLicense,
  type LicenseRow,
  listLicenses as listLicenseRows,
  setLicenseDeleted,
  updateLicense as updateLicenseRow,
} from './queries.js';
import type { CreateLicenseBody, License, ListLicensesQuery, UpdateLicenseBody } from './schemas.js';

export function presentLicense(row: LicenseRow): License {
  return {
    id: row.id,
    name: row.name,
    plan: row.plan,
    seats: row.seats,
    features: row.features,
    expires_at: row.expires_at,
    expired: row.expired,
    metadata: row.metadata,
    organization_id: row.organization_id,
    assigned_at: row.assigned_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** RFC 3339 text as the database should store it; past times are allowed (an expired license). */
export function expiryOf(expiresAt: string | null | undefined): string | null | undefined {
  if (expiresAt === undefined || expiresAt === null) return expiresAt;
  const time = Date.parse(expiresAt);
  // RFC 3339 allows a leap second (23:59:60) that JavaScript dates cannot represent.
  if (!Number.isFinite(time) || time < 0 || time > LATEST) {
    throw new ApiError('invalid_request', 'expires_at is not a time between 1970 and 9999.', 'expires_at');
  }
  return new Date(time).toISOString();
}

/** Licenses are the operator's: anyone but an admin key is told there is no such license. */
async function reachLicense(
  db: Queryable,
  principal: Principal,
  id: string,
  scope: Scope,
  options: { includeDeleted?: boolean; ifMatch?: IfMatch; lock?: boolean } = {},
): Promise<LicenseRow> {
  if (principal.kind !== 'admin') throw notFound('license', 'license_id');
  requireScope(principal, scope);
  const license = await findLicense(db, id, {
    includeDeleted: options.includeDeleted,
    lock: options.lock || options.ifMatch !== undefined,
  });
  if (!license) throw notFound('license', 'license_id');
  checkIfMatch(options.ifMatch, license);
  return license;
}

function requireOperator(principal: Principal, scope: Scope) {
  requireScope(principal, scope);
  requireAdmin(principal);
}

export async function createLicense(
  ctx: AppContext,
  principal: Principal,
  input: CreateLicenseBody,
): Promise<License> {
  requireOperator(principal, 'organization:write');
  checkMetadata(input.metadata);
  const row = await ctx.db.transaction(async (tx) => {
    const created = await insertLicense(tx, {
      id: uuidv7(),
      name: input.name ?? null,
      plan: input.plan,
      seats: input.seats,
      features: input.features ?? {},
      expiresAt: expiryOf(input.expires_at) ?? null,
      metadata: input.metadata ?? {},
    });
    await recordAuditEvent(tx, principal, {
      action: 'license.created',
      organization: null,
      target: { type: 'license', id: created.id },
      after: presentLicense(created),
    });
    return created;
  });
  return presentLicense(row);
}

export async function listLicenses(
  ctx: AppContext,
  principal: Principal,
  input: ListLicensesQuery,
): Promise<PageResult<License>> {
  requireOperator(principal, 'organization:read');
  const page = pageRequest(input, isUuid);
  const rows = await listLicenseRows(
    ctx.db,
    {
      plan: input.plan,
      assigned: input.assigned,
      expired: input.expired,
      organizationId: input.organization_id,
      includeDeleted: input.include_deleted,
    },
    page,
  );
  return toPage(rows, page, (row) => row.id, presentLicense);
}

export async function getLicense(
  ctx: AppContext,
  principal: Principal,
  id: string,
  includeDeleted: boolean,
): Promise<License> {
  return presentLicense(await reachLicense(ctx.db, principal, id, 'organization:read', { includeDeleted }));
}

export async function updateLicense(
  ctx: AppContext,
  principal: Principal,
  id: string,
  changes: UpdateLicenseBody,
  ifMatch?: IfMatch,
): Promise<License> {
  checkMetadata(changes.metadata);
  const expiresAt = expiryOf(changes.expires_at);
  const row = await ctx.db.transaction(async (tx) => {
    const license = await reachLicense(tx, principal, id, 'organization:write', { lock: true, ifMatch });
    const updated = await updateLicenseRow(tx, license.id, { ...changes, expires_at: expiresAt });
    await recordAuditEvent(tx, principal, {
      action: 'license.updated',
      organization: null,
      target: { type: 'license', id: license.id },
      before: presentLicense(license),
      after: presentLicense(updated),
    });
    return updated;
  });
  return presentLicense(row);
}

/**
 * Soft delete (which unassigns the license, recorded on the organization too) or restore (the
 * license comes back unassigned). Restoring a live license changes nothing.
 */
export async function setLicenseRemoved(
  ctx: AppContext,
  principal: Principal,
  id: string,
  deleted: boolean,
  ifMatch?: IfMatch,
): Promise<License> {
  const row = await ctx.db.transaction(async (tx) => {
    const seen = await reachLicense(tx, principal, id, 'organization:write', { includeDeleted: !deleted });
    const holder = (seen.organization_id && (await findOrganizationById(tx, seen.organization_id))) || null;
    // Tree first, then the license row: the order assignments take, so the two cannot deadlock.
    if (holder) await lockTrees(tx, [holder.root_id]);
    const license = await reachLicense(tx, principal, id, 'organization:write', {
      includeDeleted: !deleted,
      lock: true,
      ifMatch,
    });
    if (!deleted && !license.deleted_at) return license;
    const changed = await setLicenseDeleted(tx, license.id, deleted);
    if (holder && license.organization_id === holder.id) {
      await recordAuditEvent(tx, principal, {
        action: 'license.unassigned',
        organization: holder,
        target: { type: 'license', id: license.id },
        before: presentOrganizationLicense(ctx.config.licensing, holder.id, license),
        after: presentOrganizationLicense(ctx.config.licensing, holder.id, null),
      });
    }
    await recordAuditEvent(tx, principal, {
      action: deleted ? 'license.deleted' : 'license.restored',
      organization: null,
      target: { type: 'license', id: license.id },
      before: presentLicense(license),
      after: presentLicense(changed),
    });
    return changed;
  });
  return presentLicense(row);
}
