import { accessSync, constants, mkdirSync } from 'node:fs';
import { type Config, ConfigError } from '../config.js';
import { type Database, openPglite, openPostgres } from './client.js';
import { migrate } from './migrate.js';

function describe(error: unknown): string {
  const err = error as { code?: string; message?: string };
  return [err.code, err.message].filter(Boolean).join(' ') || String(error);
}

/** Opens the configured database and migrates it; failures name the setting to fix. */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) {
    const db = await openPostgres(config.databaseUrl, config.dbPoolSize);
    try {
      await db.ping();
    } catch (error) {
      await db.close().catch(() => {});
      throw new ConfigError('DATABASE_URL', `cannot connect to the database (${describe(error)})`);
    }
    await migrate(db);
    return db;
  }
  try {
    mkdirSync(config.dataDir, { recursive: true });
    accessSync(config.dataDir, constants.W_OK);
  } catch (error) {
    throw new ConfigError(
      'ORGSTACK_DATA_DIR',
      `${config.dataDir} is not a writable directory (${describe(error)})`,
    );
  }
  const db = await openPglite(config.dataDir);
  await migrate(db);
  return db;
}
