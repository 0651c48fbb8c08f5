import type { Queryable } from '../db/client.js';
import { secretContext } from '../modules/integrations/fields.js';
import { sealedFor } from '../modules/webhooks/signing.js';
import { isSealed, type Keyring, SecretUnreadable } from './keyring.js';

/*
 * Re-encrypting what is stored. Rows are read in keyset batches and each changed row is written
 * back only if it still holds what was read, so a write racing with a reseal is never undone.
 * Storage format is not a new version of a resource: `updated_at` (and so the ETag) stays.
 */

const BATCH = 200;

/** A value that cannot be opened stops the run, naming it: resealing must not lose a secret. */
function openOrExplain(keyring: Keyring, stored: string, context: string, what: string): string {
  try {
    return keyring.open(stored, context);
  } catch (error) {
    if (!(error instanceof SecretUnreadable)) throw error;
    throw new Error(
      `${what} cannot be opened (${error.message}); set ORGSTACK_SECRET_KEY_PREVIOUS to the key it was sealed with`,
    );
  }
}

/**
 * Seals webhook signing secrets under the current key: those stored in clear (before encryption
 * existed, or while no key was set) and, with `all`, those sealed under an earlier key.
 */
async function resealWebhookSecrets(db: Queryable, keyring: Keyring, all: boolean): Promise<number> {
  let changed = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await db.query<{ id: string; secret: string }>(
      'select id, secret from webhook_endpoints where id > $1 order by id limit $2',
      [after, BATCH],
    );
    for (const { id, secret } of rows) {
      if (keyring.isCurrent(secret) || (!all && isSealed(secret))) continue;
      const plain = isSealed(secret)
        ? openOrExplain(keyring, secret, sealedFor(id), `the signing secret of webhook endpoint ${id}`)
        : secret;
      const updated = await db.query(
        'update webhook_endpoints set secret = $3 where id = $1 and secret = $2 returning 1',
        [id, secret, keyring.seal(plain, sealedFor(id))],
      );
      changed += updated.length;
    }
    if (rows.length < BATCH) return changed;
    after = rows[rows.length - 1]!.id;
  }
}

/** Seals the signing secrets still stored in clear; run at every start, cheap when there are none. */
export function sealClearWebhookSecrets(db: Queryable, keyring: Keyring): Promise<number> {
  return resealWebhookSecrets(db, keyring, false);
}

async function resealIntegrationSecrets(db: Queryable, keyring: Keyring): Promise<number> {
  let changed = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await db.query<{ id: string; sealed_secrets: Record<string, string> }>(
      `select id, sealed_secrets from organization_integrations
        where id > $1 and sealed_secrets <> '{}'::jsonb order by id limit $2`,
      [after, BATCH],
    );
    for (const { id, sealed_secrets } of rows) {
      const stale = Object.entries(sealed_secrets).filter(([, sealed]) => !keyring.isCurrent(sealed));
      if (stale.length === 0) continue;
      const resealed = { ...sealed_secrets };
      for (const [name, sealed] of stale) {
        const plain = openOrExplain(
          keyring,
          sealed,
          secretContext(id, name),
          `secret ${name} of integration ${id}`,
        );
        resealed[name] = keyring.seal(plain, secretContext(id, name));
      }
      const updated = await db.query(
        `update organization_integrations set sealed_secrets = $3::jsonb
          where id = $1 and sealed_secrets = $2::jsonb returning 1`,
        [id, sealed_secrets, resealed],
      );
      changed += updated.length;
    }
    if (rows.length < BATCH) return changed;
    after = rows[rows.length - 1]!.id;
  }
}

export interface ResealReport {
  webhookEndpoints: number;
  integrations: number;
}

/**
 * Re-encrypts every stored secret not sealed under the current key. After rotating
 * `ORGSTACK_SECRET_KEY` (the old key moved to `ORGSTACK_SECRET_KEY_PREVIOUS`), run this; once it
 * is done the previous key can be dropped.
 */
export async function resealSecrets(db: Queryable, keyring: Keyring): Promise<ResealReport> {
  return {
    webhookEndpoints: await resealWebhookSecrets(db, keyring, true),
    integrations: await resealIntegrationSecrets(db, keyring),
  };
}
