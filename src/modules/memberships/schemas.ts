import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { MetadataOf, Timestamp, Uuid } from '../../http/schemas.js';
import { RoleName } from '../members/schemas.js';

/** One membership of a user, seen from the user: which organization, which role. */
export const UserMembership = Type.Object(
  {
    organization_id: Uuid(),
    user_id: Uuid(),
    role: RoleName,
    public_metadata: MetadataOf("The membership's public metadata."),
    organization: Type.Object({
      id: Uuid(),
      slug: Type.String(),
      name: Type.String(),
    }),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'UserMembership' },
);
export type UserMembership = Static<typeof UserMembership>;

export const ListUserMembershipsQuery = Type.Object(
  { ...PageQuery, role: Type.Optional(RoleName) },
  { additionalProperties: false },
);
export type ListUserMembershipsQuery = Static<typeof ListUserMembershipsQuery>;
