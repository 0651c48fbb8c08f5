import { type Static, Type } from 'typebox';
import { Metadata, Nullable, SLUG_PATTERN, Timestamp, UUID_PATTERN, Uuid } from '../../http/schemas.js';
import { OrganizationSettings } from '../../modules/organizations/schemas.js';

const settings = OrganizationSettings.properties;

/** `@current`, an organization id, or a slug. */
const organizationRef = (description: string) =>
  Type.String({
    pattern: `(^@current$)|(${UUID_PATTERN})|(${SLUG_PATTERN})`,
    minLength: 1,
    maxLength: 64,
    description,
  });

export const OrganizationParams = Type.Object({
  id: organizationRef("Organization id (a slug works too); `@current` for an organization key's own."),
});

export const IntegrationsParams = Type.Object({
  organization_id: organizationRef("Organization id or slug; `@current` for an organization key's own."),
});

export const IntegrationParams = Type.Object({
  organization_id: organizationRef("Organization id or slug; `@current` for an organization key's own."),
  id: Uuid('Integration id.'),
});

const writableFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  logo_media_id: Nullable(Type.String({ maxLength: 200 })),
  enforce_2fa: settings.enforce_2fa,
  members_can_invite: settings.members_can_invite,
  members_can_use_personal_api_keys: settings.members_can_use_personal_api_keys,
  allow_publicly_shared_resources: settings.allow_publicly_shared_resources,
  is_ai_data_processing_approved: settings.is_ai_data_processing_approved,
  default_experiment_stats_method: settings.default_experiment_stats_method,
  default_anonymize_ips: settings.default_anonymize_ips,
  default_role_id: settings.default_role_id,
};

export const UpdateOrganizationBody = Type.Partial(Type.Object(writableFields), {
  additionalProperties: false,
});
export type UpdateOrganizationBody = Static<typeof UpdateOrganizationBody>;

export const CreateOrganizationBody = Type.Object(
  { ...UpdateOrganizationBody.properties, name: writableFields.name },
  { additionalProperties: false },
);
export type CreateOrganizationBody = Static<typeof CreateOrganizationBody>;

/** PostHog's organization object, as far as orgstack holds its fields. */
export const PostHogOrganization = Type.Object({
  id: Uuid(),
  name: Type.String(),
  slug: Type.String(),
  logo_media_id: Nullable(Type.String()),
  created_at: Timestamp(),
  updated_at: Timestamp(),
  membership_level: Type.Unsafe<1 | 8 | 15 | null>({
    type: ['integer', 'null'],
    enum: [1, 8, 15, null],
    description:
      "The calling user's level: 1 member (or viewer), 8 admin, 15 owner; null for keys without a user.",
  }),
  member_count: Nullable(
    Type.Integer({ description: 'Direct members; null only if the caller lost access during the request.' }),
  ),
  is_active: Type.Boolean(),
  metadata: Metadata,
  ...settings,
});
export type PostHogOrganization = Static<typeof PostHogOrganization>;

/** PostHog's organization integration: the outside id is `integration_id`; secrets never appear. */
export const PostHogIntegration = Type.Object({
  id: Uuid(),
  kind: Type.String(),
  integration_id: Type.String({ description: 'The id of the installation in the outside service.' }),
  display_name: Nullable(Type.String()),
  config: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'Settings that are not secret; `environment_mapping` (environment -> project id) once mapped.',
  }),
  created_at: Timestamp(),
  updated_at: Timestamp(),
  created_by: Nullable(Type.Object({ uuid: Uuid() })),
});
export type PostHogIntegration = Static<typeof PostHogIntegration>;

const ProjectRef = (description: string) =>
  Type.String({
    pattern: `(${UUID_PATTERN})|(${SLUG_PATTERN})`,
    minLength: 1,
    maxLength: 64,
    description,
  });

export const EnvironmentMappingBody = Type.Object(
  {
    production: ProjectRef('Project (id or slug) of the production environment.'),
    preview: Type.Optional(ProjectRef('Project of the preview environment; the production one when absent.')),
    development: Type.Optional(
      ProjectRef('Project of the development environment; the production one when absent.'),
    ),
  },
  { additionalProperties: false },
);
export type EnvironmentMappingBody = Static<typeof EnvironmentMappingBody>;
