import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Database } from './client.js';

/** The versioned SQL files drizzle-kit writes; they sit at the project root in source and in builds. */
export const MIGRATIONS_FOLDER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');

// Any constant works; it only has to be the same for every orgstack process sharing a database.
const MIGRATION_LOCK = 727_274_301;

/** Applies pending migrations. On PostgreSQL an advisory lock lets several instances start at once. */
export async function migrate(db: Database): Promise<void> {
  if (db.kind === 'pglite') {
    const [{ drizzle }, { migrate: migratePglite }] = await Promise.all([
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
    ]);
    await migratePglite(drizzle(db.raw as PGlite), { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  // One dedicated connection, so the session lock and drizzle's own transaction share it.
  const sql = postgres(db.url!, { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres(sql), { migrationsFolder: MIGRATIONS_FOLDER });
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
