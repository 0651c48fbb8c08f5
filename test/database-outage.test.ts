import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { type Database, openPostgres } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { ensureAdminKey } from '../src/modules/api-keys/service.js';
import { ADMIN_KEY } from './helpers/app.js';
import { createPostgresDatabase, postgresUrl } from './helpers/databases.js';
import { Relay } from './helpers/relay.js';

/*
 * The database going away is not the client's fault nor a bug: requests answer 503 in the
 * envelope (as /readyz does), so clients and load balancers retry, and work again once it is back.
 */
describe.runIf(postgresUrl)('requests while PostgreSQL is away', () => {
  let database: { url: string; drop(): Promise<void> };
  let relay: Relay;
  let db: Database;
  let app: FastifyInstance;

  beforeAll(async () => {
    database = await createPostgresDatabase(postgresUrl!);
    relay = new Relay(new URL(database.url));
    await relay.up();
    db = await openPostgres(relay.url(new URL(database.url)), 4);
    await migrate(db);
    await ensureAdminKey({ db }, ADMIN_KEY);
    const config = loadConfig({
      ORGSTACK_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      ORGSTACK_RATE_LIMIT_PER_KEY: '0',
      ORGSTACK_RATE_LIMIT_PER_IP: '0',
      ORGSTACK_WEBHOOK_POLL_MS: '0',
    });
    app = await buildApp({ config, db });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await db.close();
    await relay.down();
    await database.drop();
  });

  const call = async (method: 'GET' | 'POST', url: string, key = ADMIN_KEY, payload?: object) => {
    const reply = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });
    return { status: reply.statusCode, body: reply.json() };
  };

  it('answer 503 service_unavailable, a key that cannot be looked up included, and work again after', async () => {
    const org = await call('POST', '/v1/organizations', ADMIN_KEY, { name: 'Before the outage' });
    expect(org.status).toBe(201);
    await relay.down();
    for (const [method, url, key, payload] of [
      ['GET', `/v1/organizations/${org.body.id}`, ADMIN_KEY, undefined],
      ['POST', '/v1/organizations', ADMIN_KEY, { name: 'During the outage' }],
      // Not cached, so its lookup needs the database: unknown is not the same as invalid.
      ['GET', '/v1/me', 'osk_not_cached_0123456789abcdefghijkl', undefined],
    ] as const) {
      const reply = await call(method, url, key, payload);
      expect(reply.status, url).toBe(503);
      expect(reply.body.error).toMatchObject({ type: 'api_error', code: 'service_unavailable' });
      expect(JSON.stringify(reply.body)).not.toMatch(/ECONN|CONNECTION_|postgres/);
    }
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    await relay.up();
    let after = await call('POST', '/v1/organizations', ADMIN_KEY, { name: 'After the outage' });
    for (let attempt = 0; after.status !== 201 && attempt < 50; attempt++) {
      await sleep(100);
      after = await call('POST', '/v1/organizations', ADMIN_KEY, { name: 'After the outage' });
    }
    expect(after.status).toBe(201);
    const names = await db.query<{ name: string }>('select name from organizations order by name');
    expect(names.map((row) => row.name)).toEqual(['After the outage', 'Before the outage']);
  });
});
