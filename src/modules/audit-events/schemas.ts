import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Nullable, Timestamp, Uuid } from '../../http/schemas.js';

export const AuditEvent = Type.Object(
  {
    id: Uuid(),
    action: Type.String({
      description: '`<noun>.<verb>`, for example `organization.updated` or `member.added`.',
    }),
    organization_id: Nullable(Uuid()),
    actor: Type.Object({
      kind: Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('organization')]),
      user_id: Nullable(Uuid()),
      key_id: Nullable(Uuid()),
    }),
    target: Type.Object({ type: Type.String(), id: Type.String() }),
    changes: Type.Record(Type.String(), Type.Object({ before: Type.Unknown(), after: Type.Unknown() }), {
      description: 'Each changed field with its value before and after; secrets show as `[masked]`.',
    }),
    request_id: Nullable(Type.String()),
    ip: Nullable(Type.String()),
    user_agent: Nullable(Type.String()),
    created_at: Timestamp(),
  },
  { $id: 'AuditEvent' },
);
export type AuditEvent = Static<typeof AuditEvent>;

const filters = {
  action: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'An action (`member.added`), or a prefix ending in a dot (`member.`).',
    }),
  ),
  actor: Type.Optional(Uuid('A user id or an API key id.')),
  target_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this time.' })),
};

export const ListOrganizationAuditEventsQuery = Type.Object(
  {
    ...PageQuery,
    ...filters,
    include_descendants: Type.Boolean({ default: false, description: "Include the organization's teams." }),
  },
  { additionalProperties: false },
);
export type ListOrganizationAuditEventsQuery = Static<typeof ListOrganizationAuditEventsQuery>;

export const ListAuditEventsQuery = Type.Object(
  { ...PageQuery, ...filters, organization_id: Type.Optional(Uuid()) },
  { additionalProperties: false },
);
export type ListAuditEventsQuery = Static<typeof ListAuditEventsQuery>;
