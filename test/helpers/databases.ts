import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { inject } from 'vitest';
import { type Database, openPglite, openPostgres } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

export interface TestDatabase {
  db: Database;
  url?: string;
  drop(): Promise<void>;
}

export interface Backend {
  name: 'pglite' | 'postgres';
  create(): Promise<TestDatabase>;
}

/** The server to create test databases on, when one is configured. */
export const postgresUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;

let template: Promise<Blob> | undefined;
/** The migrated database every embedded test database starts from (test/helpers/pglite-template.ts). */
function pgliteTemplate(): Promise<Blob> {
  template ??= readFile(inject('pgliteTemplate')).then((bytes) => new Blob([bytes]));
  return template;
}

const pglite: Backend = {
  name: 'pglite',
  async create() {
    const db = await openPglite(undefined, await pgliteTemplate());
    await migrate(db);
    return { db, drop: () => db.close() };
  },
};

/** A database with a random name on the server, dropped afterwards: no run sees another's rows. */
export async function createPostgresDatabase(
  serverUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `orgstack_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleaner = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await cleaner.unsafe(`drop database if exists ${name} with (force)`);
      await cleaner.end();
    },
  };
}

const postgresBackend: Backend = {
  name: 'postgres',
  async create() {
    const created = await createPostgresDatabase(postgresUrl!);
    const db = await openPostgres(created.url, 10);
    await migrate(db);
    return {
      db,
      url: created.url,
      async drop() {
        await db.close();
        await created.drop();
      },
    };
  },
};

/** Every suite runs on each of these: PGlite always, PostgreSQL when a URL is set. */
export const backends: Backend[] = postgresUrl ? [pglite, postgresBackend] : [pglite];
