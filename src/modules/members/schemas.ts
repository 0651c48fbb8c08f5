import { type Static, Type } from 'typebox';
import { BULK_MAX_ENTRIES, BulkEntryError, BulkStatus } from '../../http/bulk.js';
import { PageQuery } from '../../http/pagination.js';
import { MetadataOf, Nullable, OrganizationRef, Timestamp, Uuid } from '../../http/schemas.js';
import { RoleRef } from '../roles/schemas.js';

export const RoleName = Type.Union(
  [Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')],
  { description: 'owner > admin > member > viewer' },
);

const PublicMetadata = MetadataOf(
  'JSON object about this membership that members of the organization read and admins write (at most 16 KB). A write replaces the whole object.',
);
const PrivateMetadata = MetadataOf(
  'JSON object about this membership that only admins read (at most 16 KB). A write replaces the whole object.',
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
    public_metadata: PublicMetadata,
    private_metadata: Type.Optional(
      MetadataOf(
        'JSON object only admins read: present when the caller is an instance admin key, an organization ' +
          'key, or a user with the admin role or above on the organization the membership is in ' +
          '(`via_organization_id`); absent otherwise.',
      ),
    ),
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
    public_metadata: Type.Optional(PublicMetadata),
    private_metadata: Type.Optional(PrivateMetadata),
  },
  { additionalProperties: false },
);
export type AddMemberBody = Static<typeof AddMemberBody>;

export const UpdateMemberBody = Type.Object(
  {
    role: Type.Optional(RoleRef()),
    public_metadata: Type.Optional(PublicMetadata),
    private_metadata: Type.Optional(PrivateMetadata),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateMemberBody = Static<typeof UpdateMemberBody>;

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
    search: Type.Optional(
      Type.String({
        minLength: 3,
        maxLength: 100,
        description:
          'Only members whose email or name contains this text, in any case. At least 3 characters: ' +
          'the trigram indexes that make a search fast among many members need three.',
      }),
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

/*
 * Bulk entries are typed by the schema but their values (email format, user id, role) are checked
 * one by one, so one bad entry is reported in its result instead of refusing the rest.
 */
export const BulkAddMembersBody = Type.Object(
  {
    members: Type.Array(
      Type.Object(
        {
          email: Type.Optional(Type.String({ maxLength: 512, description: 'Creates the user if unknown.' })),
          user_id: Type.Optional(Type.String({ maxLength: 64 })),
          role: Type.Optional(Type.String({ maxLength: 64, description: '`member` if absent.' })),
        },
        { additionalProperties: false, description: 'Exactly one of `email` and `user_id`.' },
      ),
      { minItems: 1, maxItems: BULK_MAX_ENTRIES },
    ),
  },
  { additionalProperties: false },
);
export type BulkAddMembersBody = Static<typeof BulkAddMembersBody>;

export const BulkMemberResult = Type.Object({
  index: Type.Integer({ description: 'Position of the entry in the request.' }),
  status: BulkStatus,
  member: Nullable(Type.Ref('Member')),
  error: Nullable(BulkEntryError),
});

export const BulkAddMembersAnswer = Type.Object({
  results: Type.Array(BulkMemberResult),
  created: Type.Integer(),
  refused: Type.Integer(),
});
export type BulkAddMembersAnswer = {
  results: { index: number; status: BulkStatus; member: Member | null; error: BulkEntryError | null }[];
  created: number;
  refused: number;
};
