import { type TSchema, Type } from 'typebox';

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
export const NullableTimestamp = (description?: string) =>
  Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description });

export const Nullable = <T extends TSchema>(schema: T, description?: string) =>
  Type.Union([schema, Type.Null()], { description });

/** `{org}` in a path: an organization id or its slug. */
export const OrganizationRef = Type.String({
  pattern: `(${UUID_PATTERN})|(${SLUG_PATTERN})`,
  minLength: 1,
  maxLength: 64,
  description: 'Organization id or slug.',
});

export const Metadata = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  description: 'Free JSON object for the host application (at most 16 KB).',
});
