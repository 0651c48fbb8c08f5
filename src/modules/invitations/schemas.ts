import { type Static, Type } from 'typebox';
import { BULK_MAX_ENTRIES, BulkEntryError, BulkStatus } from '../../http/bulk.js';
import { PageQuery } from '../../http/pagination.js';
import {
  EMAIL_MAX_LENGTH,
  Nullable,
  NullableTimestamp,
  OrganizationRef,
  Timestamp,
  Uuid,
} from '../../http/schemas.js';
import { RoleRef } from '../roles/schemas.js';
import { DEFAULT_EXPIRES_IN, expiresInDescription, HOUR, MAX_EXPIRES_IN } from './tokens.js';

export const InvitationStatus = Type.Union(
  [Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('revoked'), Type.Literal('expired')],
  { description: '`expired`: pending past `expires_at`.' },
);
export type InvitationStatus = Static<typeof InvitationStatus>;

/** Who made something: the user behind a personal key, otherwise the key (admin or organization). */
export const Actor = Type.Object({
  type: Type.Union([Type.Literal('user'), Type.Literal('api_key')]),
  id: Uuid(),
});

export const Invitation = Type.Object(
  {
    id: Uuid(),
    organization_id: Uuid(),
    email: Type.String(),
    role: Type.String({ description: 'The built-in role, or the key of the custom role it grants.' }),
    role_id: Type.String({ description: 'The built-in role, or the id of the custom role.' }),
    status: InvitationStatus,
    expires_at: Timestamp(),
    accepted_at: NullableTimestamp(),
    accepted_by_user_id: Nullable(Uuid()),
    revoked_at: NullableTimestamp(),
    invited_by: Actor,
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'Invitation' },
);
export type Invitation = Static<typeof Invitation>;

export const CreatedInvitation = Type.Object(
  {
    ...Invitation.properties,
    token: Type.String({
      description:
        'Shown once, now (and again only by resending, which replaces it); only its hash is stored.',
    }),
  },
  { $id: 'CreatedInvitation' },
);
export type CreatedInvitation = Static<typeof CreatedInvitation>;

const ExpiresIn = Type.Integer({
  minimum: HOUR,
  maximum: MAX_EXPIRES_IN,
  default: DEFAULT_EXPIRES_IN,
  description: expiresInDescription,
});

export const CreateInvitationBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH }),
    role: Type.Optional(
      RoleRef(
        "A built-in role, or the key or id of a custom role of the organization or an ancestor. Absent: the organization's `default_role_id`, else `member`.",
      ),
    ),
    expires_in: Type.Optional(ExpiresIn),
  },
  { additionalProperties: false },
);
export type CreateInvitationBody = Static<typeof CreateInvitationBody>;

export const ResendInvitationBody = Type.Object(
  { expires_in: Type.Optional(ExpiresIn) },
  { additionalProperties: false },
);
export type ResendInvitationBody = Static<typeof ResendInvitationBody>;

export const ListInvitationsQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(InvitationStatus),
    email: Type.Optional(
      Type.String({ minLength: 1, maxLength: EMAIL_MAX_LENGTH, description: 'Exact, case-insensitive.' }),
    ),
  },
  { additionalProperties: false },
);
export type ListInvitationsQuery = Static<typeof ListInvitationsQuery>;

export const ListMyInvitationsQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type ListMyInvitationsQuery = Static<typeof ListMyInvitationsQuery>;

export const AcceptInvitationBody = Type.Object(
  {
    token: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'An invitation token (`osi_...`) or an invite link token (`osl_...`).',
    }),
  },
  { additionalProperties: false },
);

export const OrgParams = Type.Object({ org: OrganizationRef });
export const InvitationParams = Type.Object({ org: OrganizationRef, invitation_id: Uuid() });

/*
 * Bulk entries are typed by the schema but their values (email format, role, expiry bounds) are
 * checked one by one, so one bad entry is reported in its result instead of refusing the rest.
 */
export const BulkInvitationsBody = Type.Object(
  {
    invitations: Type.Array(
      Type.Object(
        {
          email: Type.String({ maxLength: 512 }),
          role: Type.Optional(Type.String({ maxLength: 64 })),
          expires_in: Type.Optional(Type.Integer({ description: expiresInDescription })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: BULK_MAX_ENTRIES },
    ),
  },
  { additionalProperties: false },
);
export type BulkInvitationsBody = Static<typeof BulkInvitationsBody>;

export const BulkInvitationResult = Type.Object({
  index: Type.Integer({ description: 'Position of the entry in the request.' }),
  status: BulkStatus,
  invitation: Nullable(Type.Ref('CreatedInvitation')),
  error: Nullable(BulkEntryError),
});

export const BulkInvitationsAnswer = Type.Object({
  results: Type.Array(BulkInvitationResult),
  created: Type.Integer(),
  refused: Type.Integer(),
});
export type BulkInvitationsAnswer = {
  results: {
    index: number;
    status: BulkStatus;
    invitation: CreatedInvitation | null;
    error: BulkEntryError | null;
  }[];
  created: number;
  refused: number;
};
