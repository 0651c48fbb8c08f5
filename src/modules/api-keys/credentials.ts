import type { Database } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import { expandScopes, type Principal, type Scope } from '../../http/principal.js';
import { type CredentialRow, findCredential, touchLastUsed } from './queries.js';
import { hashSecret } from './secrets.js';

interface CacheEntry {
  row: CredentialRow;
  principal: Principal;
  loadedAt: number;
}

const LAST_USED_FLUSH_MS = 10_000;
const MAX_CACHE_ENTRIES = 10_000;

/**
 * Turns a bearer secret into a principal. Lookups are cached for a few seconds so an
 * authenticated read costs one statement, not two; a revocation evicts the key here at once, and
 * on other instances as soon as its announcement reaches them (revocations.ts), else when their
 * entry expires.
 */
export class Credentials {
  private readonly cache = new Map<string, CacheEntry>();
  /** Moves on every eviction, so a lookup that raced a revocation does not cache what it read. */
  private generation = 0;
  private readonly used = new Set<string>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS);
    this.flushTimer.unref();
  }

  async authenticate(secret: string): Promise<Principal> {
    if (secret.length < 16 || secret.length > 200) throw invalidKey();
    const hash = hashSecret(secret);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || now - entry.loadedAt >= this.ttlMs) {
      const generation = this.generation;
      const row = await findCredential(this.db, hash);
      if (!row) throw invalidKey();
      entry = { row, principal: toPrincipal(row), loadedAt: now };
      if (this.ttlMs > 0 && generation === this.generation) this.remember(hash, entry);
    }
    const { row } = entry;
    if (row.revoked_at) throw new ApiError('invalid_api_key', 'The API key has been revoked.');
    if (row.expires_at && row.expires_at.getTime() <= now) {
      throw new ApiError('invalid_api_key', 'The API key has expired.');
    }
    if (row.owner_gone) throw invalidKey();
    this.used.add(row.id);
    return entry.principal;
  }

  /** Drops a key from this instance's cache: called in the same request that revoked it. */
  forget(keyId: string): void {
    this.generation++;
    for (const [hash, entry] of this.cache) if (entry.row.id === keyId) this.cache.delete(hash);
  }

  /** Drops the organization keys of these organizations (a deleted subtree). */
  forgetOrganizations(organizationIds: readonly string[]): void {
    this.generation++;
    const gone = new Set(organizationIds);
    for (const [hash, entry] of this.cache) {
      if (entry.row.organization_id && gone.has(entry.row.organization_id)) this.cache.delete(hash);
    }
  }

  /** Drops the personal keys of a deleted user. */
  forgetUser(userId: string): void {
    this.generation++;
    for (const [hash, entry] of this.cache) if (entry.row.user_id === userId) this.cache.delete(hash);
  }

  /** Drops every cached key: what a missed or too large announcement calls for. */
  forgetAll(): void {
    this.generation++;
    this.cache.clear();
  }

  async flushLastUsed(): Promise<void> {
    if (this.used.size === 0) return;
    const ids = [...this.used];
    this.used.clear();
    try {
      await touchLastUsed(this.db, ids);
    } catch (error) {
      this.onError(error);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastUsed();
  }

  private remember(hash: string, entry: CacheEntry) {
    if (this.cache.size >= MAX_CACHE_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(hash, entry);
  }
}

// Built only when thrown: an error captures a stack, too costly for every valid request.
const invalidKey = () => new ApiError('invalid_api_key', 'The API key is not valid.');

function toPrincipal(row: CredentialRow): Principal {
  const kind = row.kind === 'personal' ? 'user' : row.kind;
  return {
    kind,
    via: 'api_key',
    keyId: row.id,
    userId: row.user_id,
    organizationId: row.organization_id,
    scopes: row.scopes as Scope[],
    granted: expandScopes(row.scopes),
    authMethods: [],
    secondFactor: false,
  };
}
