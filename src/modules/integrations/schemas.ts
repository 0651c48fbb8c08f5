import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import {
  Nullable,
  NullableTimestamp,
  SLUG_PATTERN,
  Timestamp,
  UUID_PATTERN,
  Uuid,
} from '../../http/schemas.js';

/** Kinds, secret names: an open vocabulary of lowercase words (`vercel`, `aws_marketplace`, `api_token`). */
const WORD_PATTERN = '^[a-z][a-z0-9_]{0,63}$';
const ENVIRONMENT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const MAX_SECRETS = 20;
const MAX_ENVIRONMENTS = 50;

const kind = Type.String({
  pattern: WORD_PATTERN,
  maxLength: 64,
  description:
    'The outside service: `vercel`, `aws_marketplace`, `github`, `slack`, ... (lowercase letters, digits, underscores).',
});

const ProjectRefValue = Type.String({
  pattern: `(${UUID_PATTERN})|(${SLUG_PATTERN})`,
  minLength: 1,
  maxLength: 64,
  description: 'A project of the same organization, by id or slug; stored as its id.',
});

const config = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  description:
    'Settings of the integration that are not secret (at most 16 KB); fields named like secrets are refused: send them in `secrets`.',
});

const secretValue = Type.String({ minLength: 1, maxLength: 8192 });

export const Integration = Type.Object(
  {
    id: Uuid(),
    organization_id: Uuid(),
    kind: Type.String(),
    external_id: Type.String({
      description: 'The id of the installation, account or team in the outside service.',
    }),
    display_name: Nullable(Type.String()),
    config: Type.Record(Type.String(), Type.Unknown()),
    secret_fields: Type.Array(Type.String(), {
      description: 'Names of the stored secrets. Their values are never returned.',
    }),
    secrets_updated_at: NullableTimestamp('When a secret value was last written.'),
    environment_mapping: Type.Record(Type.String(), Uuid('Project id.'), {
      description: 'External environment name -> project id.',
    }),
    created_by_user_id: Nullable(Uuid()),
    created_at: Timestamp(),
    updated_at: Timestamp(),
    deleted_at: NullableTimestamp('When the integration was disconnected.'),
  },
  { $id: 'Integration' },
);
export type Integration = Static<typeof Integration>;

export const CreateIntegrationBody = Type.Object(
  {
    kind,
    external_id: Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Unique per kind among the live integrations of the organization.',
    }),
    display_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    config: Type.Optional(config),
    secrets: Type.Optional(
      Type.Record(Type.String({ pattern: WORD_PATTERN }), secretValue, {
        additionalProperties: false,
        maxProperties: MAX_SECRETS,
        description: 'Tokens and keys of the outside service, by name. Encrypted at rest, never returned.',
      }),
    ),
    environment_mapping: Type.Optional(
      Type.Record(Type.String({ pattern: ENVIRONMENT_PATTERN }), ProjectRefValue, {
        additionalProperties: false,
        maxProperties: MAX_ENVIRONMENTS,
        description: 'External environment name (`production`, `preview`, ...) -> project id or slug.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateIntegrationBody = Static<typeof CreateIntegrationBody>;

export const UpdateIntegrationBody = Type.Object(
  {
    display_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    config: Type.Optional(config),
    secrets: Type.Optional(
      Type.Record(Type.String({ pattern: WORD_PATTERN }), Nullable(secretValue), {
        additionalProperties: false,
        maxProperties: MAX_SECRETS,
        description: 'Merged by name: a value sets or replaces that secret, null removes it, others stay.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateIntegrationBody = Static<typeof UpdateIntegrationBody>;

export const EnvironmentMappingBody = Type.Object(
  {
    environment_mapping: Type.Record(
      Type.String({ pattern: ENVIRONMENT_PATTERN }),
      Nullable(ProjectRefValue),
      {
        additionalProperties: false,
        maxProperties: MAX_ENVIRONMENTS,
        description:
          'Merged into the mapping: a project sets or replaces that environment, null removes it, environments left out stay.',
      },
    ),
  },
  { additionalProperties: false },
);
export type EnvironmentMappingBody = Static<typeof EnvironmentMappingBody>;

export const ListIntegrationsQuery = Type.Object(
  {
    ...PageQuery,
    kind: Type.Optional(kind),
    include_deleted: Type.Boolean({ default: false, description: 'Include disconnected integrations.' }),
  },
  { additionalProperties: false },
);
export type ListIntegrationsQuery = Static<typeof ListIntegrationsQuery>;

export const IntegrationQuery = Type.Object(
  { include_deleted: Type.Boolean({ default: false, description: 'Also find a disconnected integration.' }) },
  { additionalProperties: false },
);
export type IntegrationQuery = Static<typeof IntegrationQuery>;

/** A stored environment mapping may hold at most this many entries after a merge, too. */
export const ENVIRONMENT_LIMIT = MAX_ENVIRONMENTS;
export const SECRET_LIMIT = MAX_SECRETS;
