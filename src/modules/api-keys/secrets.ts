import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const KEY_PREFIX = 'osk_';

/** A new secret: `osk_` (or another prefix) and 40 base62 characters (about 238 bits). */
export function newSecret(prefix = KEY_PREFIX): string {
  const bytes = randomBytes(40);
  let body = '';
  for (const byte of bytes) body += ALPHABET[byte % 62];
  return prefix + body;
}

/** Only this hash is stored; a key is found by the hash of what the caller sends. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The readable start of a key, shown in lists so people can tell keys apart. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, KEY_PREFIX.length + 8);
}
