import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/*
 * Secrets at rest. Each value is sealed with AES-256-GCM under the instance's secret key, with a
 * fresh random 96-bit nonce and associated data naming what the value belongs to (for example
 * `integration/<id>/api_token`), so a ciphertext copied into another row or field does not open.
 * A sealed value is one string:
 *
 *   v1.<key id>.<nonce>.<ciphertext and tag>      (the last two in base64url)
 *
 * The key id names the key that sealed it, so keys can be rotated: values are sealed with the
 * current key and opened with whichever key the id names (the current or a previous one).
 */

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';
const SEALED = /^v1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;

/** A sealed value that cannot be opened: tampered with, bound to something else, or under an unknown key. */
export class SecretUnreadable extends Error {}

/** Whether a stored value is sealed (as opposed to text stored before encryption existed). */
export const isSealed = (value: string) => SEALED.test(value);

/**
 * A 32-byte key written as 64 hex characters or as base64 (standard or URL-safe); null when the
 * text is neither. `openssl rand -base64 32` prints one.
 */
export function parseSecretKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return null;
  const key = Buffer.from(trimmed.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  return key.length === KEY_BYTES ? key : null;
}

/** A new random key in the form `parseSecretKey` reads. */
export const newSecretKey = () => randomBytes(KEY_BYTES).toString('base64');

/** A short public name for a key: a hash of it, so the key itself never has to be written down. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('orgstack secret key id\0').update(key).digest('hex').slice(0, 16);
}

export class Keyring {
  readonly currentKeyId: string;
  private readonly current: Buffer;
  private readonly keys = new Map<string, Buffer>();
  private readonly digestKeys = new Map<string, Buffer>();

  /** `current` seals; it and every `previous` key open. */
  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== KEY_BYTES) throw new Error(`a secret key must be ${KEY_BYTES} bytes`);
      this.keys.set(keyIdOf(key), key);
    }
    this.current = current;
    this.currentKeyId = keyIdOf(current);
  }

  /** Encrypts `plaintext` bound to `context`: opening it needs the same context. */
  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [FORMAT, this.currentKeyId, nonce.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** The plaintext of a value sealed for `context`; throws SecretUnreadable for anything else. */
  open(sealed: string, context: string): string {
    const parts = SEALED.exec(sealed);
    if (!parts) throw new SecretUnreadable('The value is not a sealed secret.');
    const [, keyId, nonceText, bodyText] = parts as unknown as [string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) throw new SecretUnreadable(`The secret was sealed with key ${keyId}, which is not configured.`);
    const body = Buffer.from(bodyText, 'base64url');
    if (body.length < TAG_BYTES) throw new SecretUnreadable('The sealed secret is truncated.');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonceText, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretUnreadable(
        'The sealed secret failed authentication: altered, or bound to something else.',
      );
    }
  }

  /**
   * A keyed digest (HMAC-SHA256 under a key derived from the current one for `purpose`): for
   * values that must be compared later but may contain a secret, where a plain hash would let
   * anyone who reads the database test guesses against it.
   */
  digest(text: string, purpose: string): string {
    let key = this.digestKeys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.current, Buffer.alloc(0), `orgstack digest ${purpose}`, 32));
      this.digestKeys.set(purpose, key);
    }
    return createHmac('sha256', key).update(text, 'utf8').digest('hex');
  }

  /** Whether a stored value is sealed under the current key; clear text and older keys need resealing. */
  isCurrent(value: string): boolean {
    return SEALED.exec(value)?.[1] === this.currentKeyId;
  }
}
