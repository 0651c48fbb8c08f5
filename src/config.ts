import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseSecretKey } from './secrets/keyring.js';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  adminKey: string | undefined;
  logLevel: string;
  maxOrgDepth: number;
  dbPoolSize: number;
  authCacheTtlMs: number;
  webhooks: WebhookConfig;
  http: HttpConfig;
  redisUrl: string | undefined;
  licensing: LicensingConfig;
  secretKeys: SecretKeys;
  /** How JWT callers are verified; null when JWTs are not accepted. */
  jwt: JwtConfig | null;
  /** The compatibility routers switched on (src/compat), by id. */
  compat: CompatId[];
}

/** The compatibility routers, each answering one product's organization API in its own shapes. */
export const COMPAT_IDS = ['000', '001', '002', '003', '004'] as const;
export type CompatId = (typeof COMPAT_IDS)[number];

function compatRouters(env: Env): CompatId[] {
  const raw = env.ORGSTACK_COMPAT;
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'all') return [...COMPAT_IDS];
  if (raw.trim() === 'none') return [];
  const ids = commaList(
    env,
    'ORGSTACK_COMPAT',
    (item) => (COMPAT_IDS as readonly string[]).includes(item),
    `${COMPAT_IDS.join(', ')} (or all, or none)`,
  );
  return [...new Set(ids)] as CompatId[];
}

export interface LicensingConfig {
  /** Seats of an organization on the free plan (no license, or an expired one); null: unlimited. */
  freePlanSeats: number | null;
}

/** Keys that seal secrets at rest (src/secrets/keyring.ts). */
export interface SecretKeys {
  /** Seals new values; unset means a key file in the data directory (PGlite) or none (PostgreSQL). */
  current: Buffer | undefined;
  /** Still opens values sealed before a rotation. */
  previous: Buffer | undefined;
}

export interface JwtConfig {
  /** Public keys fetched from this JWKS URL (RS*, PS*, ES*, EdDSA); or else `secret`. */
  jwksUrl: string | undefined;
  /** Shared HS256 secret. */
  secret: string | undefined;
  /** `iss` values of which a token must carry one; empty accepts any. */
  issuers: string[];
  /** `aud` values of which a token must carry one; empty accepts any. */
  audience: string[];
  clockToleranceSeconds: number;
}

export interface HttpConfig {
  bodyLimitBytes: number;
  /** Largest usage batch body: 10,000 records do not fit in the general limit. */
  usageBodyLimitBytes: number;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Origins allowed by CORS; empty turns CORS off, `*` allows any. */
  corsOrigins: string[];
  /** Requests per minute per API key and per client IP; 0 turns a limit off. */
  rateLimitPerKey: number;
  rateLimitPerIp: number;
  /** Bearer token `/metrics` asks for; unset leaves it open. */
  metricsToken: string | undefined;
  /** Trust X-Forwarded-For from a proxy in front, so limits and audit see the client address. */
  trustProxy: boolean;
}

export interface WebhookConfig {
  /** How often the delivery worker looks for due deliveries; 0 turns the worker off. */
  pollMs: number;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Consecutive failed attempts after which an endpoint is disabled. */
  disableAfterFailures: number;
  /** Networks (CIDR) allowed as targets although private, loopback or link-local. */
  allowedNetworks: string[];
}

/** Thrown for a bad setting; the message is one line that names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A whole number, or null when the variable is unset. */
function optionalInteger(env: Env, name: string, min: number, max: number): number | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  return integer(env, name, min, min, max);
}

/** A URL setting with one of the given schemes, e.g. `postgres:` or `postgresql:`. */
function urlSetting(env: Env, name: string, schemes: string[], example: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL (expected ${example})`);
  }
  if (!schemes.includes(url.protocol)) {
    const expected = schemes.map((scheme) => `${scheme}//`).join(' or ');
    throw new ConfigError(name, `must start with ${expected}, got "${url.protocol}//"`);
  }
  return raw;
}

/** The items of a comma list, each checked by `valid`. */
function commaList(env: Env, name: string, valid: (item: string) => boolean, example: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  const list = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (const item of list) {
    if (!valid(item)) throw new ConfigError(name, `must be a comma list of ${example}, got "${item}"`);
  }
  return list;
}

function isCidr(cidr: string): boolean {
  const [address, bits] = cidr.split('/');
  const family = address ? isIP(address) : 0;
  return (
    family !== 0 && bits !== undefined && /^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32)
  );
}

function isOrigin(origin: string): boolean {
  if (origin === '*') return true;
  try {
    return new URL(origin).origin === origin;
  } catch {
    return false;
  }
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function secretKey(env: Env, name: string): Buffer | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const key = parseSecretKey(raw);
  if (!key) {
    throw new ConfigError(
      name,
      'must be 32 bytes written as 64 hex characters or base64 (openssl rand -base64 32)',
    );
  }
  return key;
}

function secretKeys(env: Env): SecretKeys {
  const current = secretKey(env, 'ORGSTACK_SECRET_KEY');
  const previous = secretKey(env, 'ORGSTACK_SECRET_KEY_PREVIOUS');
  if (previous && !current) {
    throw new ConfigError(
      'ORGSTACK_SECRET_KEY_PREVIOUS',
      'needs ORGSTACK_SECRET_KEY, the key that replaces it',
    );
  }
  if (previous && current?.equals(previous)) {
    throw new ConfigError('ORGSTACK_SECRET_KEY_PREVIOUS', 'is the same key as ORGSTACK_SECRET_KEY');
  }
  return { current, previous };
}

const MIN_JWT_SECRET_BYTES = 32;

function jwtConfig(env: Env): JwtConfig | null {
  const jwksUrl = urlSetting(
    env,
    'ORGSTACK_JWT_JWKS_URL',
    ['https:', 'http:'],
    'https://idp.example.com/.well-known/jwks.json',
  );
  const secret = env.ORGSTACK_JWT_SECRET || undefined;
  if (jwksUrl && secret) {
    throw new ConfigError(
      'ORGSTACK_JWT_SECRET',
      'cannot be set together with ORGSTACK_JWT_JWKS_URL; choose one',
    );
  }
  if (secret !== undefined && Buffer.byteLength(secret, 'utf8') < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError('ORGSTACK_JWT_SECRET', `must be at least ${MIN_JWT_SECRET_BYTES} bytes long`);
  }
  const issuers = commaList(env, 'ORGSTACK_JWT_ISSUER', (item) => item.length <= 1000, 'issuer values');
  const audience = commaList(env, 'ORGSTACK_JWT_AUDIENCE', (item) => item.length <= 1000, 'audience values');
  const clockToleranceSeconds = integer(env, 'ORGSTACK_JWT_CLOCK_TOLERANCE_SECONDS', 30, 0, 300);
  if (!jwksUrl && !secret) {
    // Checks on tokens that nothing would verify are a configuration mistake, not a choice.
    for (const name of [
      'ORGSTACK_JWT_ISSUER',
      'ORGSTACK_JWT_AUDIENCE',
      'ORGSTACK_JWT_CLOCK_TOLERANCE_SECONDS',
    ]) {
      if (env[name])
        throw new ConfigError(name, 'needs ORGSTACK_JWT_JWKS_URL or ORGSTACK_JWT_SECRET to be set');
    }
    return null;
  }
  return { jwksUrl, secret, issuers, audience, clockToleranceSeconds };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads every setting once; start-up fails on the first bad one. */
export function loadConfig(env: Env = process.env): Config {
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const adminKey = env.ORGSTACK_ADMIN_KEY || undefined;
  if (adminKey !== undefined && adminKey.length < 24) {
    throw new ConfigError('ORGSTACK_ADMIN_KEY', 'must be at least 24 characters long');
  }
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: urlSetting(
      env,
      'DATABASE_URL',
      ['postgres:', 'postgresql:'],
      'postgres://user:password@host:port/database',
    ),
    dataDir: resolve(env.ORGSTACK_DATA_DIR || './.orgstack/data'),
    adminKey,
    logLevel,
    maxOrgDepth: integer(env, 'ORGSTACK_MAX_ORG_DEPTH', 8, 1, 64),
    dbPoolSize: integer(env, 'ORGSTACK_DB_POOL_SIZE', 10, 1, 500),
    authCacheTtlMs: integer(env, 'ORGSTACK_AUTH_CACHE_TTL_MS', 5000, 0, 600_000),
    webhooks: {
      pollMs: integer(env, 'ORGSTACK_WEBHOOK_POLL_MS', 1000, 0, 3_600_000),
      timeoutMs: integer(env, 'ORGSTACK_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      maxAttempts: integer(env, 'ORGSTACK_WEBHOOK_MAX_ATTEMPTS', 8, 1, 50),
      retryBaseMs: integer(env, 'ORGSTACK_WEBHOOK_RETRY_BASE_MS', 30_000, 1, 86_400_000),
      disableAfterFailures: integer(env, 'ORGSTACK_WEBHOOK_DISABLE_AFTER', 100, 1, 100_000),
      allowedNetworks: commaList(
        env,
        'ORGSTACK_WEBHOOK_ALLOWED_NETWORKS',
        isCidr,
        'networks like 127.0.0.0/8 or ::1/128',
      ),
    },
    http: {
      bodyLimitBytes: integer(env, 'ORGSTACK_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
      usageBodyLimitBytes: integer(
        env,
        'ORGSTACK_USAGE_BODY_LIMIT_BYTES',
        8 * 1024 * 1024,
        1024,
        100 * 1024 * 1024,
      ),
      requestTimeoutMs: integer(env, 'ORGSTACK_REQUEST_TIMEOUT_MS', 30_000, 0, 3_600_000),
      shutdownTimeoutMs: integer(env, 'ORGSTACK_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
      corsOrigins: commaList(
        env,
        'ORGSTACK_CORS_ORIGINS',
        isOrigin,
        'origins like https://app.example.com, or *',
      ),
      rateLimitPerKey: integer(env, 'ORGSTACK_RATE_LIMIT_PER_KEY', 6000, 0, 1_000_000_000),
      rateLimitPerIp: integer(env, 'ORGSTACK_RATE_LIMIT_PER_IP', 3000, 0, 1_000_000_000),
      metricsToken: env.ORGSTACK_METRICS_TOKEN || undefined,
      trustProxy: boolean(env, 'ORGSTACK_TRUST_PROXY', false),
    },
    redisUrl: urlSetting(env, 'REDIS_URL', ['redis:', 'rediss:'], 'redis://host:port'),
    licensing: {
      // Unset means unlimited: an operator who sells no licenses never meets a seat limit.
      freePlanSeats: optionalInteger(env, 'ORGSTACK_FREE_PLAN_SEATS', 1, 10_000_000),
    },
    secretKeys: secretKeys(env),
    jwt: jwtConfig(env),
    compat: compatRouters(env),
  };
}
