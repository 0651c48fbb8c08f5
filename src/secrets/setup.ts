import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, ConfigError } from '../config.js';
import { ApiError } from '../http/errors.js';
import { Keyring, newSecretKey, parseSecretKey } from './keyring.js';

/** Where the embedded database keeps its generated key when `ORGSTACK_SECRET_KEY` is unset. */
export const KEY_FILE = 'secret.key';

/** The keyring `ORGSTACK_SECRET_KEY` (and `_PREVIOUS`) describe, or null when they are unset. */
export function keyringFromConfig(config: Pick<Config, 'secretKeys'>): Keyring | null {
  const { current, previous } = config.secretKeys;
  return current ? new Keyring(current, previous ? [previous] : []) : null;
}

export interface OpenedKeyring {
  keyring: Keyring | null;
  /** Set when this start created the key file: the operator should hear of it once. */
  generatedFile?: string;
}

/**
 * The keyring a server starts with. A configured key always wins. Without one, the embedded
 * database gets a key file next to its data (created once, readable by the owner only), so
 * `npm start` needs no setup. On PostgreSQL there is no such fallback: instances sharing the
 * database would each make a key of their own on their own disks (and a container's disk may
 * not outlive it), so one instance could not open what another sealed. There, writes that carry
 * secrets answer `secret_key_not_configured` until the variable is set.
 */
export function openKeyring(config: Config): OpenedKeyring {
  const configured = keyringFromConfig(config);
  if (configured || config.databaseUrl) return { keyring: configured };
  const file = join(config.dataDir, KEY_FILE);
  let generatedFile: string | undefined;
  try {
    writeFileSync(file, `${newSecretKey()}\n`, { mode: 0o600, flag: 'wx' });
    generatedFile = file;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') {
      throw new ConfigError('ORGSTACK_DATA_DIR', `cannot write the secret key file ${file}`);
    }
  }
  let key: Buffer | null = null;
  try {
    key = parseSecretKey(readFileSync(file, 'utf8'));
  } catch {
    // Reported below with the rest.
  }
  if (!key) {
    throw new ConfigError('ORGSTACK_SECRET_KEY', `is unset and ${file} does not hold a 32-byte key`);
  }
  return { keyring: new Keyring(key), generatedFile };
}

/** The keyring, or the answer a write that carries secrets gets when there is none. */
export function requireKeyring(keyring: Keyring | null, param: string): Keyring {
  if (keyring) return keyring;
  throw new ApiError(
    'secret_key_not_configured',
    'This server has no ORGSTACK_SECRET_KEY, so it cannot store secrets; an operator must set it.',
    param,
  );
}
