import type { Queryable } from '../../db/client.js';
import { touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import type { PageRequest } from '../../http/pagination.js';

export interface ApiKeyRow {
  id: string;
  kind: 'admin' | 'personal' | 'organization';
  name: string | null;
  prefix: string;
  user_id: string | null;
  organization_id: string | null;
  root_id: string | null;
  scopes: string[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const COLUMNS = `k.id, k.kind, k.name, k.prefix, k.user_id, k.organization_id, k.root_id, k.scopes,
  k.expires_at, k.last_used_at, k.revoked_at, k.created_at`;

export interface CredentialRow extends ApiKeyRow {
  owner_gone: boolean;
}

/** The key a secret hashes to, and whether the user or organization behind it is gone. */
export async function findCredential(db: Queryable, keyHash: string): Promise<CredentialRow | undefined> {
  const rows = await db.query<CredentialRow>(
    `select ${COLUMNS}, (u.deleted_at is not null or o.deleted_at is not null) as owner_gone
       from api_keys k
       left join users u on u.id = k.user_id
       left join organizations o on o.id = k.organization_id
      where k.key_hash = $1`,
    [keyHash],
  );
  return rows[0];
}

export interface NewApiKey {
  id: string;
  kind: ApiKeyRow['kind'];
  name: string | null;
  prefix: string;
  keyHash: string;
  userId: string | null;
  organizationId: string | null;
  rootId: string | null;
  scopes: string[];
  expiresAt: string | null;
  createdByKeyId: string | null;
}

export async function insertApiKey(db: Queryable, key: NewApiKey): Promise<ApiKeyRow> {
  const rows = await db.query<ApiKeyRow>(
    `insert into api_keys (id, kind, name, prefix, key_hash, user_id, organization_id, root_id, scopes,
                           expires_at, created_by_key_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10::timestamptz, $11)
     returning ${COLUMNS.replaceAll('k.', '')}`,
    [
      key.id,
      key.kind,
      key.name,
      key.prefix,
      key.keyHash,
      key.userId,
      key.organizationId,
      key.rootId,
      key.scopes,
      key.expiresAt,
      key.createdByKeyId,
    ],
  );
  return rows[0]!;
}

export interface ApiKeyFilter {
  userId?: string;
  organizationId?: string;
  kind?: ApiKeyRow['kind'];
  includeRevoked: boolean;
}

export async function listApiKeys(
  db: Queryable,
  filter: ApiKeyFilter,
  page: PageRequest,
): Promise<ApiKeyRow[]> {
  const params: unknown[] = [];
  const conditions: string[] = [];
  if (filter.userId) {
    params.push(filter.userId);
    conditions.push(`k.user_id = $${params.length}`);
  }
  if (filter.organizationId) {
    params.push(filter.organizationId);
    conditions.push(`k.organization_id = $${params.length}`);
  }
  if (filter.kind) {
    params.push(filter.kind);
    conditions.push(`k.kind = $${params.length}`);
  }
  if (!filter.includeRevoked) conditions.push('k.revoked_at is null');
  const keyset = keysetSql('k.id', page, params);
  conditions.push(keyset.where);
  return db.query<ApiKeyRow>(
    `select ${COLUMNS} from api_keys k where ${conditions.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

export async function findApiKey(db: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  const rows = await db.query<ApiKeyRow>(`select ${COLUMNS} from api_keys k where k.id = $1`, [id]);
  return rows[0];
}

export async function revokeApiKey(db: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  const rows = await db.query<ApiKeyRow>(
    `update api_keys set revoked_at = coalesce(revoked_at, now()), ${touchUpdatedAt()}
      where id = $1 returning ${COLUMNS.replaceAll('k.', '')}`,
    [id],
  );
  return rows[0];
}

export async function revokeUserKeys(db: Queryable, userId: string): Promise<void> {
  await db.query(
    `update api_keys set revoked_at = now(), ${touchUpdatedAt()} where user_id = $1 and revoked_at is null`,
    [userId],
  );
}

export async function touchLastUsed(db: Queryable, ids: string[]): Promise<void> {
  await db.query('update api_keys set last_used_at = now() where id = any($1::uuid[])', [ids]);
}

export async function adminKeyExists(db: Queryable): Promise<boolean> {
  const rows = await db.query<{ found: boolean }>(
    `select exists(select 1 from api_keys where kind = 'admin' and revoked_at is null) as found`,
  );
  return rows[0]?.found ?? false;
}

export async function keyHashExists(db: Queryable, keyHash: string): Promise<boolean> {
  const rows = await db.query<{ found: boolean }>(
    'select exists(select 1 from api_keys where key_hash = $1) as found',
    [keyHash],
  );
  return rows[0]?.found ?? false;
}
