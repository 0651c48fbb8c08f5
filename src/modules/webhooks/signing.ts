import { createHmac, randomBytes } from 'node:crypto';
import { isSealed, type Keyring, SecretUnreadable } from '../../secrets/keyring.js';

/*
 * Signatures as the Standard Webhooks specification defines them: the secret is `whsec_` and
 * base64 key bytes; the signature is `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.
 */

export function newSigningSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function sign(secret: string, messageId: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${messageId}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** What a sealed signing secret is bound to. */
export const sealedFor = (endpointId: string) => `webhook_endpoint/${endpointId}/secret`;

/**
 * The signing secret as it is stored: sealed when the server has a key. Without one (PostgreSQL
 * and no `ORGSTACK_SECRET_KEY`) it is stored as it is, as before encryption existed, so webhooks
 * keep working; setting the key later seals such rows at the next start.
 */
export function storedSigningSecret(keyring: Keyring | null, endpointId: string, secret: string): string {
  return keyring ? keyring.seal(secret, sealedFor(endpointId)) : secret;
}

/** The signing secret of a stored value; throws SecretUnreadable when a sealed one cannot be opened. */
export function openSigningSecret(keyring: Keyring | null, endpointId: string, stored: string): string {
  if (!isSealed(stored)) return stored;
  if (!keyring) throw new SecretUnreadable('The signing secret is sealed and no ORGSTACK_SECRET_KEY is set.');
  return keyring.open(stored, sealedFor(endpointId));
}
