import type { Principal } from '../../http/principal.js';
import type { Integration } from '../../modules/integrations/schemas.js';
import type { Role } from '../../modules/members/roles.js';
import type { Organization } from '../../modules/organizations/schemas.js';
import type { Standing } from '../../modules/organizations/service.js';
import type {
  CreateOrganizationBody,
  PostHogIntegration,
  PostHogOrganization,
  UpdateOrganizationBody,
} from './schemas.js';

/** PostHog's levels: it has no viewer, whose membership is answered as its lowest level. */
const LEVELS: Record<Role, 1 | 8 | 15> = { viewer: 1, member: 1, admin: 8, owner: 15 };

export function presentOrganization(
  org: Organization,
  principal: Principal,
  standing: Standing | undefined,
): PostHogOrganization {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    logo_media_id: org.logo_media_id,
    created_at: org.created_at,
    updated_at: org.updated_at,
    // A level describes a user's membership; admin and organization keys hold none.
    membership_level: principal.kind === 'user' && standing ? LEVELS[standing.caller_role] : null,
    member_count: standing?.member_count ?? null,
    is_active: org.active,
    metadata: org.metadata,
    ...org.settings,
  };
}

/** PostHog keeps the environment mapping inside `config`; orgstack beside it. */
export function presentIntegration(integration: Integration): PostHogIntegration {
  const mapping = integration.environment_mapping;
  return {
    id: integration.id,
    kind: integration.kind,
    integration_id: integration.external_id,
    display_name: integration.display_name,
    config:
      Object.keys(mapping).length > 0
        ? { ...integration.config, environment_mapping: mapping }
        : integration.config,
    created_at: integration.created_at,
    updated_at: integration.updated_at,
    created_by: integration.created_by_user_id ? { uuid: integration.created_by_user_id } : null,
  };
}

/** PostHog's flat fields as orgstack's: the flags live in `settings`. */
export function organizationInput<T extends UpdateOrganizationBody | CreateOrganizationBody>(body: T) {
  const { name, logo_media_id, ...flags } = body;
  const settings = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
  return { name, logo_media_id, ...(Object.keys(settings).length > 0 ? { settings } : {}) };
}
