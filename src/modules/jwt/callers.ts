import { uuidv7 } from 'uuidv7';
import type { Database, Queryable } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import { expandScopes, type Principal, type RequestOrigin, SCOPES } from '../../http/principal.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { presentUser } from '../users/present.js';
import { findUserByEmail, findUserById, insertUser, type UserRow, updateUser } from '../users/queries.js';
import type { Identity } from './identity.js';
import { readIdentity } from './identity.js';
import { emailHeldByOther, externalIdWasDeleted, findUserByExternalId, lockIdentity } from './queries.js';
import { KeySetUnavailable, type TokenVerifier } from './verifier.js';

interface CacheEntry {
  user: UserRow;
  /** The name and email the token carried when the entry was made (an email held by another user stays unsynced). */
  profile: string;
  loadedAt: number;
}

const MAX_CACHE_ENTRIES = 10_000;
const USER_GRANTED = expandScopes(SCOPES);

type ProfileChanges = { name?: string; email?: string };

/**
 * Turns a verified JWT into a user principal. The user is the one whose `external_id` is the
 * token's `sub`, created (or linked by email) on first sight; name and email follow the claims.
 * Users are cached by `sub` for a few seconds; deleting a user evicts it here at once.
 */
export class JwtCallers {
  private readonly cache = new Map<string, CacheEntry>();
  /** Moves on every eviction, so a lookup that raced a delete does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly db: Database,
    private readonly verifier: TokenVerifier,
    private readonly ttlMs: number,
    private readonly onKeySetError: (error: KeySetUnavailable) => void,
  ) {}

  async authenticate(token: string, origin?: RequestOrigin): Promise<Principal> {
    const identity = readIdentity(await this.verify(token));
    const user = await this.userFor(identity, origin);
    return principalFor(user.id, identity);
  }

  /** Drops a deleted or changed user: its next request reads the database again. */
  forgetUser(userId: string): void {
    this.generation++;
    for (const [subject, entry] of this.cache) if (entry.user.id === userId) this.cache.delete(subject);
  }

  /** Drops every cached user. */
  forgetAll(): void {
    this.generation++;
    this.cache.clear();
  }

  private async verify(token: string) {
    try {
      return await this.verifier.verify(token);
    } catch (error) {
      if (!(error instanceof KeySetUnavailable)) throw error;
      this.onKeySetError(error);
      throw new ApiError(
        'service_unavailable',
        "The identity provider's keys cannot be fetched right now; retry shortly.",
      );
    }
  }

  private async userFor(identity: Identity, origin: RequestOrigin | undefined): Promise<UserRow> {
    const now = Date.now();
    const profile = `${identity.email ?? ''}\n${identity.name ?? ''}`;
    const cached = this.cache.get(identity.subject);
    // Tokens without profile claims (many access tokens) agree with any cached user.
    const agrees = (entry: CacheEntry) =>
      entry.profile === profile || !hasChanges(profileChanges(entry.user, identity));
    if (cached && now - cached.loadedAt < this.ttlMs && agrees(cached)) return cached.user;
    const generation = this.generation;
    let user = await findUserByExternalId(this.db, identity.subject);
    if (!user) user = await this.provision(identity, origin);
    else if (hasChanges(profileChanges(user, identity)))
      user = await this.syncProfile(user, identity, origin);
    if (this.ttlMs > 0 && generation === this.generation) {
      this.remember(identity.subject, { user, profile, loadedAt: now });
    }
    return user;
  }

  /** First sight of a `sub`: link the live user with the token's email, or create one. */
  private provision(identity: Identity, origin: RequestOrigin | undefined): Promise<UserRow> {
    return this.db.transaction(async (tx) => {
      await lockIdentity(tx, identity.subject, identity.email);
      const raced = await findUserByExternalId(tx, identity.subject);
      if (raced) return raced;
      // Deleting a user is an admin's decision; a token from the provider does not undo it.
      if (await externalIdWasDeleted(tx, identity.subject)) throw userDeleted();
      if (!identity.email) {
        throw new ApiError(
          'token_email_required',
          'No user has this `sub` as external_id, and the token has no `email` claim to create one.',
        );
      }
      if (identity.emailVerified === false) {
        throw new ApiError(
          'email_not_verified',
          'The token says its email is not verified (`email_verified: false`); it cannot create or link a user.',
        );
      }
      const holder = await findUserByEmail(tx, identity.email);
      if (holder?.external_id) {
        throw new ApiError(
          'identity_conflict',
          'A user with this email is linked to another identity (a different external_id).',
        );
      }
      if (holder) return link(tx, holder, identity, origin);
      const created = await insertUser(tx, {
        id: uuidv7(),
        email: identity.email,
        name: identity.name,
        externalId: identity.subject,
        metadata: {},
      });
      await recordAuditEvent(tx, principalFor(created.id, identity, origin), {
        action: 'user.created',
        organization: null,
        target: { type: 'user', id: created.id },
        after: presentUser(created),
      });
      return created;
    });
  }

  /** The provider is the source of name and email for its users; an email another user holds stays put. */
  private syncProfile(
    user: UserRow,
    identity: Identity,
    origin: RequestOrigin | undefined,
  ): Promise<UserRow> {
    return this.db.transaction(async (tx) => {
      const current = await findUserById(tx, user.id, true);
      if (!current) throw userDeleted();
      const changes = profileChanges(current, identity);
      if (changes.email && (await emailHeldByOther(tx, changes.email, current.id))) delete changes.email;
      if (!hasChanges(changes)) return current;
      return updateWithAudit(tx, current, changes, identity, origin);
    });
  }

  private remember(subject: string, entry: CacheEntry) {
    if (this.cache.size >= MAX_CACHE_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(subject, entry);
  }
}

function link(tx: Queryable, holder: UserRow, identity: Identity, origin: RequestOrigin | undefined) {
  return updateWithAudit(
    tx,
    holder,
    { external_id: identity.subject, ...profileChanges(holder, identity) },
    identity,
    origin,
  );
}

async function updateWithAudit(
  tx: Queryable,
  before: UserRow,
  changes: ProfileChanges & { external_id?: string },
  identity: Identity,
  origin: RequestOrigin | undefined,
): Promise<UserRow> {
  const updated = await updateUser(tx, before.id, changes);
  await recordAuditEvent(tx, principalFor(before.id, identity, origin), {
    action: 'user.updated',
    organization: null,
    target: { type: 'user', id: before.id },
    before: presentUser(before),
    after: presentUser(updated),
  });
  return updated;
}

/** Claims that differ from the stored user; an email the provider calls unverified is not taken. */
function profileChanges(user: UserRow, identity: Identity): ProfileChanges {
  const changes: ProfileChanges = {};
  if (identity.name !== null && identity.name !== user.name) changes.name = identity.name;
  if (identity.email !== null && identity.emailVerified !== false && identity.email !== user.email) {
    changes.email = identity.email;
  }
  return changes;
}

const hasChanges = (changes: ProfileChanges) => changes.name !== undefined || changes.email !== undefined;

const userDeleted = () => new ApiError('user_deleted', 'The user this token names has been deleted.');

/** A JWT is the user's own session: it acts with every scope a user can hold, and no key. */
function principalFor(userId: string, identity: Identity, origin?: RequestOrigin): Principal {
  return {
    kind: 'user',
    via: 'jwt',
    keyId: null,
    userId,
    organizationId: null,
    scopes: SCOPES,
    granted: USER_GRANTED,
    authMethods: identity.authMethods,
    secondFactor: identity.secondFactor,
    ...(origin ? { origin } : {}),
  };
}
