import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Nullable, NullableTimestamp, OrganizationRef, Timestamp, Uuid } from '../../http/schemas.js';
import { Actor } from '../invitations/schemas.js';
import { DEFAULT_EXPIRES_IN, expiresInDescription, HOUR, MAX_EXPIRES_IN } from '../invitations/tokens.js';
import { RoleRef } from '../roles/schemas.js';

export const InviteLinkStatus = Type.Union(
  [Type.Literal('active'), Type.Literal('revoked'), Type.Literal('expired'), Type.Literal('exhausted')],
  { description: '`exhausted`: used `max_uses` times.' },
);
export type InviteLinkStatus = Static<typeof InviteLinkStatus>;

export const InviteLink = Type.Object(
  {
    id: Uuid(),
    organization_id: Uuid(),
    role: Type.String({ description: 'The built-in role, or the key of the custom role it grants.' }),
    role_id: Type.String({ description: 'The built-in role, or the id of the custom role.' }),
    status: InviteLinkStatus,
    max_uses: Nullable(Type.Integer(), 'How many users the link admits; null: no cap.'),
    uses: Type.Integer({ description: 'How many users joined through it.' }),
    expires_at: Timestamp(),
    revoked_at: NullableTimestamp(),
    created_by: Actor,
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'InviteLink' },
);
export type InviteLink = Static<typeof InviteLink>;

export const CreatedInviteLink = Type.Object(
  {
    ...InviteLink.properties,
    token: Type.String({
      description: 'Shown once, now; only its hash is stored. Whoever holds it may join.',
    }),
  },
  { $id: 'CreatedInviteLink' },
);
export type CreatedInviteLink = Static<typeof CreatedInviteLink>;

export const CreateInviteLinkBody = Type.Object(
  {
    role: Type.Optional(
      RoleRef(
        '`member` (the default unless the organization names another `default_role_id`), `viewer`, or a custom role with a base role of at most member and no extra permissions: anyone holding the link may join, so never more.',
      ),
    ),
    max_uses: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 }), 'Null or absent: no cap.'),
    ),
    expires_in: Type.Optional(
      Type.Integer({
        minimum: HOUR,
        maximum: MAX_EXPIRES_IN,
        default: DEFAULT_EXPIRES_IN,
        description: expiresInDescription,
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateInviteLinkBody = Static<typeof CreateInviteLinkBody>;

export const ListInviteLinksQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(InviteLinkStatus) },
  { additionalProperties: false },
);
export type ListInviteLinksQuery = Static<typeof ListInviteLinksQuery>;

export const OrgParams = Type.Object({ org: OrganizationRef });
export const InviteLinkParams = Type.Object({ org: OrganizationRef, link_id: Uuid() });
