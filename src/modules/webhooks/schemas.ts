import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Nullable, Timestamp, Uuid } from '../../http/schemas.js';

const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z_]+\\.[a-z_]+$' }), {
  maxItems: 100,
  uniqueItems: true,
  description: 'Event types to send (`organization.updated`, `member.added`, ...); empty sends every type.',
});

export const WebhookEndpoint = Type.Object(
  {
    id: Uuid(),
    organization_id: Nullable(
      Uuid('Events of this organization and its teams; null: every event (admin keys).'),
    ),
    url: Type.String(),
    description: Nullable(Type.String()),
    event_types: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    disabled_reason: Nullable(
      Type.String({ description: 'Why orgstack turned the endpoint off, if it did.' }),
    ),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'WebhookEndpoint' },
);
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const CreatedWebhookEndpoint = Type.Object(
  {
    ...WebhookEndpoint.properties,
    secret: Type.String({ description: 'Signing secret (Standard Webhooks `whsec_...`), shown only here.' }),
  },
  { $id: 'CreatedWebhookEndpoint' },
);
export type CreatedWebhookEndpoint = Static<typeof CreatedWebhookEndpoint>;

const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL events are POSTed to.' });

export const CreateWebhookEndpointBody = Type.Object(
  {
    url: Url,
    organization_id: Type.Optional(Uuid('Required unless the caller is an admin key.')),
    description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    event_types: Type.Optional(EventTypes),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateWebhookEndpointBody = Static<typeof CreateWebhookEndpointBody>;

export const UpdateWebhookEndpointBody = Type.Object(
  {
    url: Type.Optional(Url),
    description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    event_types: Type.Optional(EventTypes),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateWebhookEndpointBody = Static<typeof UpdateWebhookEndpointBody>;

export const ListWebhookEndpointsQuery = Type.Object(
  { ...PageQuery, organization_id: Type.Optional(Uuid('Required unless the caller is an admin key.')) },
  { additionalProperties: false },
);
export type ListWebhookEndpointsQuery = Static<typeof ListWebhookEndpointsQuery>;

export const WebhookDelivery = Type.Object(
  {
    event_id: Uuid('Also the `webhook-id` header of every attempt.'),
    event_type: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    next_attempt_at: Nullable(Timestamp()),
    last_status_code: Nullable(Type.Integer()),
    last_error: Nullable(Type.String()),
    attempt_log: Type.Array(
      Type.Object({
        attempt: Type.Integer(),
        status_code: Nullable(Type.Integer()),
        error: Nullable(Type.String()),
        duration_ms: Type.Integer(),
        at: Timestamp(),
      }),
    ),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'WebhookDelivery' },
);
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const ListDeliveriesQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuery>;
