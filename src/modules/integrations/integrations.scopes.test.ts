import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uuidv7 } from 'uuidv7';
import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { MIGRATIONS_FOLDER } from '../../db/migrate.js';
import { SCOPES } from '../../http/principal.js';
import { displayPrefix, hashSecret, newSecret } from '../api-keys/secrets.js';

/** The scopes every key could hold before organization_integration:* existed. */
const OLD_SCOPES = SCOPES.filter((scope) => !scope.startsWith('organization_integration:'));
const NEW_SCOPES = ['organization_integration:read', 'organization_integration:write'];

const migrationSql = () => {
  const file = readdirSync(MIGRATIONS_FOLDER).find((name) => name.endsWith('_integration_scopes.sql'));
  return readFileSync(join(MIGRATIONS_FOLDER, file!), 'utf8');
};

/** A key as an older release stored it: written straight into the table. */
async function oldKey(
  t: TestApp,
  owner: { kind: 'admin' } | { kind: 'personal'; userId: string },
  scopes: readonly string[],
) {
  const secret = newSecret();
  const id = uuidv7();
  await t.database.db.query(
    `insert into api_keys (id, kind, name, prefix, key_hash, user_id, scopes)
     values ($1, $2, 'made before integrations', $3, $4, $5, $6::text[])`,
    [
      id,
      owner.kind,
      displayPrefix(secret),
      hashSecret(secret),
      owner.kind === 'personal' ? owner.userId : null,
      scopes,
    ],
  );
  return { id, secret };
}

const scopesOf = async (t: TestApp, id: string) =>
  (await t.database.db.query<{ scopes: string[] }>('select scopes from api_keys where id = $1', [id]))[0]!
    .scopes;

describeEachDatabase(
  'integration scopes on keys made before they existed',
  (use) => {
    it('gives keys that held every earlier scope the new ones, and leaves narrower keys alone', async () => {
      const t = use();
      const { owner, org } = await t.ownerWithTeam();
      const admin = await oldKey(t, { kind: 'admin' }, OLD_SCOPES);
      const everything = await oldKey(t, { kind: 'personal', userId: owner.user.id }, OLD_SCOPES);
      const narrow = await oldKey(t, { kind: 'personal', userId: owner.user.id }, [
        'organization:read',
        'organization:write',
      ]);
      const path = `/v1/organizations/${org.id}/integrations`;
      const connect = (key: string, externalId: string) =>
        t.post(path, { kind: 'vercel', external_id: externalId }, { key });

      // Before the migration ran, all three are refused.
      for (const key of [admin, everything, narrow]) {
        const reply = await connect(key.secret, key.id);
        expect(reply.status).toBe(403);
        expect(reply.body.error.code).toBe('insufficient_scope');
      }

      await t.database.db.query(migrationSql());
      expect(await scopesOf(t, admin.id)).toEqual([...OLD_SCOPES, ...NEW_SCOPES]);
      expect(await scopesOf(t, everything.id)).toEqual([...OLD_SCOPES, ...NEW_SCOPES]);
      expect(await scopesOf(t, narrow.id)).toEqual(['organization:read', 'organization:write']);
      await t.expect(201, connect(admin.secret, 'by-admin'));
      await t.expect(201, connect(everything.secret, 'by-owner'));
      await t.expect(200, t.get(path, { key: everything.secret }));
      expect((await connect(narrow.secret, 'by-narrow')).status).toBe(403);

      // Running it again adds nothing twice.
      await t.database.db.query(migrationSql());
      expect(await scopesOf(t, admin.id)).toEqual([...OLD_SCOPES, ...NEW_SCOPES]);
    });

    it('gives keys made now with all scopes the integration scopes too', async () => {
      const t = use();
      const { owner } = await t.ownerWithTeam();
      const made = await t.expect(201, t.post('/v1/api-keys', {}, { key: owner.key }));
      expect(made.scopes).toEqual([...SCOPES]);
      expect(made.scopes).toEqual(expect.arrayContaining(NEW_SCOPES));
      const me = await t.expect(200, t.get('/v1/me', { key: made.secret }));
      expect(me.scopes).toEqual(expect.arrayContaining(NEW_SCOPES));
    });
  },
  // Each request reads the key afresh, so the migration's change is seen at once.
  { ORGSTACK_AUTH_CACHE_TTL_MS: '0' },
);
