import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { checkIfMatch, type IfMatch } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { SecretUnreadable } from '../../secrets/keyring.js';
import { requireKeyring } from '../../secrets/setup.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { reachOrganization } from '../organizations/access.js';
import { needing } from '../roles/permissions.js';
import {
  checkConfig,
  checkEnvironmentCount,
  checkSecretCount,
  resolveEnvironmentMapping,
  sealSecrets,
  secretContext,
} from './fields.js';
import {
  countIntegrations as countIntegrationRows,
  disconnectIntegration,
  findIntegration,
  findSealedSecrets,
  type IntegrationRow,
  insertIntegration,
  listIntegrations as listIntegrationRows,
  setEnvironmentMapping,
  updateIntegration as updateIntegrationRow,
} from './queries.js';
import type {
  CreateIntegrationBody,
  EnvironmentMappingBody,
  Integration,
  ListIntegrationsQuery,
  UpdateIntegrationBody,
} from './schemas.js';

/** The API shape: secret names, never values (the row does not even hold them). */
export function presentIntegration(row: IntegrationRow): Integration {
  return {
    id: row.id,
    organization_id: row.organization_id,
    kind: row.kind,
    external_id: row.external_id,
    display_name: row.display_name,
    config: row.config,
    secret_fields: row.secret_fields,
    secrets_updated_at: row.secrets_updated_at,
    environment_mapping: row.environment_mapping,
    created_by_user_id: row.created_by_user_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

const read = { role: 'viewer', scope: 'organization_integration:read' } as const;
const write = needing('integration:manage', 'organization_integration:write');

const target = (id: string) => ({ type: 'integration', id });

/** The integration, locked for a write and checked against If-Match; 404 when it is not there. */
async function reachIntegration(
  tx: Queryable,
  principal: Principal,
  orgRef: string,
  integrationId: string,
  ifMatch: IfMatch,
) {
  const org = await reachOrganization(tx, principal, orgRef, write);
  const integration = await findIntegration(tx, org.id, integrationId, { includeDeleted: false, lock: true });
  if (!integration) throw notFound('integration', 'integration_id');
  checkIfMatch(ifMatch, integration);
  return { org, integration };
}

export async function listIntegrations(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListIntegrationsQuery,
): Promise<PageResult<Integration>> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  const page = pageRequest(input, isUuid);
  const rows = await listIntegrationRows(
    ctx.db,
    org.id,
    { kind: input.kind, includeDeleted: input.include_deleted },
    page,
  );
  return toPage(rows, page, (row) => row.id, presentIntegration);
}

/** How many integrations `listIntegrations` would show over all its pages. */
export async function countIntegrations(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: Pick<ListIntegrationsQuery, 'kind' | 'include_deleted'>,
): Promise<number> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  return countIntegrationRows(ctx.db, org.id, { kind: input.kind, includeDeleted: input.include_deleted });
}

export async function getIntegration(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  integrationId: string,
  includeDeleted: boolean,
): Promise<Integration> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  const row = await findIntegration(ctx.db, org.id, integrationId, { includeDeleted });
  if (!row) throw notFound('integration', 'integration_id');
  return presentIntegration(row);
}

/** Connects an outside service: what its installation flow calls once the user has approved it. */
export async function createIntegration(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: CreateIntegrationBody,
): Promise<Integration> {
  checkConfig(input.config);
  const id = uuidv7();
  const secrets = input.secrets ?? {};
  const row = await ctx.db.transaction(async (tx) => {
    const org = await reachOrganization(tx, principal, orgRef, write);
    // After the access check, so a caller who may not write learns nothing about the server's key.
    const sealed =
      Object.keys(secrets).length > 0 ? sealSecrets(requireKeyring(ctx.keyring, 'secrets'), id, secrets) : {};
    const created = await insertIntegration(tx, {
      id,
      organization_id: org.id,
      root_id: org.root_id,
      kind: input.kind,
      external_id: input.external_id,
      display_name: input.display_name ?? null,
      config: input.config ?? {},
      sealed_secrets: sealed,
      environment_mapping: await resolveEnvironmentMapping(tx, org.id, input.environment_mapping ?? {}),
      created_by_user_id: principal.userId,
    });
    await recordAuditEvent(tx, principal, {
      action: 'integration.connected',
      organization: org,
      target: target(created.id),
      after: presentIntegration(created),
    });
    return created;
  });
  return presentIntegration(row);
}

/** Display name and config replace; secrets merge by name (null removes one). */
export async function updateIntegration(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  integrationId: string,
  changes: UpdateIntegrationBody,
  ifMatch?: IfMatch,
): Promise<Integration> {
  checkConfig(changes.config);
  const secrets = Object.entries(changes.secrets ?? {});
  const toSet = Object.fromEntries(secrets.filter((entry): entry is [string, string] => entry[1] !== null));
  const toRemove = secrets.filter(([, value]) => value === null).map(([name]) => name);
  const row = await ctx.db.transaction(async (tx) => {
    const { org, integration } = await reachIntegration(tx, principal, orgRef, integrationId, ifMatch);
    const keyring = Object.keys(toSet).length > 0 ? requireKeyring(ctx.keyring, 'secrets') : null;
    const names = new Set(integration.secret_fields);
    for (const name of toRemove) names.delete(name);
    for (const name of Object.keys(toSet)) names.add(name);
    checkSecretCount(names);
    const updated = await updateIntegrationRow(tx, integration.id, {
      display_name: changes.display_name,
      config: changes.config,
      sealSecrets: keyring ? sealSecrets(keyring, integration.id, toSet) : {},
      removeSecrets: toRemove,
    });
    await recordAuditEvent(tx, principal, {
      action: 'integration.updated',
      organization: org,
      target: target(integration.id),
      before: presentIntegration(integration),
      after: presentIntegration(updated),
    });
    return updated;
  });
  return presentIntegration(row);
}

/**
 * Merges into the mapping (RFC 7396 style): an environment given a project is set or replaced,
 * one given null is removed, the rest stay.
 */
export async function updateEnvironmentMapping(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  integrationId: string,
  input: EnvironmentMappingBody,
  ifMatch?: IfMatch,
): Promise<Integration> {
  const row = await ctx.db.transaction(async (tx) => {
    const { org, integration } = await reachIntegration(tx, principal, orgRef, integrationId, ifMatch);
    const given = Object.entries(input.environment_mapping);
    const toSet = Object.fromEntries(given.filter((entry): entry is [string, string] => entry[1] !== null));
    const resolved = await resolveEnvironmentMapping(tx, org.id, toSet);
    const merged = { ...integration.environment_mapping, ...resolved };
    for (const [environment, ref] of given) if (ref === null) delete merged[environment];
    checkEnvironmentCount(Object.keys(merged));
    const updated = await setEnvironmentMapping(tx, integration.id, merged);
    await recordAuditEvent(tx, principal, {
      action: 'integration.environment_mapping_updated',
      organization: org,
      target: target(integration.id),
      before: presentIntegration(integration),
      after: presentIntegration(updated),
    });
    return updated;
  });
  return presentIntegration(row);
}

/** Disconnects: the row stays (soft delete, for the trail); its secrets are erased. */
export async function disconnect(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  integrationId: string,
  ifMatch?: IfMatch,
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const { org, integration } = await reachIntegration(tx, principal, orgRef, integrationId, ifMatch);
    const disconnected = await disconnectIntegration(tx, integration.id);
    await recordAuditEvent(tx, principal, {
      action: 'integration.disconnected',
      organization: org,
      target: target(integration.id),
      before: presentIntegration(integration),
      after: presentIntegration(disconnected),
    });
  });
}

/**
 * The plaintext secrets of a live integration, for code inside orgstack that calls the outside
 * service; never for an HTTP answer. A value that does not open (altered in the database, or
 * sealed under a key this server lacks) is refused, never returned half-read.
 */
export async function openIntegrationSecrets(
  ctx: Pick<AppContext, 'db' | 'keyring'>,
  integrationId: string,
): Promise<Record<string, string>> {
  const row = await findSealedSecrets(ctx.db, integrationId);
  if (!row) throw notFound('integration', 'integration_id');
  const entries = Object.entries(row.sealed_secrets);
  if (entries.length === 0) return {};
  const keyring = requireKeyring(ctx.keyring, 'secrets');
  try {
    return Object.fromEntries(
      entries.map(([name, sealed]) => [name, keyring.open(sealed, secretContext(integrationId, name))]),
    );
  } catch (error) {
    if (!(error instanceof SecretUnreadable)) throw error;
    throw new ApiError(
      'secret_unreadable',
      `A secret of integration ${integrationId} cannot be opened: ${error.message}`,
    );
  }
}
