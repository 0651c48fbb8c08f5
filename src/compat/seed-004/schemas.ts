import { type Static, Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../http/schemas.js';

/*
 * The product types every answer as `any`; these are the shapes chosen for it (docs/compat.md).
 * Bodies keep orgstack's limits (a name of 1 to 200 characters, a description up to 2,000).
 */

export const OrganizationParams = Type.Object({ org_id: Uuid('Organization id.') });
export const MemberParams = Type.Object({ org_id: Uuid('Organization id.'), user_id: Uuid('User id.') });

export const Organization = Type.Object({
  id: Uuid(),
  name: Type.String(),
  slug: Type.String(),
  description: Nullable(Type.String()),
  active: Type.Boolean(),
  created_at: Timestamp(),
  updated_at: Timestamp(),
});

const name = Type.String({ minLength: 1, maxLength: 200 });
const description = Nullable(Type.String({ maxLength: 2000 }));

export const CreateOrganizationBody = Type.Object(
  { name, description: Type.Optional(description) },
  { additionalProperties: false },
);
export type CreateOrganizationBody = Static<typeof CreateOrganizationBody>;

export const UpdateOrganizationBody = Type.Object(
  {
    name: Type.Optional(Nullable(name, 'Null or absent: unchanged.')),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }), 'Null or absent: unchanged.')),
    active: Type.Optional(Nullable(Type.Boolean(), 'Null or absent: unchanged.')),
  },
  { additionalProperties: false },
);
export type UpdateOrganizationBody = Static<typeof UpdateOrganizationBody>;

export const DeletedOrganization = Type.Object({ id: Uuid(), deleted: Type.Boolean() });

export const Member = Type.Object({
  organization_id: Uuid(),
  user_id: Uuid(),
  email: Type.String(),
  name: Nullable(Type.String()),
  role: Type.String({
    description: 'owner, admin, member, viewer, or the key of a custom role. The creator is `owner`.',
  }),
  created_at: Timestamp('When the user joined the organization.'),
});

export const AddMemberBody = Type.Object(
  {
    email: Type.String({
      format: 'email',
      maxLength: 320,
      description: 'An unknown email creates the user.',
    }),
  },
  { additionalProperties: false },
);

export const RemovedMember = Type.Object({
  organization_id: Uuid(),
  user_id: Uuid(),
  deleted: Type.Boolean(),
});

export const AssignLicenseBody = Type.Object({ license_id: Uuid() }, { additionalProperties: false });

/** The organization's own license as `/v1` answers it: the free plan when it holds none. */
export const OrganizationLicense = Type.Ref('OrganizationLicense');
export const Deployment = Type.Ref('Deployment');
