import { fullFormats } from 'ajv-formats/dist/formats.js';
import { type Static, type TSchema, Type } from 'typebox';

/** The error envelope every failure answers with. */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      type: Type.String({
        description: 'invalid_request_error, authentication_error, permission_error, ...',
      }),
      code: Type.String({ description: 'Stable machine-readable code, e.g. slug_taken.' }),
      message: Type.String(),
      param: Type.Union([Type.String(), Type.Null()], { description: 'The offending field, if any.' }),
      request_id: Type.String(),
    }),
  },
  { $id: 'ErrorEnvelope', title: 'Error' },
);

const errorRef = Type.Ref('ErrorEnvelope');

/** The error responses a route declares, by status. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorRef]));
}

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID = new RegExp(UUID_PATTERN);
export const isUuid = (text: string) => UUID.test(text);

export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';

export const Uuid = (description?: string) =>
  Type.String({ format: 'uuid', pattern: UUID_PATTERN, maxLength: 36, description });

export const Timestamp = (description?: string) => Type.String({ format: 'date-time', description });
/**
 * `T` or null. A primitive becomes `type: [T, "null"]` rather than `anyOf`: the same JSON Schema
 * meaning (and valid OpenAPI 3.1), but the response serializer can write it directly instead of
 * validating each value against every branch to choose one.
 */
export const Nullable = <T extends TSchema>(schema: T, description?: string) => {
  const type = (schema as { type?: unknown }).type;
  if (typeof type === 'string' && type !== 'object' && type !== 'array') {
    return Type.Unsafe<Static<T> | null>({
      ...schema,
      type: [type, 'null'],
      ...(description ? { description } : {}),
    });
  }
  return Type.Union([schema, Type.Null()], { description });
};

export const NullableTimestamp = (description?: string) =>
  Nullable(Type.String({ format: 'date-time' }), description);

/** `{org}` in a path: an organization id or its slug. */
export const OrganizationRef = Type.String({
  pattern: `(${UUID_PATTERN})|(${SLUG_PATTERN})`,
  minLength: 1,
  maxLength: 64,
  description: 'Organization id or slug.',
});

export const MetadataOf = (description: string) =>
  Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { description });

export const Metadata = MetadataOf('Free JSON object for the host application (at most 16 KB).');

/** The email check request bodies get (`format: email`), for values validated one entry at a time. */
export const EMAIL_MAX_LENGTH = 320;
const EMAIL = fullFormats.email as RegExp;
export const isEmail = (text: string) => text.length <= EMAIL_MAX_LENGTH && EMAIL.test(text);
