import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, TEST_SECRET_KEY, type TestApp } from '../../../test/helpers/app.js';
import { isSealed, Keyring, parseSecretKey } from '../../secrets/keyring.js';
import { resealSecrets, sealClearWebhookSecrets } from '../../secrets/reseal.js';
import { openIntegrationSecrets } from '../integrations/service.js';

const ENV = {
  ORGSTACK_WEBHOOK_POLL_MS: '40',
  ORGSTACK_WEBHOOK_MAX_ATTEMPTS: '1',
  ORGSTACK_WEBHOOK_TIMEOUT_MS: '2000',
  ORGSTACK_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
};

const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => {
    body += chunk;
  });
  request.on('end', () => {
    received.push({ path: request.url ?? '', headers: request.headers, body });
    response.end('ok');
  });
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

async function eventually<T>(read: () => Promise<T> | T, done: (value: T) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last value: ${JSON.stringify(value)}`);
    await sleep(40);
  }
}

const testKeyring = () => new Keyring(parseSecretKey(TEST_SECRET_KEY)!);

const storedSecret = async (t: TestApp, id: string) =>
  (
    await t.database.db.query<{ secret: string; updated_at: Date }>(
      'select secret, updated_at from webhook_endpoints where id = $1',
      [id],
    )
  )[0]!;

/** An endpoint of a fresh organization, and a way to make it receive one event and read what arrived. */
async function endpointWithEvents(t: TestApp) {
  const { owner, org } = await t.ownerWithTeam();
  const path = `/${t.unique('hook')}`;
  const endpoint = await t.expect(
    201,
    t.post(
      '/v1/webhook-endpoints',
      {
        url: `http://127.0.0.1:${port}${path}`,
        organization_id: org.id,
        event_types: ['organization.updated'],
      },
      { key: owner.key },
    ),
  );
  let sent = 0;
  const nextEvent = async () => {
    sent += 1;
    await t.expect(
      200,
      t.patch(`/v1/organizations/${org.id}`, { description: `v${sent}` }, { key: owner.key }),
    );
    const deliveries = await eventually(
      () =>
        t.expect(
          200,
          t.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`, { key: owner.key, query: { limit: 100 } }),
        ),
      (page) => page.data.length === sent && page.data.every((d: any) => d.status !== 'pending'),
    );
    return deliveries.data.at(-1);
  };
  const verifies = (message: (typeof received)[number]) => {
    const key = Buffer.from(endpoint.secret.slice('whsec_'.length), 'base64');
    const mac = createHmac('sha256', key)
      .update(`${message.headers['webhook-id']}.${message.headers['webhook-timestamp']}.${message.body}`)
      .digest('base64');
    return message.headers['webhook-signature'] === `v1,${mac}`;
  };
  return { endpoint, path, nextEvent, verifies, arrived: () => received.filter((m) => m.path === path) };
}

describeEachDatabase(
  'webhook signing secrets at rest',
  (use) => {
    it('stores the signing secret sealed, and still signs every delivery with it', async () => {
      const t = use();
      const { endpoint, nextEvent, verifies, arrived } = await endpointWithEvents(t);
      const { secret } = await storedSecret(t, endpoint.id);
      expect(isSealed(secret)).toBe(true);
      expect(secret).not.toContain(endpoint.secret.slice('whsec_'.length));
      expect(testKeyring().open(secret, `webhook_endpoint/${endpoint.id}/secret`)).toBe(endpoint.secret);
      expect((await nextEvent()).status).toBe('succeeded');
      expect(arrived().map(verifies)).toEqual([true]);
    });

    it('signs with secrets stored in clear before encryption existed, and seals them', async () => {
      const t = use();
      const { endpoint, nextEvent, verifies, arrived } = await endpointWithEvents(t);
      await t.database.db.query('update webhook_endpoints set secret = $2 where id = $1', [
        endpoint.id,
        endpoint.secret,
      ]);
      expect((await nextEvent()).status).toBe('succeeded');
      const before = await storedSecret(t, endpoint.id);
      expect(await sealClearWebhookSecrets(t.database.db, testKeyring())).toBeGreaterThanOrEqual(1);
      const after = await storedSecret(t, endpoint.id);
      expect(isSealed(after.secret)).toBe(true);
      // A change of storage, not of the endpoint: its version (and ETag) stays.
      expect(after.updated_at).toEqual(before.updated_at);
      expect(await sealClearWebhookSecrets(t.database.db, testKeyring())).toBe(0);
      expect((await nextEvent()).status).toBe('succeeded');
      expect(arrived().map(verifies)).toEqual([true, true]);
    });

    it('sends nothing when the sealed secret was altered, and says why in the delivery log', async () => {
      const t = use();
      const { endpoint, nextEvent, arrived } = await endpointWithEvents(t);
      const { secret } = await storedSecret(t, endpoint.id);
      const parts = secret.split('.');
      parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1);
      await t.database.db.query('update webhook_endpoints set secret = $2 where id = $1', [
        endpoint.id,
        parts.join('.'),
      ]);
      const delivery = await nextEvent();
      expect(delivery.status).toBe('failed');
      expect(delivery.last_error).toMatch(/^signing secret cannot be opened/);
      expect(arrived()).toEqual([]);
    });
  },
  ENV,
);

describeEachDatabase(
  'resealing after a key rotation',
  (use) => {
    it('re-encrypts every integration and webhook secret under the new key, so the old one can go', async () => {
      const t = use();
      const { owner, org } = await t.ownerWithTeam();
      const integration = await t.expect(
        201,
        t.post(
          `/v1/organizations/${org.id}/integrations`,
          { kind: 'vercel', external_id: 'r', secrets: { api_token: 'tok-r', webhook_secret: 'wh-r' } },
          { key: owner.key },
        ),
      );
      const endpoint = await t.expect(
        201,
        t.post('/v1/webhook-endpoints', {
          url: 'http://93.184.216.34/r',
          organization_id: org.id,
          enabled: false,
        }),
      );
      const next = Buffer.alloc(32, 0x42);
      const rotating = new Keyring(next, [parseSecretKey(TEST_SECRET_KEY)!]);
      const report = await resealSecrets(t.database.db, rotating);
      expect(report).toEqual({ integrations: 1, webhookEndpoints: 1 });
      expect(await resealSecrets(t.database.db, rotating)).toEqual({ integrations: 0, webhookEndpoints: 0 });
      const onlyNew = new Keyring(next);
      expect(await openIntegrationSecrets({ db: t.database.db, keyring: onlyNew }, integration.id)).toEqual({
        api_token: 'tok-r',
        webhook_secret: 'wh-r',
      });
      const { secret } = await storedSecret(t, endpoint.id);
      expect(onlyNew.open(secret, `webhook_endpoint/${endpoint.id}/secret`)).toBe(endpoint.secret);
      // A value under a key the run does not have stops it, naming the value, and changes nothing more.
      await expect(resealSecrets(t.database.db, new Keyring(Buffer.alloc(32, 0x43)))).rejects.toThrow(
        /ORGSTACK_SECRET_KEY_PREVIOUS/,
      );
      expect((await storedSecret(t, endpoint.id)).secret).toBe(secret);
    });
  },
  { ORGSTACK_WEBHOOK_POLL_MS: '0' },
);
