import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import {
  Nullable,
  NullableTimestamp,
  OrganizationRef,
  SLUG_PATTERN,
  UUID_PATTERN,
  Uuid,
} from '../../http/schemas.js';
import { PERMISSION_NAMES, type Permission } from './permissions.js';

export const BuiltinRoleName = Type.Union(
  [Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')],
  { description: 'A built-in role: owner > admin > member > viewer.' },
);

export const BaseRoleName = Type.Union(
  [Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')],
  {
    description: 'The built-in role a custom role builds on (never owner).',
  },
);

export const PermissionName = Type.Unsafe<Permission>({
  type: 'string',
  enum: PERMISSION_NAMES,
  description: 'A permission from `GET /v1/permissions`.',
});

const ROLE_REF_DESCRIPTION =
  'A built-in role (`owner`, `admin`, `member`, `viewer`), or the key or id of a custom role of the organization or one of its ancestors.';

/** A role named in a request: a built-in name, or a custom role's key or id. */
export const RoleRef = (description = ROLE_REF_DESCRIPTION, options: { default?: string } = {}) =>
  Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: `(${UUID_PATTERN})|(${SLUG_PATTERN})`,
    description,
    ...options,
  });

export const Role = Type.Object(
  {
    id: Type.String({ description: 'The built-in name for built-in roles, the role id for custom ones.' }),
    key: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    builtin: Type.Boolean(),
    base_role: BuiltinRoleName,
    permissions: Type.Array(PermissionName, {
      description:
        'Built-in roles: every permission they hold. Custom roles: what they add to their base role.',
    }),
    organization_id: Nullable(Uuid(), 'The organization that defines it (null if built in).'),
    created_at: NullableTimestamp(),
    updated_at: NullableTimestamp(),
  },
  { $id: 'Role' },
);
export type Role = Static<typeof Role>;

const fields = {
  key: Type.String({
    pattern: SLUG_PATTERN,
    minLength: 1,
    maxLength: 64,
    description:
      "Lowercase letters, digits and hyphens; unique among the organization's live roles, not a built-in name.",
  }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Nullable(Type.String({ maxLength: 2000 })),
  base_role: BaseRoleName,
  permissions: Type.Array(PermissionName, { maxItems: 64, description: 'Added to those of the base role.' }),
};

export const CreateRoleBody = Type.Object(
  {
    key: fields.key,
    name: fields.name,
    description: Type.Optional(fields.description),
    base_role: fields.base_role,
    permissions: Type.Optional(fields.permissions),
  },
  { additionalProperties: false },
);
export type CreateRoleBody = Static<typeof CreateRoleBody>;

export const UpdateRoleBody = Type.Partial(Type.Object(fields), {
  additionalProperties: false,
  minProperties: 1,
});
export type UpdateRoleBody = Static<typeof UpdateRoleBody>;

export const ListRolesQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type ListRolesQuery = Static<typeof ListRolesQuery>;

export const RoleParams = Type.Object({ org: OrganizationRef, role_id: RoleRef() });
export const OrgParams = Type.Object({ org: OrganizationRef });

export const PermissionEntry = Type.Object({
  name: PermissionName,
  description: Type.String(),
  roles: Type.Array(BuiltinRoleName, { description: 'The built-in roles that hold it.' }),
});
export type PermissionEntry = Static<typeof PermissionEntry>;

export const ListPermissionsQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type ListPermissionsQuery = Static<typeof ListPermissionsQuery>;
