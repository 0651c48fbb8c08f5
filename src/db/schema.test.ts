import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, type TestDatabase } from '../../test/helpers/databases.js';
import {
  apiKeys,
  deployments,
  invitations,
  inviteLinks,
  licenses,
  memberships,
  organizationIntegrations,
  organizations,
  roles,
  users,
} from './schema.js';

const TABLES: PgTable[] = [
  users,
  organizations,
  roles,
  memberships,
  apiKeys,
  licenses,
  deployments,
  organizationIntegrations,
  invitations,
  inviteLinks,
];

for (const backend of backends) {
  describe(`migrations [${backend.name}]`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(() => database.drop());

    it('build an empty database into exactly the schema the code declares', async () => {
      for (const table of TABLES) {
        const config = getTableConfig(table);
        const columns = await database.db.query<{ column_name: string; is_nullable: string }>(
          `select column_name, is_nullable from information_schema.columns
            where table_schema = 'public' and table_name = $1 order by column_name`,
          [config.name],
        );
        const declared = config.columns.map((column) => [column.name, column.notNull ? 'NO' : 'YES']).sort();
        expect(
          columns.map((c) => [c.column_name, c.is_nullable]),
          config.name,
        ).toEqual(declared);
        const indexes = await database.db.query<{ indexname: string }>(
          `select indexname from pg_indexes where schemaname = 'public' and tablename = $1`,
          [config.name],
        );
        const names = indexes.map((row) => row.indexname);
        for (const index of config.indexes) expect(names, config.name).toContain(index.config.name);
      }
    });

    it('are idempotent: migrating again changes nothing', async () => {
      const { migrate } = await import('./migrate.js');
      await expect(migrate(database.db)).resolves.toBeUndefined();
    });
  });
}
