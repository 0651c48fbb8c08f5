import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Metadata, Nullable, NullableTimestamp, Timestamp, Uuid } from '../../http/schemas.js';

export const User = Type.Object(
  {
    id: Uuid(),
    email: Type.String(),
    name: Nullable(Type.String()),
    external_id: Nullable(
      Type.String({ description: "The user's id in the host application's identity provider." }),
    ),
    metadata: Metadata,
    created_at: Timestamp(),
    updated_at: Timestamp(),
    deleted_at: NullableTimestamp(),
  },
  { $id: 'User' },
);
export type User = Static<typeof User>;

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 320 });
const fields = {
  email: Email,
  name: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  external_id: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  metadata: Metadata,
};

export const CreateUserBody = Type.Object(
  {
    email: Email,
    name: Type.Optional(fields.name),
    external_id: Type.Optional(fields.external_id),
    metadata: Type.Optional(fields.metadata),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UpdateUserBody = Type.Partial(Type.Object(fields), {
  additionalProperties: false,
  minProperties: 1,
});
export type UpdateUserBody = Static<typeof UpdateUserBody>;

export const ListUsersQuery = Type.Object(
  { ...PageQuery, email: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })) },
  { additionalProperties: false },
);
export type ListUsersQuery = Static<typeof ListUsersQuery>;

export const UserParams = Type.Object({ user_id: Uuid() });
