import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { SCOPES } from '../../http/principal.js';
import { Nullable, NullableTimestamp, Timestamp, Uuid } from '../../http/schemas.js';

export const ScopeName = Type.Union(
  SCOPES.map((scope) => Type.Literal(scope)),
  { description: 'A write scope implies the matching read scope.' },
);

export const ApiKey = Type.Object(
  {
    id: Uuid(),
    kind: Type.Union([Type.Literal('admin'), Type.Literal('personal'), Type.Literal('organization')]),
    name: Nullable(Type.String()),
    prefix: Type.String({ description: 'The first characters of the secret, to tell keys apart.' }),
    scopes: Type.Array(Type.String()),
    user_id: Nullable(Uuid()),
    organization_id: Nullable(Uuid()),
    expires_at: NullableTimestamp(),
    last_used_at: NullableTimestamp('Updated at most every few seconds.'),
    revoked_at: NullableTimestamp(),
    created_at: Timestamp(),
  },
  { $id: 'ApiKey' },
);
export type ApiKey = Static<typeof ApiKey>;

export const CreatedApiKey = Type.Object(
  {
    ...ApiKey.properties,
    secret: Type.String({ description: 'Shown once, now; only its hash is stored.' }),
  },
  { $id: 'CreatedApiKey' },
);
export type CreatedApiKey = Static<typeof CreatedApiKey>;

const keyFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  scopes: Type.Optional(
    Type.Array(ScopeName, {
      minItems: 1,
      maxItems: SCOPES.length,
      uniqueItems: true,
      description: 'Default: all.',
    }),
  ),
  expires_at: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
};

export const CreateApiKeyBody = Type.Object(
  {
    ...keyFields,
    kind: Type.Optional(
      Type.Union([Type.Literal('personal'), Type.Literal('admin')], {
        description: 'Admin keys only: `admin` makes another admin key.',
      }),
    ),
    user_id: Type.Optional(Uuid('Admin keys only: make a personal key for this user.')),
  },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

export const CreateOrganizationKeyBody = Type.Object(keyFields, { additionalProperties: false });
export type CreateOrganizationKeyBody = Static<typeof CreateOrganizationKeyBody>;

export const ListApiKeysQuery = Type.Object(
  {
    ...PageQuery,
    user_id: Type.Optional(Uuid('Admin keys only: the keys of this user.')),
    kind: Type.Optional(
      Type.Union([Type.Literal('admin'), Type.Literal('personal'), Type.Literal('organization')]),
    ),
    include_revoked: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type ListApiKeysQuery = Static<typeof ListApiKeysQuery>;

export const ListOrganizationKeysQuery = Type.Object(
  { ...PageQuery, include_revoked: Type.Boolean({ default: false }) },
  { additionalProperties: false },
);
export type ListOrganizationKeysQuery = Static<typeof ListOrganizationKeysQuery>;
