import { uuidv7 } from 'uuidv7';
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError, notFound } from '../../http/errors.js';
import { type PageResult, pageRequest, toPage } from '../../http/pagination.js';
import { type Principal, requireScope, SCOPES, type Scope } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { reachOrganization } from '../organizations/access.js';
import { needing } from '../roles/permissions.js';
import { findUserById } from '../users/queries.js';
import {
  type ApiKeyRow,
  adminKeyExists,
  findApiKey,
  insertApiKey,
  keyHashExists,
  listApiKeys,
  revokeApiKey as revokeApiKeyRow,
} from './queries.js';
import { announceCredentialChange, forgetCredentials } from './revocations.js';
import type {
  ApiKey,
  CreateApiKeyBody,
  CreatedApiKey,
  CreateOrganizationKeyBody,
  ListApiKeysQuery,
  ListOrganizationKeysQuery,
} from './schemas.js';
import { displayPrefix, hashSecret, newSecret } from './secrets.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function presentApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    user_id: row.user_id,
    organization_id: row.organization_id,
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
    created_at: row.created_at.toISOString(),
  };
}

/** A key may hand out only scopes it holds itself: no escalation through key creation. */
function grantableScopes(principal: Principal, requested: readonly Scope[] | undefined): Scope[] {
  const scopes = [...(requested ?? (principal.kind === 'admin' ? SCOPES : principal.scopes))];
  const missing = scopes.find((scope) => !principal.granted.has(scope));
  if (missing)
    throw new ApiError(
      'forbidden',
      `A key cannot grant \`${missing}\`, which it does not hold itself.`,
      'scopes',
    );
  return scopes;
}

function expiry(expiresAt: string | null | undefined): string | null {
  if (!expiresAt) return null;
  const time = Date.parse(expiresAt);
  // RFC 3339 allows a leap second (23:59:60) that JavaScript dates cannot represent.
  if (Number.isNaN(time))
    throw new ApiError('invalid_request', 'expires_at is not a valid time.', 'expires_at');
  if (time <= Date.now()) {
    throw new ApiError('invalid_request', 'expires_at must be in the future.', 'expires_at');
  }
  return new Date(time).toISOString();
}

interface KeyOwner {
  kind: ApiKeyRow['kind'];
  userId: string | null;
  organizationId: string | null;
  rootId: string | null;
}

async function issueKey(
  db: Queryable,
  principal: Principal | null,
  owner: KeyOwner,
  input: { name?: string; scopes: Scope[]; expires_at?: string | null },
  secret = newSecret(),
): Promise<CreatedApiKey> {
  const row = await insertApiKey(db, {
    id: uuidv7(),
    kind: owner.kind,
    name: input.name ?? null,
    prefix: displayPrefix(secret),
    keyHash: hashSecret(secret),
    userId: owner.userId,
    organizationId: owner.organizationId,
    rootId: owner.rootId,
    scopes: input.scopes,
    expiresAt: expiry(input.expires_at),
    createdByKeyId: principal?.keyId ?? null,
  });
  const created = presentApiKey(row);
  if (principal) {
    await recordAuditEvent(db, principal, {
      action: 'api_key.created',
      organization: owner.organizationId ? { id: owner.organizationId, root_id: owner.rootId! } : null,
      target: { type: 'api_key', id: row.id },
      after: created,
    });
  }
  return { ...created, secret };
}

/** Personal keys (and, for admins, admin keys or keys for another user). */
export async function createApiKey(
  ctx: AppContext,
  principal: Principal,
  input: CreateApiKeyBody,
): Promise<CreatedApiKey> {
  requireScope(principal, 'api_key:write');
  const scopes = grantableScopes(principal, input.scopes);
  if (principal.kind === 'organization') {
    throw new ApiError('forbidden', 'Organization keys create keys under /v1/organizations/{org}/api-keys.');
  }
  if (principal.kind === 'user' && (input.user_id || input.kind === 'admin')) {
    throw new ApiError(
      'forbidden',
      'Only an admin key may create admin keys or keys for other users.',
      input.user_id ? 'user_id' : 'kind',
    );
  }
  if (input.kind === 'admin') {
    if (input.user_id) throw new ApiError('invalid_request', 'An admin key belongs to no user.', 'user_id');
    return ctx.db.transaction((tx) =>
      issueKey(
        tx,
        principal,
        { kind: 'admin', userId: null, organizationId: null, rootId: null },
        { ...input, scopes },
      ),
    );
  }
  const userId = principal.kind === 'user' ? principal.userId : input.user_id;
  if (!userId)
    throw new ApiError('invalid_request', 'An admin key must name `user_id` or `kind: "admin"`.', 'user_id');
  return ctx.db.transaction(async (tx) => {
    if (!(await findUserById(tx, userId))) throw notFound('user', 'user_id');
    return issueKey(
      tx,
      principal,
      { kind: 'personal', userId, organizationId: null, rootId: null },
      { ...input, scopes },
    );
  });
}

export async function listKeys(
  ctx: AppContext,
  principal: Principal,
  input: ListApiKeysQuery,
): Promise<PageResult<ApiKey>> {
  requireScope(principal, 'api_key:read');
  if (principal.kind === 'organization') {
    throw new ApiError('forbidden', 'Organization keys list keys under /v1/organizations/{org}/api-keys.');
  }
  if (principal.kind === 'user' && (input.user_id || input.kind)) {
    throw new ApiError(
      'forbidden',
      'Only an admin key may list other keys.',
      input.user_id ? 'user_id' : 'kind',
    );
  }
  const page = pageRequest(input, isUuid);
  const rows = await listApiKeys(
    ctx.db,
    principal.kind === 'user'
      ? { userId: principal.userId!, kind: 'personal', includeRevoked: input.include_revoked }
      : { userId: input.user_id, kind: input.kind, includeRevoked: input.include_revoked },
    page,
  );
  return toPage(rows, page, (row) => row.id, presentApiKey);
}

export async function createOrganizationKey(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: CreateOrganizationKeyBody,
): Promise<CreatedApiKey> {
  return ctx.db.transaction(async (tx) => {
    // Rank only, no permission: the key acts as an admin, more than a custom role may hand out.
    const org = await reachOrganization(tx, principal, orgRef, { role: 'admin', scope: 'api_key:write' });
    const scopes = grantableScopes(principal, input.scopes);
    return issueKey(
      tx,
      principal,
      { kind: 'organization', userId: null, organizationId: org.id, rootId: org.root_id },
      {
        ...input,
        scopes,
      },
    );
  });
}

export async function listOrganizationKeys(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: ListOrganizationKeysQuery,
): Promise<PageResult<ApiKey>> {
  const org = await reachOrganization(ctx.db, principal, orgRef, needing('api_key:manage', 'api_key:read'));
  const page = pageRequest(input, isUuid);
  const rows = await listApiKeys(
    ctx.db,
    { organizationId: org.id, kind: 'organization', includeRevoked: input.include_revoked },
    page,
  );
  return toPage(rows, page, (row) => row.id, presentApiKey);
}

/** Whether the principal may manage this key; answers 404 rather than reveal someone else's key. */
async function mayManage(db: Queryable, principal: Principal, key: ApiKeyRow): Promise<boolean> {
  if (principal.kind === 'admin') return true;
  if (key.kind === 'personal') return principal.kind === 'user' && key.user_id === principal.userId;
  if (key.kind === 'organization' && key.organization_id) {
    try {
      await reachOrganization(db, principal, key.organization_id, {
        ...needing('api_key:manage', 'api_key:write'),
        includeDeleted: true,
      });
      return true;
    } catch {
      return false;
    }
  }
  return false;
}

export async function revokeKey(ctx: AppContext, principal: Principal, keyId: string): Promise<ApiKey> {
  requireScope(principal, 'api_key:write');
  const row = await ctx.db.transaction(async (tx) => {
    const key = await findApiKey(tx, keyId);
    if (!key || !(await mayManage(tx, principal, key))) throw notFound('API key', 'key_id');
    const revoked = (await revokeApiKeyRow(tx, key.id))!;
    await announceCredentialChange(tx, { key: key.id });
    await recordAuditEvent(tx, principal, {
      action: 'api_key.revoked',
      organization: revoked.organization_id
        ? { id: revoked.organization_id, root_id: revoked.root_id! }
        : null,
      target: { type: 'api_key', id: key.id },
      before: presentApiKey(key),
      after: presentApiKey(revoked),
    });
    return revoked;
  });
  forgetCredentials(ctx, { key: row.id });
  return presentApiKey(row);
}

/**
 * Start-up: makes `ORGSTACK_ADMIN_KEY` a working admin key, or creates the first admin key
 * when none exists. Returns the secret only when it was generated here, so it can be shown once.
 */
export async function ensureAdminKey(
  ctx: Pick<AppContext, 'db'>,
  configured: string | undefined,
): Promise<string | null> {
  return ctx.db.transaction(async (tx) => {
    // Two instances starting together must not both create a first key.
    await tx.query('select pg_advisory_xact_lock(727274303)');
    const adminKey = { kind: 'admin' as const, userId: null, organizationId: null, rootId: null };
    if (configured) {
      if (!(await keyHashExists(tx, hashSecret(configured)))) {
        await issueKey(tx, null, adminKey, { name: 'ORGSTACK_ADMIN_KEY', scopes: [...SCOPES] }, configured);
      }
      return null;
    }
    if (await adminKeyExists(tx)) return null;
    const created = await issueKey(tx, null, adminKey, { name: 'first admin key', scopes: [...SCOPES] });
    return created.secret;
  });
}

/** For operators (the `create-admin-key` command): a new admin key, its secret returned once. */
export async function createAdminKey(ctx: Pick<AppContext, 'db'>, name: string): Promise<CreatedApiKey> {
  const adminKey = { kind: 'admin' as const, userId: null, organizationId: null, rootId: null };
  return issueKey(ctx.db, null, adminKey, { name, scopes: [...SCOPES] });
}
