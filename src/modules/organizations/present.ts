import { atLeast, type Role } from '../members/roles.js';
import type { ListedOrganizationRow, OrganizationRow } from './queries.js';
import { DEFAULT_SETTINGS, type Organization, type OrganizationSettings } from './schemas.js';

/**
 * The API shape of an organization. `privateReadable` says whether the caller may read
 * `private_metadata`; when not, the field is left out of the answer altogether.
 */
export function presentOrganization(
  row: ListedOrganizationRow | OrganizationRow,
  privateReadable: boolean,
): Organization {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    friendly_name: row.friendly_name,
    description: row.description,
    domain: row.domain,
    logo_media_id: row.logo_media_id,
    billing_account_id: row.billing_account_id,
    connection_id: row.connection_id,
    parent_organization_id: row.parent_id,
    root_organization_id: row.root_id,
    depth: row.ancestor_ids.length + 1,
    active: row.active,
    settings: { ...DEFAULT_SETTINGS, ...(row.settings as Partial<OrganizationSettings>) },
    metadata: row.metadata,
    public_metadata: row.public_metadata,
    // Undefined rather than absent, so every answer has one shape; the serializer leaves it out.
    private_metadata: privateReadable ? (row.private_metadata ?? undefined) : undefined,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

/** Admin keys (as owner), organization keys (as admin) and users with admin or above read it. */
export const readsPrivateMetadata = (callerRole: Role | null | undefined) => atLeast(callerRole, 'admin');

/** As the caller reached it: private metadata only for those whose role on it allows. */
export const presentReached = (row: OrganizationRow & { caller_role: Role | null }) =>
  presentOrganization(row, readsPrivateMetadata(row.caller_role));

/** A row of a list, which carries private metadata only where the caller may read it. */
export const presentListed = (row: ListedOrganizationRow) =>
  presentOrganization(row, row.private_metadata !== null);

/** Audit events and webhooks record every field, private ones included (docs/architecture.md). */
export const presentInFull = (row: OrganizationRow) => presentOrganization(row, true);
