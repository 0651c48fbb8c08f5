import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Nullable, OrganizationRef, Timestamp, Uuid } from '../../http/schemas.js';
import { RoleRef } from '../roles/schemas.js';

export const RoleName = Type.Union(
  [Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')],
  { description: 'owner > admin > member > viewer' },
);

export const Member = Type.Object(
  {
    organization_id: Uuid(),
    user_id: Uuid(),
    email: Type.String(),
    name: Nullable(Type.String()),
    external_id: Nullable(Type.String()),
    role: Type.String({ description: 'The built-in role, or the key of the custom role the member holds.' }),
    role_id: Type.String({ description: 'The built-in role, or the id of the custom role.' }),
    base_role: RoleName,
    inherited: Type.Boolean({ description: 'The role is held on an ancestor, not on this organization.' }),
    via_organization_id: Uuid('The organization the role is held on.'),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'Member' },
);
export type Member = Static<typeof Member>;

export const AddMemberBody = Type.Object(
  {
    email: Type.Optional(
      Type.String({ format: 'email', maxLength: 320, description: 'Creates the user if unknown.' }),
    ),
    user_id: Type.Optional(Uuid()),
    role: Type.Optional(
      RoleRef(
        "A built-in role, or the key or id of a custom role of the organization or an ancestor. Absent: the organization's `default_role_id`, else `member`.",
      ),
    ),
  },
  { additionalProperties: false },
);
export type AddMemberBody = Static<typeof AddMemberBody>;

export const UpdateMemberBody = Type.Object({ role: RoleRef() }, { additionalProperties: false });

export const TransferOwnershipBody = Type.Object(
  {
    user_id: Uuid('The member who becomes an owner.'),
    previous_owner_role: Type.Optional(
      RoleRef(
        'The role the calling user keeps if it is a direct owner of the organization (`owner` keeps both owners): a built-in role, or a custom role key or id.',
        { default: 'admin' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type TransferOwnershipBody = Static<typeof TransferOwnershipBody>;

export const ListMembersQuery = Type.Object(
  {
    ...PageQuery,
    role: Type.Optional(
      Type.Union(RoleName.anyOf, { description: 'Only members whose base role is this built-in role.' }),
    ),
    include_inherited: Type.Boolean({
      default: false,
      description: 'Also list people who reach this organization through an ancestor.',
    }),
  },
  { additionalProperties: false },
);
export type ListMembersQuery = Static<typeof ListMembersQuery>;

export const MemberParams = Type.Object({ org: OrganizationRef, user_id: Uuid() });
export const OrgParams = Type.Object({ org: OrganizationRef });
