import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import { type Principal, requireAdmin, requireScope, type Scope } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { reachOrganization } from '../organizations/access.js';
import { needing } from '../roles/permissions.js';
import {
  type DeliveryRow,
  deleteEndpoint,
  type EndpointRow,
  findEndpoint,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  updateEndpoint as updateEndpointRow,
} from './queries.js';
import type {
  CreatedWebhookEndpoint,
  CreateWebhookEndpointBody,
  ListDeliveriesQuery,
  ListWebhookEndpointsQuery,
  UpdateWebhookEndpointBody,
  WebhookDelivery,
  WebhookEndpoint,
} from './schemas.js';
import { newSigningSecret, storedSigningSecret } from './signing.js';

export function presentEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    organization_id: row.organization_id,
    url: row.url,
    description: row.description,
    event_types: row.event_types,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function presentDelivery(row: DeliveryRow): WebhookDelivery {
  const { endpoint_id: _endpoint, ...delivery } = row;
  return delivery;
}

const scopeFor = (write: boolean): Scope => (write ? 'organization:write' : 'organization:read');

/**
 * The organization whose events an endpoint receives, reached as an admin of it. Without one,
 * the endpoint receives every event and only admin keys may manage it.
 */
async function reachOwner(
  db: Queryable,
  principal: Principal,
  organizationId: string | null,
  write: boolean,
) {
  requireScope(principal, scopeFor(write));
  if (!organizationId) {
    requireAdmin(principal);
    return null;
  }
  return reachOrganization(
    db,
    principal,
    organizationId,
    needing('webhook:manage', scopeFor(write)),
    'organization_id',
  );
}

async function reachEndpoint(
  db: Queryable,
  principal: Principal,
  id: string,
  write: boolean,
  ifMatch?: IfMatch,
) {
  const endpoint = await findEndpoint(db, id, write);
  // Instance-wide endpoints are invisible to everyone but admin keys.
  if (!endpoint || (!endpoint.organization_id && principal.kind !== 'admin'))
    throw notFound('webhook endpoint', 'id');
  const owner = await reachOwner(db, principal, endpoint.organization_id, write).catch((error) => {
    throw error instanceof ApiError && error.code === 'not_found'
      ? notFound('webhook endpoint', 'id')
      : error;
  });
  checkIfMatch(ifMatch, endpoint);
  return { endpoint, owner };
}

export async function createEndpoint(
  ctx: AppContext,
  principal: Principal,
  input: CreateWebhookEndpointBody,
): Promise<CreatedWebhookEndpoint> {
  const url = await ctx.webhookTargets.checkUrl(input.url);
  const id = uuidv7();
  const secret = newSigningSecret();
  const row = await ctx.db.transaction(async (tx) => {
    const owner = await reachOwner(tx, principal, input.organization_id ?? null, true);
    const created = await insertEndpoint(tx, {
      id,
      root_id: owner?.root_id ?? null,
      organization_id: owner?.id ?? null,
      url: url.href,
      description: input.description ?? null,
      event_types: input.event_types ?? [],
      secret: storedSigningSecret(ctx.keyring, id, secret),
      enabled: input.enabled ?? true,
    });
    await recordAuditEvent(tx, principal, {
      action: 'webhook_endpoint.created',
      organization: owner,
      target: { type: 'webhook_endpoint', id: created.id },
      after: presentEndpoint(created),
    });
    return created;
  });
  return { ...presentEndpoint(row), secret };
}

export async function listWebhookEndpoints(
  ctx: AppContext,
  principal: Principal,
  input: ListWebhookEndpointsQuery,
): Promise<PageResult<WebhookEndpoint>> {
  if (principal.kind !== 'admin' && !input.organization_id) {
    throw new ApiError(
      'invalid_request',
      'Name the organization whose endpoints to list.',
      'organization_id',
    );
  }
  const owner = input.organization_id
    ? await reachOwner(ctx.db, principal, input.organization_id, false)
    : null;
  if (!owner) requireAdmin(principal);
  const page = pageRequest(input, isUuid);
  const rows = await listEndpoints(ctx.db, owner?.id, page);
  return toPage(rows, page, (row) => row.id, presentEndpoint);
}

export async function getEndpoint(
  ctx: AppContext,
  principal: Principal,
  id: string,
): Promise<WebhookEndpoint> {
  return presentEndpoint((await reachEndpoint(ctx.db, principal, id, false)).endpoint);
}

export async function updateEndpoint(
  ctx: AppContext,
  principal: Principal,
  id: string,
  changes: UpdateWebhookEndpointBody,
  ifMatch?: IfMatch,
): Promise<WebhookEndpoint> {
  const url = changes.url === undefined ? undefined : (await ctx.webhookTargets.checkUrl(changes.url)).href;
  const row = await ctx.db.transaction(async (tx) => {
    const { endpoint, owner } = await reachEndpoint(tx, principal, id, true, ifMatch);
    const updated = await updateEndpointRow(tx, endpoint.id, { ...changes, url });
    await recordAuditEvent(tx, principal, {
      action: 'webhook_endpoint.updated',
      organization: owner,
      target: { type: 'webhook_endpoint', id: endpoint.id },
      before: presentEndpoint(endpoint),
      after: presentEndpoint(updated),
    });
    return updated;
  });
  return presentEndpoint(row);
}

export async function removeEndpoint(
  ctx: AppContext,
  principal: Principal,
  id: string,
  ifMatch?: IfMatch,
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const { endpoint, owner } = await reachEndpoint(tx, principal, id, true, ifMatch);
    await deleteEndpoint(tx, endpoint.id);
    await recordAuditEvent(tx, principal, {
      action: 'webhook_endpoint.deleted',
      organization: owner,
      target: { type: 'webhook_endpoint', id: endpoint.id },
      before: presentEndpoint(endpoint),
    });
  });
}

export async function listEndpointDeliveries(
  ctx: AppContext,
  principal: Principal,
  id: string,
  input: ListDeliveriesQuery,
): Promise<PageResult<WebhookDelivery>> {
  const { endpoint } = await reachEndpoint(ctx.db, principal, id, false);
  const page = pageRequest(input, isUuid);
  const rows = await listDeliveries(ctx.db, endpoint.id, page);
  return toPage(rows, page, (row) => row.event_id, presentDelivery);
}

/** Queues a `webhook_endpoint.tested` event for this endpoint alone; the worker sends it. */
export async function sendTestEvent(
  ctx: AppContext,
  principal: Principal,
  id: string,
): Promise<{ event_id: string }> {
  const eventId = await ctx.db.transaction(async (tx) => {
    const { endpoint, owner } = await reachEndpoint(tx, principal, id, true);
    return recordAuditEvent(tx, principal, {
      action: 'webhook_endpoint.tested',
      organization: owner,
      target: { type: 'webhook_endpoint', id: endpoint.id },
      onlyEndpointId: endpoint.id,
    });
  });
  return { event_id: eventId };
}
