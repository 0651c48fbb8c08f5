import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { isSealed, Keyring, keyIdOf, newSecretKey, parseSecretKey, SecretUnreadable } from './keyring.js';
import { KEY_FILE, openKeyring } from './setup.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);

/** Flips one character of a base64url segment of a sealed value. */
function flip(sealed: string, segment: number): string {
  const parts = sealed.split('.');
  const text = parts[segment]!;
  const at = Math.floor(text.length / 2);
  parts[segment] = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
  return parts.join('.');
}

describe('keyring', () => {
  it('seals with a fresh nonce each time and opens only with the same context', () => {
    const ring = new Keyring(keyA);
    const one = ring.seal('tok_live_123', 'integration/1/api_token');
    const two = ring.seal('tok_live_123', 'integration/1/api_token');
    expect(one).not.toBe(two);
    expect(one).not.toContain('tok_live_123');
    expect(isSealed(one)).toBe(true);
    expect(one.split('.')[1]).toBe(keyIdOf(keyA));
    expect(ring.open(one, 'integration/1/api_token')).toBe('tok_live_123');
    expect(ring.open(two, 'integration/1/api_token')).toBe('tok_live_123');
    expect(() => ring.open(one, 'integration/2/api_token')).toThrow(SecretUnreadable);
    expect(() => ring.open(one, 'integration/1/webhook_secret')).toThrow(SecretUnreadable);
    expect(ring.open(ring.seal('é ✓ 😀', 'x'), 'x')).toBe('é ✓ 😀');
  });

  it('refuses any altered part of a sealed value', () => {
    const ring = new Keyring(keyA);
    const sealed = ring.seal('a secret value', 'ctx');
    expect(() => ring.open(flip(sealed, 2), 'ctx')).toThrow(SecretUnreadable);
    expect(() => ring.open(flip(sealed, 3), 'ctx')).toThrow(SecretUnreadable);
    expect(() => ring.open(sealed.slice(0, -4), 'ctx')).toThrow(SecretUnreadable);
    expect(() => ring.open(sealed.replace(/^v1/, 'v2'), 'ctx')).toThrow(SecretUnreadable);
    expect(() => ring.open('whsec_plain', 'ctx')).toThrow(SecretUnreadable);
    expect(() => ring.open(`${sealed}.extra`, 'ctx')).toThrow(SecretUnreadable);
  });

  it('rotates: the current key seals, previous keys still open, unknown keys do not', () => {
    const old = new Keyring(keyA);
    const sealedBefore = old.seal('v', 'ctx');
    const rotated = new Keyring(keyB, [keyA]);
    expect(rotated.open(sealedBefore, 'ctx')).toBe('v');
    expect(rotated.isCurrent(sealedBefore)).toBe(false);
    const sealedAfter = rotated.seal('v', 'ctx');
    expect(rotated.isCurrent(sealedAfter)).toBe(true);
    expect(sealedAfter.split('.')[1]).toBe(keyIdOf(keyB));
    expect(() => old.open(sealedAfter, 'ctx')).toThrow(/not configured/);
    expect(() => new Keyring(keyB).open(sealedBefore, 'ctx')).toThrow(SecretUnreadable);
  });

  it('digests with a key of its own per purpose', () => {
    const ring = new Keyring(keyA);
    expect(ring.digest('text', 'idempotency')).toBe(new Keyring(keyA, [keyB]).digest('text', 'idempotency'));
    expect(ring.digest('text', 'idempotency')).toMatch(/^[0-9a-f]{64}$/);
    expect(ring.digest('text', 'other')).not.toBe(ring.digest('text', 'idempotency'));
    expect(new Keyring(keyB).digest('text', 'idempotency')).not.toBe(ring.digest('text', 'idempotency'));
  });

  it('reads keys as hex or base64 and nothing else', () => {
    expect(parseSecretKey('01'.repeat(32))).toEqual(keyA);
    expect(parseSecretKey(keyA.toString('base64'))).toEqual(keyA);
    expect(parseSecretKey(Buffer.alloc(32, 0xfb).toString('base64url'))).toEqual(Buffer.alloc(32, 0xfb));
    expect(parseSecretKey(`${newSecretKey()}\n`)).toHaveLength(32);
    expect(parseSecretKey('01'.repeat(31))).toBeNull();
    expect(parseSecretKey(Buffer.alloc(31).toString('base64'))).toBeNull();
    expect(parseSecretKey('correct horse battery staple')).toBeNull();
  });
});

describe('secret key configuration', () => {
  it('validates ORGSTACK_SECRET_KEY and ORGSTACK_SECRET_KEY_PREVIOUS at start', () => {
    const fails = (env: Record<string, string>, variable: string) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).variable).toBe(variable);
        // The message never repeats the value it refuses.
        for (const value of Object.values(env)) expect((error as Error).message).not.toContain(value);
        return;
      }
      throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
    };
    fails({ ORGSTACK_SECRET_KEY: 'too-short-to-be-a-key' }, 'ORGSTACK_SECRET_KEY');
    fails({ ORGSTACK_SECRET_KEY: 'ab'.repeat(16) }, 'ORGSTACK_SECRET_KEY');
    fails({ ORGSTACK_SECRET_KEY_PREVIOUS: 'ab'.repeat(32) }, 'ORGSTACK_SECRET_KEY_PREVIOUS');
    fails(
      { ORGSTACK_SECRET_KEY: 'ab'.repeat(32), ORGSTACK_SECRET_KEY_PREVIOUS: 'ab'.repeat(32) },
      'ORGSTACK_SECRET_KEY_PREVIOUS',
    );
    const config = loadConfig({
      ORGSTACK_SECRET_KEY: 'ab'.repeat(32),
      ORGSTACK_SECRET_KEY_PREVIOUS: keyA.toString('base64'),
    });
    expect(config.secretKeys.current).toEqual(Buffer.alloc(32, 0xab));
    expect(config.secretKeys.previous).toEqual(keyA);
  });

  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgstack-keyring-'));
    dirs.push(dir);
    return dir;
  };

  it('gives the embedded database a key file, made once and readable by its owner only', () => {
    const dir = dataDir();
    const config = loadConfig({ ORGSTACK_DATA_DIR: dir });
    const first = openKeyring(config);
    const file = join(dir, KEY_FILE);
    expect(first.generatedFile).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const sealed = first.keyring!.seal('v', 'ctx');
    const again = openKeyring(config);
    expect(again.generatedFile).toBeUndefined();
    expect(again.keyring!.open(sealed, 'ctx')).toBe('v');
    expect(again.keyring!.currentKeyId).toBe(keyIdOf(parseSecretKey(readFileSync(file, 'utf8'))!));
    // A configured key wins over the file.
    const configured = openKeyring(
      loadConfig({ ORGSTACK_DATA_DIR: dir, ORGSTACK_SECRET_KEY: '01'.repeat(32) }),
    );
    expect(configured.keyring!.currentKeyId).toBe(keyIdOf(keyA));
  });

  it('refuses a damaged key file, and makes none for PostgreSQL', () => {
    const dir = dataDir();
    writeFileSync(join(dir, KEY_FILE), 'not a key\n');
    expect(() => openKeyring(loadConfig({ ORGSTACK_DATA_DIR: dir }))).toThrow(ConfigError);
    const other = dataDir();
    const onPostgres = openKeyring(loadConfig({ ORGSTACK_DATA_DIR: other, DATABASE_URL: 'postgres://h/db' }));
    expect(onPostgres.keyring).toBeNull();
    expect(() => statSync(join(other, KEY_FILE))).toThrow();
  });
});
