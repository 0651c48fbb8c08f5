import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  type Reply,
  startTestApp,
  TEST_SECRET_KEY,
  type TestApp,
} from '../../../test/helpers/app.js';
import { backends } from '../../../test/helpers/databases.js';
import { buildApp, loggerOptions } from '../../app.js';
import { ApiError } from '../../http/errors.js';
import { isSealed, Keyring, parseSecretKey } from '../../secrets/keyring.js';
import { openIntegrationSecrets } from './service.js';

const integrations = (org: string) => `/v1/organizations/${org}/integrations`;
const testKeyring = () => new Keyring(parseSecretKey(TEST_SECRET_KEY)!);
const plaintext = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

/** Every row of every table that contains `text` anywhere, as `table: row`. */
async function rowsContaining(t: TestApp, text: string): Promise<string[]> {
  const tables = await t.database.db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
  );
  const found: string[] = [];
  for (const { table_name } of tables) {
    const rows = await t.database.db.query<{ row: string }>(
      `select x::text as row from "${table_name}" x where strpos(x::text, $1) > 0`,
      [text],
    );
    found.push(...rows.map((r) => `${table_name}: ${r.row}`));
  }
  return found;
}

async function expectUnreadable(work: Promise<unknown>) {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).code).toBe('secret_unreadable');
}

for (const backend of backends) {
  describe(`integration secrets [${backend.name}]`, () => {
    const lines: string[] = [];
    let t: TestApp;
    beforeAll(async () => {
      const stream = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      t = await startTestApp(backend, {}, { ...(loggerOptions('trace') as object), stream });
    });
    afterAll(() => t?.close());

    it('never answers, logs or records a secret; the database holds only ciphertext that opens', async () => {
      const { owner, org } = await t.ownerWithTeam();
      // Outbox rows are written for this endpoint too, so what webhooks would carry is checked.
      await t.expect(
        201,
        t.post('/v1/webhook-endpoints', {
          url: 'http://93.184.216.34/hook',
          organization_id: org.id,
          enabled: false,
        }),
      );
      const token = plaintext('token');
      const hook = plaintext('hook');
      const rotated = plaintext('rotated');
      const answers: Reply[] = [];
      const call = async (reply: Promise<Reply>) => {
        const result = await reply;
        answers.push(result);
        return result;
      };
      const body = {
        kind: 'vercel',
        external_id: 'team_s',
        secrets: { api_token: token, webhook_secret: hook },
      };
      const created = await call(
        t.post(integrations(org.id), body, { key: owner.key, headers: { 'idempotency-key': 'connect-1' } }),
      );
      expect(created.status).toBe(201);
      expect(created.body.secret_fields).toEqual(['api_token', 'webhook_secret']);
      const replayed = await call(
        t.post(integrations(org.id), body, { key: owner.key, headers: { 'idempotency-key': 'connect-1' } }),
      );
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      // The kept fingerprint of that body is keyed, so it is no test for guessing the secrets in it.
      const [claim] = await t.database.db.query<{ fingerprint: string }>(
        `select fingerprint from idempotency_keys where key = 'connect-1'`,
      );
      const canonical = JSON.stringify({
        external_id: 'team_s',
        kind: 'vercel',
        secrets: { api_token: token, webhook_secret: hook },
      });
      const request = `POST ${integrations(org.id)}\n${canonical}`;
      expect(claim!.fingerprint).toBe(testKeyring().digest(request, 'idempotency'));
      expect(claim!.fingerprint).not.toBe(createHash('sha256').update(request).digest('hex'));
      expect((await call(t.post(integrations(org.id), body, { key: owner.key }))).status).toBe(409);
      const id = created.body.id as string;
      const one = `${integrations(org.id)}/${id}`;
      await call(t.get(one, { key: owner.key }));
      await call(t.get(integrations(org.id), { key: owner.key }));
      // Refused input that carries a secret: the answer names the field, not the value.
      const refused = await call(
        t.patch(one, { secrets: { api_token: rotated, 'Bad-Name': rotated } }, { key: owner.key }),
      );
      expect(refused.status).toBe(400);
      expect((await call(t.patch(one, { secrets: { api_token: rotated } }, { key: owner.key }))).status).toBe(
        200,
      );
      await call(t.get(`/v1/organizations/${org.id}/audit-events`, { key: owner.key }));
      await call(t.get('/v1/audit-events', { key: ADMIN_KEY }));

      const [row] = await t.database.db.query<{ sealed_secrets: Record<string, string> }>(
        'select sealed_secrets from organization_integrations where id = $1',
        [id],
      );
      const stored = row!.sealed_secrets;
      expect(Object.keys(stored).sort()).toEqual(['api_token', 'webhook_secret']);
      for (const value of Object.values(stored)) expect(isSealed(value)).toBe(true);
      const keyring = testKeyring();
      expect(keyring.open(stored.api_token!, `integration/${id}/api_token`)).toBe(rotated);
      expect(keyring.open(stored.webhook_secret!, `integration/${id}/webhook_secret`)).toBe(hook);
      expect(await openIntegrationSecrets({ db: t.database.db, keyring }, id)).toEqual({
        api_token: rotated,
        webhook_secret: hook,
      });

      await call(t.delete(one, { key: owner.key }));
      const everything = [
        ...answers.map((reply) => JSON.stringify(reply.body) + JSON.stringify(reply.headers)),
        ...lines,
      ].join('\n');
      expect(lines.length).toBeGreaterThan(10);
      for (const secret of [token, hook, rotated]) {
        expect(everything).not.toContain(secret);
        expect(await rowsContaining(t, secret)).toEqual([]);
      }
      // Disconnected: the ciphertext itself is gone too.
      for (const sealed of Object.values(stored)) expect(await rowsContaining(t, sealed)).toEqual([]);
    });

    it('refuses a ciphertext that was altered, or moved to another integration or name', async () => {
      const { owner, org } = await t.ownerWithTeam();
      const keyring = testKeyring();
      const connect = async (externalId: string) =>
        (
          await t.expect(
            201,
            t.post(
              integrations(org.id),
              {
                kind: 'github',
                external_id: externalId,
                secrets: { app_key: plaintext('k'), other: plaintext('o') },
              },
              { key: owner.key },
            ),
          )
        ).id as string;
      const a = await connect('a');
      const b = await connect('b');
      const db = t.database.db;
      const sealedOf = async (id: string) =>
        (
          await db.query<{ s: Record<string, string> }>(
            'select sealed_secrets as s from organization_integrations where id = $1',
            [id],
          )
        )[0]!.s;
      const original = await sealedOf(a);
      const body = original.app_key!.split('.');
      const last = body[3]!;
      body[3] = (last[0] === 'A' ? 'B' : 'A') + last.slice(1);
      await db.query(
        `update organization_integrations set sealed_secrets = jsonb_set(sealed_secrets, '{app_key}', $2::jsonb) where id = $1`,
        [a, JSON.stringify(body.join('.'))],
      );
      await expectUnreadable(openIntegrationSecrets({ db, keyring }, a));
      // Reads never open secrets, so they still answer, with the names.
      const read = await t.expect(200, t.get(`${integrations(org.id)}/${a}`, { key: owner.key }));
      expect(read.secret_fields).toEqual(['app_key', 'other']);

      // A valid ciphertext copied to another integration, or to another name, does not open either.
      const fromB = await sealedOf(b);
      await db.query(`update organization_integrations set sealed_secrets = $2::jsonb where id = $1`, [
        a,
        { app_key: fromB.app_key },
      ]);
      await expectUnreadable(openIntegrationSecrets({ db, keyring }, a));
      await db.query(`update organization_integrations set sealed_secrets = $2::jsonb where id = $1`, [
        b,
        { app_key: fromB.other, other: fromB.app_key },
      ]);
      await expectUnreadable(openIntegrationSecrets({ db, keyring }, b));
      // And a keyring without the sealing key cannot open anything.
      const c = await connect('c');
      await expectUnreadable(openIntegrationSecrets({ db, keyring: new Keyring(Buffer.alloc(32, 9)) }, c));
      expect(Object.keys(await openIntegrationSecrets({ db, keyring }, c)).sort()).toEqual([
        'app_key',
        'other',
      ]);
    });

    it('rotates keys: values sealed under the previous key still open, new ones use the current key', async () => {
      const { owner, org } = await t.ownerWithTeam();
      const old = plaintext('old');
      const created = await t.expect(
        201,
        t.post(
          integrations(org.id),
          { kind: 'slack', external_id: 'T1', secrets: { bot_token: old } },
          { key: owner.key },
        ),
      );
      const previous = parseSecretKey(TEST_SECRET_KEY)!;
      const rotated = new Keyring(Buffer.alloc(32, 7), [previous]);
      const next = await buildApp({ config: t.config, db: t.database.db, keyring: rotated });
      try {
        const fresh = plaintext('fresh');
        const answer = await next.inject({
          method: 'PATCH',
          url: `${integrations(org.id)}/${created.id}`,
          headers: { authorization: `Bearer ${owner.key}`, 'content-type': 'application/json' },
          payload: { secrets: { signing_secret: fresh } },
        });
        expect(answer.statusCode).toBe(200);
        const [row] = await t.database.db.query<{ s: Record<string, string> }>(
          'select sealed_secrets as s from organization_integrations where id = $1',
          [created.id],
        );
        expect(testKeyring().isCurrent(row!.s.bot_token!)).toBe(true);
        expect(rotated.isCurrent(row!.s.signing_secret!)).toBe(true);
        expect(await openIntegrationSecrets({ db: t.database.db, keyring: rotated }, created.id)).toEqual({
          bot_token: old,
          signing_secret: fresh,
        });
        // The old key alone cannot open what the new one sealed.
        await expectUnreadable(
          openIntegrationSecrets({ db: t.database.db, keyring: testKeyring() }, created.id),
        );
      } finally {
        await next.close();
      }
    });
  });

  describe(`integration secrets without ORGSTACK_SECRET_KEY [${backend.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(backend, { ORGSTACK_SECRET_KEY: '' });
    });
    afterAll(() => t?.close());

    it('refuses secrets with secret_key_not_configured, and works for everything else', async () => {
      const { owner, org } = await t.ownerWithTeam();
      const refused = await t.post(
        integrations(org.id),
        { kind: 'vercel', external_id: 'v', secrets: { api_token: 'x' } },
        { key: owner.key },
      );
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatchObject({ code: 'secret_key_not_configured', param: 'secrets' });
      expect(refused.body.error.message).toContain('ORGSTACK_SECRET_KEY');
      expect((await t.get(integrations(org.id), { key: owner.key })).body.data).toEqual([]);
      // Access is checked first: a stranger still learns nothing, not even about the server's key.
      const stranger = await t.userWithKey();
      const hidden = await t.post(
        integrations(org.id),
        { kind: 'vercel', external_id: 'v', secrets: { api_token: 'x' } },
        { key: stranger.key },
      );
      expect(hidden.status).toBe(404);
      const created = await t.expect(
        201,
        t.post(
          integrations(org.id),
          { kind: 'vercel', external_id: 'v', config: { team: 'acme' } },
          { key: owner.key },
        ),
      );
      const one = `${integrations(org.id)}/${created.id}`;
      expect((await t.patch(one, { secrets: { api_token: 'x' } }, { key: owner.key })).status).toBe(503);
      await t.expect(
        200,
        t.patch(one, { secrets: { api_token: null }, display_name: 'V' }, { key: owner.key }),
      );
      await t.expect(204, t.delete(one, { key: owner.key }));
    });
  });
}
