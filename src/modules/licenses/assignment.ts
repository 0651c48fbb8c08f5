import type { LicensingConfig } from '../../config.js';
import type { AppContext } from '../../context.js';
import { ApiError, notFound } from '../../http/errors.js';
import { type Principal, requireAdmin } from '../../http/principal.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { lockTrees } from '../members/reach.js';
import { reachOrganization } from '../organizations/access.js';
import { FREE_PLAN, findCoverage } from './coverage.js';
import {
  countSeats,
  findLicense,
  findLicenseOfOrganization,
  type LicenseRow,
  setLicenseOrganization,
} from './queries.js';
import type { Entitlements, OrganizationLicense } from './schemas.js';

const read = { role: 'viewer', scope: 'organization:read' } as const;

/** The organization's own license, or the free plan's terms when it holds none. */
export function presentOrganizationLicense(
  config: LicensingConfig,
  organizationId: string,
  license: LicenseRow | null | undefined,
): OrganizationLicense {
  if (!license) {
    return {
      organization_id: organizationId,
      license_id: null,
      plan: FREE_PLAN,
      name: null,
      seats: config.freePlanSeats,
      features: {},
      expires_at: null,
      expired: false,
      assigned_at: null,
    };
  }
  return {
    organization_id: organizationId,
    license_id: license.id,
    plan: license.plan,
    name: license.name,
    seats: license.seats,
    features: license.features,
    expires_at: license.expires_at,
    expired: license.expired,
    assigned_at: license.assigned_at,
  };
}

export async function getOrganizationLicense(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
): Promise<OrganizationLicense> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  const license = await findLicenseOfOrganization(ctx.db, org.id);
  return presentOrganizationLicense(ctx.config.licensing, org.id, license);
}

/**
 * Gives the organization this license, replacing the one it held. A license serves one
 * organization at a time: one held elsewhere is refused (409) rather than moved, so a mistyped id
 * cannot silently take a paying customer's license away; unassign it there first.
 */
export async function assignLicense(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  licenseId: string,
): Promise<OrganizationLicense> {
  return ctx.db.transaction(async (tx) => {
    // Reaching first: a stranger learns nothing (404); a tenant learns licenses are not theirs to pick (403).
    const org = await reachOrganization(tx, principal, orgRef, {
      role: 'viewer',
      scope: 'organization:write',
    });
    requireAdmin(principal);
    // Seat checks read the licenses of a tree under this lock, so pools do not change under them.
    await lockTrees(tx, [org.root_id]);
    const license = await findLicense(tx, licenseId, { lock: true });
    if (!license) throw notFound('license', 'license_id');
    if (license.organization_id === org.id) {
      return presentOrganizationLicense(ctx.config.licensing, org.id, license);
    }
    if (license.organization_id) {
      throw new ApiError(
        'license_assigned_elsewhere',
        `The license is assigned to organization ${license.organization_id}; unassign it there first.`,
        'license_id',
      );
    }
    const previous = await findLicenseOfOrganization(tx, org.id, true);
    if (previous) await setLicenseOrganization(tx, previous.id, null);
    const assigned = await setLicenseOrganization(tx, license.id, org.id);
    const after = presentOrganizationLicense(ctx.config.licensing, org.id, assigned);
    await recordAuditEvent(tx, principal, {
      action: 'license.assigned',
      organization: org,
      target: { type: 'license', id: license.id },
      before: presentOrganizationLicense(ctx.config.licensing, org.id, previous),
      after,
    });
    return after;
  });
}

/**
 * Back to the free plan, which it answers with. Unassigning where nothing is assigned changes
 * nothing.
 */
export async function unassignLicense(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
): Promise<OrganizationLicense> {
  return ctx.db.transaction(async (tx) => {
    // Admins may free a license still held by a deleted organization.
    const org = await reachOrganization(tx, principal, orgRef, {
      role: 'viewer',
      scope: 'organization:write',
      includeDeleted: principal.kind === 'admin',
    });
    requireAdmin(principal);
    await lockTrees(tx, [org.root_id]);
    const free = presentOrganizationLicense(ctx.config.licensing, org.id, null);
    const license = await findLicenseOfOrganization(tx, org.id, true);
    if (!license) return free;
    await setLicenseOrganization(tx, license.id, null);
    await recordAuditEvent(tx, principal, {
      action: 'license.unassigned',
      organization: org,
      target: { type: 'license', id: license.id },
      before: presentOrganizationLicense(ctx.config.licensing, org.id, license),
      after: free,
    });
    return free;
  });
}

export async function getEntitlements(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
): Promise<Entitlements> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  const coverage = await findCoverage(ctx.db, ctx.config.licensing, org);
  const { used } = await countSeats(ctx.db, coverage.headId, []);
  return {
    organization_id: org.id,
    plan: coverage.plan,
    license_id: coverage.license?.id ?? null,
    source_organization_id: coverage.headId,
    inherited: coverage.headId !== org.id,
    seats: coverage.seats,
    seats_used: used,
    seats_available: coverage.seats === null ? null : Math.max(coverage.seats - used, 0),
    features: coverage.features,
    expires_at: coverage.license?.expires_at ?? null,
    expired: coverage.license?.expired ?? false,
  };
}
