import type { AppContext } from '../../context.js';
import type { Database, Queryable } from '../../db/client.js';

/*
 * Every instance caches credentials for a few seconds. A change that must stop a credential at
 * once (a key revoked, a user deleted, an organization subtree deleted) is announced with
 * NOTIFY in the transaction that makes it, so PostgreSQL delivers it to every instance when, and
 * only if, the change commits; each instance drops what it cached. The instance that made the
 * change drops it itself as well, without waiting for the round trip.
 */

const CHANNEL = 'orgstack_credentials';
// PostgreSQL refuses payloads of 8000 bytes or more; a change too large to name is "everything".
const MAX_PAYLOAD = 7_900;

export type CredentialChange =
  | { key: string }
  | { user: string }
  | { organizations: string[] }
  | { everything: true };

/** Announces the change to every instance, on commit of `tx`. */
export async function announceCredentialChange(tx: Queryable, change: CredentialChange): Promise<void> {
  const payload = JSON.stringify(change);
  await tx.query('select pg_notify($1, $2)', [
    CHANNEL,
    payload.length < MAX_PAYLOAD ? payload : JSON.stringify({ everything: true }),
  ]);
}

/** Drops what this instance cached for the change. */
export function forgetCredentials(
  ctx: Pick<AppContext, 'credentials' | 'jwt'>,
  change: CredentialChange,
): void {
  if ('key' in change) ctx.credentials.forget(change.key);
  else if ('user' in change) {
    ctx.credentials.forgetUser(change.user);
    ctx.jwt?.forgetUser(change.user);
  } else if ('organizations' in change) ctx.credentials.forgetOrganizations(change.organizations);
  else forgetEverything(ctx);
}

function forgetEverything(ctx: Pick<AppContext, 'credentials' | 'jwt'>) {
  ctx.credentials.forgetAll();
  ctx.jwt?.forgetAll();
}

function parse(payload: string): CredentialChange {
  try {
    const change = JSON.parse(payload) as CredentialChange;
    if (change && typeof change === 'object') return change;
  } catch {
    // Not one of ours: treated as a change to everything, the safe reading.
  }
  return { everything: true };
}

/**
 * Applies the changes other instances announce. While the listening connection is down nothing is
 * heard, so each time it is (re)established everything cached is dropped: a change made in the
 * gap cannot survive in the cache. Answers a function that stops listening.
 */
export async function followCredentialChanges(
  db: Database,
  ctx: Pick<AppContext, 'credentials' | 'jwt'>,
): Promise<() => Promise<void>> {
  if (!db.listen) return async () => {};
  return db.listen(
    CHANNEL,
    (payload) => forgetCredentials(ctx, parse(payload)),
    () => forgetEverything(ctx),
  );
}
