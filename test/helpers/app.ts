import type { FastifyInstance, FastifyServerOptions, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe } from 'vitest';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { ensureAdminKey } from '../../src/modules/api-keys/service.js';
import { type Backend, backends, type TestDatabase } from './databases.js';

export const ADMIN_KEY = 'osk_test_admin_key_0123456789abcdefghij';
/** The key secrets are sealed with in tests (32 bytes, hex). */
export const TEST_SECRET_KEY = '5e'.repeat(32);
/** Test apps accept HS256 JWTs signed with this, unless a suite configures JWTs itself. */
export const TEST_JWT_SECRET = 'orgstack-test-jwt-secret-0123456789abcdef';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  query?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
}

/** A running app on a fresh database, with helpers that speak HTTP to it. */
export class TestApp {
  constructor(
    readonly app: FastifyInstance,
    readonly database: TestDatabase,
    readonly backend: Backend['name'],
    readonly config: Config,
  ) {}

  async call<T = any>(
    method: InjectOptions['method'],
    url: string,
    options: CallOptions = {},
  ): Promise<Reply<T>> {
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    const headers: Record<string, string> = { ...options.headers };
    if (key) headers.authorization = `Bearer ${key}`;
    const response = await this.app.inject({
      method,
      url,
      query: options.query as Record<string, string> | undefined,
      headers,
      ...(options.body === undefined ? {} : { payload: options.body as InjectOptions['payload'] }),
    });
    const text = response.body;
    let body: unknown = text;
    if (text && String(response.headers['content-type'] ?? '').includes('json')) body = JSON.parse(text);
    return { status: response.statusCode, body: body as T, headers: response.headers };
  }

  get = <T = any>(url: string, options?: CallOptions) => this.call<T>('GET', url, options);
  post = <T = any>(url: string, body?: unknown, options?: CallOptions) =>
    this.call<T>('POST', url, { ...options, body });
  patch = <T = any>(url: string, body?: unknown, options?: CallOptions) =>
    this.call<T>('PATCH', url, { ...options, body });
  put = <T = any>(url: string, body?: unknown, options?: CallOptions) =>
    this.call<T>('PUT', url, { ...options, body });
  delete = <T = any>(url: string, options?: CallOptions) => this.call<T>('DELETE', url, options);

  /** Asserting helpers: they throw with the whole reply when the status is not the expected one. */
  async expect<T = any>(status: number, reply: Promise<Reply<T>>): Promise<T> {
    const result = await reply;
    if (result.status !== status) {
      throw new Error(`expected ${status}, got ${result.status}: ${JSON.stringify(result.body)}`);
    }
    return result.body;
  }

  private counter = 0;
  unique(prefix: string) {
    this.counter += 1;
    return `${prefix}-${this.counter}-${Math.random().toString(36).slice(2, 8)}`;
  }

  async createUser(email = `${this.unique('user')}@example.com`, name?: string) {
    return this.expect(201, this.post('/v1/users', { email, ...(name ? { name } : {}) }));
  }

  /** A user with a personal key holding every scope (or the given ones). */
  async userWithKey(scopes?: string[]) {
    const user = await this.createUser();
    const key = await this.expect(
      201,
      this.post('/v1/api-keys', { user_id: user.id, ...(scopes ? { scopes } : {}) }),
    );
    return { user, key: key.secret as string, keyId: key.id as string };
  }

  async createOrganization(key: string, body: Record<string, unknown> = {}) {
    return this.expect(201, this.post('/v1/organizations', { name: this.unique('Org'), ...body }, { key }));
  }

  /** A user with a personal key who owns an organization with one team, all made by that user. */
  async ownerWithTeam() {
    const owner = await this.userWithKey();
    const org = await this.createOrganization(owner.key);
    const team = await this.expect(
      201,
      this.post(`/v1/organizations/${org.id}/children`, { name: 'T' }, { key: owner.key }),
    );
    return { owner, org, team };
  }

  async organizationKey(orgId: string, key: string = ADMIN_KEY, scopes?: string[]) {
    const created = await this.expect(
      201,
      this.post(`/v1/organizations/${orgId}/api-keys`, scopes ? { scopes } : {}, { key }),
    );
    return created.secret as string;
  }

  async close() {
    await this.app.close();
    await this.database.drop();
  }
}

export async function startTestApp(
  backend: Backend,
  env: Record<string, string> = {},
  logger?: FastifyServerOptions['logger'],
): Promise<TestApp> {
  const database = await backend.create();
  const jwtSet = env.ORGSTACK_JWT_JWKS_URL !== undefined || env.ORGSTACK_JWT_SECRET !== undefined;
  // Suites make thousands of requests from one key; the rate-limit tests switch limits on themselves.
  const config = loadConfig({
    ORGSTACK_ADMIN_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ORGSTACK_RATE_LIMIT_PER_KEY: '0',
    ORGSTACK_RATE_LIMIT_PER_IP: '0',
    ORGSTACK_SECRET_KEY: TEST_SECRET_KEY,
    ...(jwtSet ? {} : { ORGSTACK_JWT_SECRET: TEST_JWT_SECRET }),
    ...env,
  });
  await ensureAdminKey({ db: database.db }, config.adminKey);
  const app = await buildApp({ config, db: database.db, logger });
  await app.ready();
  return new TestApp(app, database, backend.name, config);
}

/**
 * Declares a suite once per database backend. `use()` inside a test gives that backend's app,
 * started once for the suite.
 */
export function describeEachDatabase(
  title: string,
  body: (use: () => TestApp) => void,
  env?: Record<string, string>,
) {
  for (const backend of backends) {
    describe(`${title} [${backend.name}]`, () => {
      let current: TestApp | undefined;
      beforeAll(async () => {
        current = await startTestApp(backend, env);
      });
      afterAll(async () => {
        await current?.close();
      });
      body(() => {
        if (!current) throw new Error('test app not started');
        return current;
      });
    });
  }
}
