import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { type Database, openPglite, openPostgres } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { ensureAdminKey } from '../src/modules/api-keys/service.js';
import { createPostgresDatabase, postgresUrl } from './helpers/databases.js';

const ADMIN_KEY = 'osk_restart_admin_key_0123456789abcdef';

interface Running {
  app: FastifyInstance;
  db: Database;
}

async function start(open: () => Promise<Database>): Promise<Running> {
  const db = await open();
  await migrate(db);
  const config = loadConfig({ ORGSTACK_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' });
  await ensureAdminKey({ db }, config.adminKey);
  const app = await buildApp({ config, db });
  await app.ready();
  return { app, db };
}

async function stop(running: Running) {
  await running.app.close();
  await running.db.close();
}

async function call(app: FastifyInstance, method: 'GET' | 'POST', url: string, key: string, body?: unknown) {
  const response = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: response.statusCode, body: response.json() };
}

/** Writes through one process lifetime, restarts on the same storage, and reads everything back. */
async function survivesRestart(open: () => Promise<Database>) {
  const first = await start(open);
  let created: { org: any; team: any; user: any; key: string };
  try {
    const user = await call(first.app, 'POST', '/v1/users', ADMIN_KEY, { email: 'restart@example.com' });
    expect(user.status).toBe(201);
    const personal = await call(first.app, 'POST', '/v1/api-keys', ADMIN_KEY, { user_id: user.body.id });
    expect(personal.status).toBe(201);
    const org = await call(first.app, 'POST', '/v1/organizations', personal.body.secret, {
      name: 'Survivor Inc',
      settings: { enforce_2fa: true },
      metadata: { tier: 'gold' },
    });
    expect(org.status).toBe(201);
    const team = await call(
      first.app,
      'POST',
      `/v1/organizations/${org.body.id}/children`,
      personal.body.secret,
      {
        name: 'Survivor Team',
      },
    );
    expect(team.status).toBe(201);
    created = { org: org.body, team: team.body, user: user.body, key: personal.body.secret };
  } finally {
    await stop(first);
  }

  const second = await start(open);
  try {
    // The organization, by id and by slug, with everything it was created with.
    const org = await call(second.app, 'GET', `/v1/organizations/${created.org.id}`, ADMIN_KEY);
    expect(org.status).toBe(200);
    expect(org.body).toEqual(created.org);
    const bySlug = await call(second.app, 'GET', `/v1/organizations/${created.org.slug}`, ADMIN_KEY);
    expect(bySlug.body.id).toBe(created.org.id);
    const team = await call(second.app, 'GET', `/v1/organizations/${created.team.id}`, ADMIN_KEY);
    expect(team.body).toMatchObject({ parent_organization_id: created.org.id, name: 'Survivor Team' });
    // The personal key issued before the restart still works, with the owner role it was given.
    const member = await call(
      second.app,
      'GET',
      `/v1/organizations/${created.org.id}/members/${created.user.id}`,
      created.key,
    );
    expect(member.status).toBe(200);
    expect(member.body.role).toBe('owner');
    // A second start applied no migration twice and still refuses the same slug.
    const again = await call(second.app, 'POST', '/v1/organizations', ADMIN_KEY, {
      name: 'x',
      slug: created.org.slug,
    });
    expect(again.status).toBe(409);
    // Exactly what was written: the same storage, not a fresh database nor a shared one.
    const list = await call(second.app, 'GET', '/v1/organizations?limit=100', ADMIN_KEY);
    expect(list.body.data.map((o: any) => o.id).sort()).toEqual([created.org.id, created.team.id].sort());
  } finally {
    await stop(second);
  }
}

describe('data survives a restart', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  it('on PGlite, reopening the same data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgstack-restart-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await survivesRestart(() => openPglite(dir));
  });

  it.runIf(postgresUrl)('on PostgreSQL, reconnecting to the same database', async () => {
    const database = await createPostgresDatabase(postgresUrl!);
    cleanups.push(() => database.drop());
    await survivesRestart(() => openPostgres(database.url, 4));
  });
});
