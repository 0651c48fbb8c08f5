import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { keyringFromConfig } from '../../secrets/setup.js';
import { TargetPolicy } from './targets.js';
import { WebhookWorker } from './worker.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on loopback: each path answers with the status set for it (200 by default). */
class Receiver {
  readonly received: Received[] = [];
  readonly statusFor = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  async start() {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        this.received.push({ path: request.url ?? '', headers: request.headers, body });
        const status = this.statusFor.get(request.url ?? '') ?? 200;
        response.writeHead(status, status === 302 ? { location: 'http://127.0.0.1:1/elsewhere' } : {});
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  url(path: string) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string) {
    return this.received.filter((entry) => entry.path === path);
  }

  async stop() {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

async function eventually<T>(read: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last value: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

const ENV = {
  ORGSTACK_WEBHOOK_POLL_MS: '40',
  ORGSTACK_WEBHOOK_RETRY_BASE_MS: '40',
  ORGSTACK_WEBHOOK_MAX_ATTEMPTS: '3',
  ORGSTACK_WEBHOOK_DISABLE_AFTER: '6',
  ORGSTACK_WEBHOOK_TIMEOUT_MS: '2000',
  ORGSTACK_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
};

const receiver = new Receiver();
beforeAll(() => receiver.start());
afterAll(() => receiver.stop());

async function endpointFor(
  t: TestApp,
  key: string,
  org: string,
  path: string,
  extra: Record<string, unknown> = {},
) {
  return t.expect(
    201,
    t.post('/v1/webhook-endpoints', { url: receiver.url(path), organization_id: org, ...extra }, { key }),
  );
}

const deliveries = (t: TestApp, id: string, key: string) =>
  t.expect(200, t.get(`/v1/webhook-endpoints/${id}/deliveries`, { key, query: { limit: 100 } }));

describeEachDatabase(
  'webhooks',
  (use) => {
    it('sends each change of the organization, signed as Standard Webhooks says, and records the attempt', async () => {
      const t = use();
      const { owner, org, team } = await t.ownerWithTeam();
      const path = `/signed-${t.unique('p')}`;
      const endpoint = await endpointFor(t, owner.key, org.id, path, {
        event_types: ['organization.updated'],
      });
      expect(endpoint.secret).toMatch(/^whsec_/);
      expect(
        (await t.get(`/v1/webhook-endpoints/${endpoint.id}`, { key: owner.key })).body.secret,
      ).toBeUndefined();

      await t.expect(
        200,
        t.patch(`/v1/organizations/${team.id}`, { friendly_name: 'Team one' }, { key: owner.key }),
      );
      const [message] = await eventually(
        () => receiver.at(path),
        (list) => list.length >= 1,
      );
      const id = message!.headers['webhook-id'] as string;
      const timestamp = message!.headers['webhook-timestamp'] as string;
      const key = Buffer.from(endpoint.secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key)
        .update(`${id}.${timestamp}.${message!.body}`)
        .digest('base64');
      expect(message!.headers['webhook-signature']).toBe(`v1,${expected}`);
      const body = JSON.parse(message!.body);
      expect(body.type).toBe('organization.updated');
      expect(body.data).toMatchObject({
        id,
        organization_id: team.id,
        target: { type: 'organization', id: team.id },
      });
      expect(body.data.changes.friendly_name).toEqual({ before: null, after: 'Team one' });

      const log = await eventually(
        () => deliveries(t, endpoint.id, owner.key),
        (page) => page.data[0]?.status === 'succeeded',
      );
      expect(log.data).toHaveLength(1);
      expect(log.data[0]).toMatchObject({ event_id: id, event_type: 'organization.updated', attempts: 1 });
      expect(log.data[0].attempt_log).toMatchObject([{ attempt: 1, status_code: 200, error: null }]);
    });

    it('retries failures with backoff, gives up after the last attempt, and disables an endpoint that keeps failing', async () => {
      const t = use();
      const { owner, org } = await t.ownerWithTeam();
      const path = `/failing-${t.unique('p')}`;
      receiver.statusFor.set(path, 500);
      const endpoint = await endpointFor(t, owner.key, org.id, path);
      await t.expect(200, t.patch(`/v1/organizations/${org.id}`, { friendly_name: 'a' }, { key: owner.key }));
      await t.expect(200, t.patch(`/v1/organizations/${org.id}`, { friendly_name: 'b' }, { key: owner.key }));
      const log = await eventually(
        () => deliveries(t, endpoint.id, owner.key),
        (page) => page.data.length === 2 && page.data.every((d: any) => d.status === 'failed'),
      );
      for (const delivery of log.data) {
        expect(delivery.attempt_log.map((a: any) => a.status_code)).toEqual([500, 500, 500]);
      }
      // Six failed attempts in a row reach the limit of six: the endpoint is off, with the reason.
      const after = await t.expect(200, t.get(`/v1/webhook-endpoints/${endpoint.id}`, { key: owner.key }));
      expect(after.enabled).toBe(false);
      expect(after.disabled_reason).toMatch(/failed attempts/);

      // Enabling it again resets the count; a new event is attempted again.
      receiver.statusFor.set(path, 204);
      await t.expect(
        200,
        t.patch(`/v1/webhook-endpoints/${endpoint.id}`, { enabled: true }, { key: owner.key }),
      );
      const sent = await t.expect(
        202,
        t.post(`/v1/webhook-endpoints/${endpoint.id}/test`, {}, { key: owner.key }),
      );
      await eventually(
        () => deliveries(t, endpoint.id, owner.key),
        (page) => page.data.some((d: any) => d.event_id === sent.event_id && d.status === 'succeeded'),
      );
    });

    it('does not follow redirects and sends a test event to one endpoint only', async () => {
      const t = use();
      const { owner, org } = await t.ownerWithTeam();
      const moved = `/moved-${t.unique('p')}`;
      receiver.statusFor.set(moved, 302);
      const redirecting = await endpointFor(t, owner.key, org.id, moved);
      const quiet = `/quiet-${t.unique('p')}`;
      const other = await endpointFor(t, owner.key, org.id, quiet, { event_types: ['member.added'] });
      const sent = await t.expect(
        202,
        t.post(`/v1/webhook-endpoints/${redirecting.id}/test`, {}, { key: owner.key }),
      );
      const log = await eventually(
        () => deliveries(t, redirecting.id, owner.key),
        (page) => page.data.some((d: any) => d.event_id === sent.event_id && d.attempt_log.length >= 1),
      );
      const attempt = log.data.find((d: any) => d.event_id === sent.event_id).attempt_log[0];
      expect(attempt.status_code).toBe(302);
      expect(receiver.received.some((entry) => entry.path === '/elsewhere')).toBe(false);
      expect((await deliveries(t, other.id, owner.key)).data).toEqual([]);
    });

    it('refuses targets inside the network and keeps endpoints to their organization', async () => {
      const t = use();
      const { owner, org } = await t.ownerWithTeam();
      for (const url of [
        'http://169.254.169.254/latest/meta-data',
        'http://10.0.0.7/hook',
        'http://[::1]:8080/hook',
        'http://[::ffff:10.0.0.1]/hook',
      ]) {
        const reply = await t.post(
          '/v1/webhook-endpoints',
          { url, organization_id: org.id },
          { key: owner.key },
        );
        expect(reply.status, url).toBe(422);
        expect(reply.body.error).toMatchObject({ code: 'webhook_target_not_allowed', param: 'url' });
      }
      for (const url of ['ftp://127.0.0.1/x', 'http://user:pw@127.0.0.1/x', 'not a url']) {
        const reply = await t.post(
          '/v1/webhook-endpoints',
          { url, organization_id: org.id },
          { key: owner.key },
        );
        expect(reply.status, url).toBe(400);
      }
      // Without an organization only admin keys may create endpoints.
      const global = await t.post('/v1/webhook-endpoints', { url: receiver.url('/x') }, { key: owner.key });
      expect(global.status).toBe(403);
      expect((await t.get('/v1/webhook-endpoints', { key: owner.key })).status).toBe(400);

      const endpoint = await endpointFor(t, owner.key, org.id, `/own-${t.unique('p')}`, {
        event_types: ['organization.updated'],
      });
      const stranger = await t.ownerWithTeam();
      expect((await t.get(`/v1/webhook-endpoints/${endpoint.id}`, { key: stranger.owner.key })).status).toBe(
        404,
      );
      expect(
        (
          await t.get('/v1/webhook-endpoints', {
            key: stranger.owner.key,
            query: { organization_id: org.id },
          })
        ).status,
      ).toBe(404);
      // The stranger's changes never reach this endpoint.
      await t.expect(
        200,
        t.patch(`/v1/organizations/${stranger.org.id}`, { friendly_name: 'x' }, { key: stranger.owner.key }),
      );
      const listed = await t.expect(
        200,
        t.get('/v1/webhook-endpoints', { key: owner.key, query: { organization_id: org.id } }),
      );
      expect(listed.data.map((e: any) => e.id)).toContain(endpoint.id);
      await sleep(200);
      expect((await deliveries(t, endpoint.id, owner.key)).data).toEqual([]);
    });

    it('delivers each of 50 events once when two workers share the outbox', async () => {
      const t = use();
      await t.app.webhooks.stop();
      try {
        const { owner, org } = await t.ownerWithTeam();
        const path = `/shared-${t.unique('p')}`;
        await endpointFor(t, owner.key, org.id, path);
        for (let i = 0; i < 50; i++) {
          await t.expect(
            200,
            t.patch(`/v1/organizations/${org.id}`, { friendly_name: `v${i}` }, { key: owner.key }),
          );
        }
        const policy = new TargetPolicy(['127.0.0.0/8']);
        const workers = [1, 2].map(
          () =>
            new WebhookWorker(
              t.database.db,
              t.config.webhooks,
              policy,
              t.app.log,
              keyringFromConfig(t.config),
            ),
        );
        const claimed = [0, 0];
        for (let round = 0; round < 10; round++) {
          const worked = await Promise.all(workers.map((worker) => worker.runOnce()));
          worked.forEach((n, i) => {
            claimed[i]! += n;
          });
          if (worked.every((n) => n === 0)) break;
        }
        const ids = receiver.at(path).map((entry) => entry.headers['webhook-id']);
        expect(ids).toHaveLength(50);
        expect(new Set(ids).size).toBe(50);
        // Both took part, and between them claimed each delivery once.
        expect(claimed.every((n) => n > 0)).toBe(true);
        expect(claimed[0]! + claimed[1]!).toBe(50);
      } finally {
        t.app.webhooks.start();
      }
    });
  },
  ENV,
);

it('judges addresses: private networks refused unless allowed, IPv4-mapped IPv6 judged as IPv4', () => {
  const strict = new TargetPolicy([]);
  for (const address of [
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '0.0.0.0',
  ]) {
    expect(strict.permits(address), address).toBe(false);
  }
  for (const address of ['93.184.216.34', '2606:4700::1111', '::ffff:93.184.216.34']) {
    expect(strict.permits(address), address).toBe(true);
  }
  const loopback = new TargetPolicy(['127.0.0.0/8']);
  expect(loopback.permits('127.0.0.1')).toBe(true);
  expect(loopback.permits('10.1.2.3')).toBe(false);
});
