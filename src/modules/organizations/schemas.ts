import { type Static, Type } from 'typebox';
import { MetadataFilterQuery } from '../../http/metadata.js';
import { PageQuery } from '../../http/pagination.js';
import {
  Metadata,
  MetadataOf,
  Nullable,
  NullableTimestamp,
  SLUG_PATTERN,
  Timestamp,
  Uuid,
} from '../../http/schemas.js';

const ShortText = (maxLength: number, description?: string) => Type.String({ maxLength, description });
const DOMAIN_PATTERN = '^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$';

const settingsFields = {
  enforce_2fa: Nullable(
    Type.Boolean(),
    'Refuse JWT callers whose `amr` claim shows no second factor, here and in every team below. API keys are not affected.',
  ),
  members_can_invite: Nullable(
    Type.Boolean(),
    'Plain members may add (and invite) members with a role at or below member. Off, or null: admins and holders of member:manage or invitation:manage only.',
  ),
  members_can_use_personal_api_keys: Type.Boolean({
    description: 'Personal API keys work in this organization.',
  }),
  allow_publicly_shared_resources: Type.Boolean(),
  is_ai_data_processing_approved: Nullable(Type.Boolean()),
  default_experiment_stats_method: Type.Union([Type.Literal('bayesian'), Type.Literal('frequentist')]),
  default_anonymize_ips: Type.Boolean(),
  default_role_id: Nullable(
    ShortText(64),
    'Role a new member gets when none is given (else member): a built-in role other than owner, or a custom role valid here; a custom key is stored as its id.',
  ),
};

export const OrganizationSettings = Type.Object(settingsFields, { $id: 'OrganizationSettings' });
export type OrganizationSettings = Static<typeof OrganizationSettings>;

export const DEFAULT_SETTINGS: OrganizationSettings = {
  enforce_2fa: null,
  // Off, as most products have it: adding people is an admin's decision until an admin delegates it.
  members_can_invite: false,
  members_can_use_personal_api_keys: true,
  allow_publicly_shared_resources: true,
  is_ai_data_processing_approved: null,
  default_experiment_stats_method: 'bayesian',
  default_anonymize_ips: false,
  default_role_id: null,
};

const PublicMetadata = MetadataOf(
  'JSON object every member reads and admins write (at most 16 KB). A write replaces the whole object.',
);

const SettingsInput = Type.Partial(Type.Object(settingsFields), { additionalProperties: false });

export const Organization = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    slug: Type.String(),
    friendly_name: Nullable(Type.String()),
    description: Nullable(Type.String()),
    domain: Nullable(Type.String()),
    logo_media_id: Nullable(Type.String()),
    billing_account_id: Nullable(Type.String()),
    connection_id: Nullable(Type.String()),
    parent_organization_id: Nullable(Uuid()),
    root_organization_id: Uuid(),
    depth: Type.Integer({ description: '1 for a top-level organization, 2 for its teams, ...' }),
    active: Type.Boolean(),
    settings: OrganizationSettings,
    metadata: Metadata,
    public_metadata: PublicMetadata,
    private_metadata: Type.Optional(
      MetadataOf(
        'JSON object only admins read: present when the caller is an instance admin key, an ' +
          'organization key, or a user with the admin role or above on the organization; absent otherwise.',
      ),
    ),
    created_at: Timestamp(),
    updated_at: Timestamp(),
    deleted_at: NullableTimestamp(),
  },
  { $id: 'Organization' },
);
export type Organization = Static<typeof Organization>;

const editableFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.String({
    pattern: SLUG_PATTERN,
    minLength: 1,
    maxLength: 64,
    description: 'Lowercase letters, digits and hyphens; generated from the name when absent.',
  }),
  friendly_name: Nullable(ShortText(200)),
  description: Nullable(ShortText(2000)),
  domain: Nullable(Type.String({ pattern: DOMAIN_PATTERN, maxLength: 253, description: 'Primary domain.' })),
  logo_media_id: Nullable(ShortText(200)),
  billing_account_id: Nullable(ShortText(200)),
  connection_id: Nullable(ShortText(200)),
  active: Type.Boolean(),
  settings: SettingsInput,
  metadata: Metadata,
  public_metadata: PublicMetadata,
  private_metadata: MetadataOf(
    'JSON object only admins read (at most 16 KB). A write replaces the whole object.',
  ),
};

/** Every editable field is optional on create, except the name. */
const creatableFields = {
  ...Type.Partial(Type.Object(editableFields)).properties,
  name: editableFields.name,
};

export const CreateOrganizationBody = Type.Object(
  {
    ...creatableFields,
    parent_organization_id: Type.Optional(Nullable(Uuid('Create the organization as a team of this one.'))),
    owner_user_id: Type.Optional(Uuid('Admin keys only: the user who owns the new organization.')),
    owner_email: Type.Optional(
      Type.String({ format: 'email', maxLength: 320, description: 'Admin keys only: owner by email.' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateOrganizationBody = Static<typeof CreateOrganizationBody>;

export const CreateChildBody = Type.Object(creatableFields, { additionalProperties: false });

export const UpdateOrganizationBody = Type.Partial(Type.Object(editableFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type UpdateOrganizationBody = Static<typeof UpdateOrganizationBody>;

export const MoveOrganizationBody = Type.Object(
  { parent_organization_id: Nullable(Uuid('The new parent, or null to make it top-level.')) },
  { additionalProperties: false },
);

export const ListOrganizationsQuery = Type.Object(
  {
    ...PageQuery,
    no_children: Type.Boolean({
      default: false,
      description: 'Only organizations the caller belongs to directly, not their teams.',
    }),
    parent_organization_id: Type.Optional(Uuid('Only direct children of this organization.')),
    name_search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Substring of the name.' }),
    ),
    active_only: Type.Boolean({ default: false }),
    include_deleted: Type.Boolean({ default: false }),
    ...MetadataFilterQuery,
  },
  { additionalProperties: false },
);
export type ListOrganizationsQuery = Static<typeof ListOrganizationsQuery>;

export const ListChildrenQuery = Type.Object(
  {
    ...PageQuery,
    name_search: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    include_deleted: Type.Boolean({ default: false }),
    ...MetadataFilterQuery,
  },
  { additionalProperties: false },
);
export type ListChildrenQuery = Static<typeof ListChildrenQuery>;

export const IncludeDeletedQuery = Type.Object(
  { include_deleted: Type.Boolean({ default: false }) },
  { additionalProperties: false },
);
