import type { OrganizationRow } from './queries.js';
import { DEFAULT_SETTINGS, type Organization, type OrganizationSettings } from './schemas.js';

export function presentOrganization(row: OrganizationRow): Organization {
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
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}
