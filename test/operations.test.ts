import { expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ADMIN_KEY, describeEachDatabase } from './helpers/app.js';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

describeEachDatabase(
  'rate limits per key',
  (use) => {
    it('answers 429 in the envelope with RateLimit headers once a key spends its minute, other keys unaffected', async () => {
      const t = use();
      const a = await t.userWithKey();
      const b = await t.userWithKey();
      for (let i = 0; i < 6; i++) {
        const ok = await t.get('/v1/me', { key: a.key });
        expect(ok.status).toBe(200);
        expect(ok.headers['ratelimit-limit']).toBe('6');
      }
      const limited = await t.get('/v1/me', { key: a.key });
      expect(limited.status).toBe(429);
      expect(limited.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.headers['ratelimit-remaining']).toBe('0');
      expect((await t.get('/v1/me', { key: b.key })).status).toBe(200);
      expect((await t.get('/healthz', { key: null })).status).toBe(200);
    });
  },
  { ORGSTACK_RATE_LIMIT_PER_KEY: '6' },
);

describeEachDatabase(
  'rate limits per address',
  (use) => {
    it('counts requests with bad keys too, and never limits the probes', async () => {
      const t = use();
      for (let i = 0; i < 4; i++)
        expect((await t.get('/v1/me', { key: `osk_wrong_${i}_000000000000000000000` })).status).toBe(401);
      const limited = await t.get('/v1/me');
      expect(limited.status).toBe(429);
      for (let i = 0; i < 6; i++) expect((await t.get('/readyz', { key: null })).status).toBe(200);
    });
  },
  { ORGSTACK_RATE_LIMIT_PER_IP: '4' },
);

describeEachDatabase(
  'limits shared through Redis',
  (use) => {
    it('enforces one limit across two instances', async () => {
      const t = use();
      const key = await t.userWithKey();
      const second = await buildApp({
        config: loadConfig({
          ORGSTACK_ADMIN_KEY: ADMIN_KEY,
          LOG_LEVEL: 'silent',
          ORGSTACK_RATE_LIMIT_PER_KEY: '4',
          ORGSTACK_RATE_LIMIT_PER_IP: '0',
          REDIS_URL,
        }),
        db: t.database.db,
      });
      try {
        const ask = (app: typeof second) =>
          app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${key.key}` } });
        const statuses: number[] = [];
        for (const app of [t.app, second, t.app, second, t.app, second])
          statuses.push((await ask(app)).statusCode);
        expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      } finally {
        await second.close();
      }
    });

    it('lets requests through when Redis does not answer', async () => {
      const t = use();
      const app = await buildApp({
        config: loadConfig({
          ORGSTACK_ADMIN_KEY: ADMIN_KEY,
          LOG_LEVEL: 'silent',
          ORGSTACK_RATE_LIMIT_PER_KEY: '1',
          ORGSTACK_RATE_LIMIT_PER_IP: '0',
          REDIS_URL: 'redis://127.0.0.1:1',
        }),
        db: t.database.db,
      });
      try {
        for (let i = 0; i < 3; i++) {
          const reply = await app.inject({
            method: 'GET',
            url: '/v1/me',
            headers: { authorization: `Bearer ${ADMIN_KEY}` },
          });
          expect(reply.statusCode).toBe(200);
        }
      } finally {
        await app.close();
      }
    });
  },
  { ORGSTACK_RATE_LIMIT_PER_KEY: '4', REDIS_URL },
);

describeEachDatabase(
  'HTTP protections and metrics',
  (use) => {
    it('sends security headers, and CORS only to the configured origin', async () => {
      const t = use();
      const reply = await t.get('/v1/me');
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['strict-transport-security']).toBeTruthy();
      expect(reply.headers['x-frame-options']).toBe('DENY');
      expect(reply.headers['cache-control']).toBe('no-store');
      const preflight = await t.app.inject({
        method: 'OPTIONS',
        url: '/v1/organizations',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
      const stranger = await t.app.inject({
        method: 'OPTIONS',
        url: '/v1/organizations',
        headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
      });
      expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
      expect((await t.get('/docs', { key: null })).status).toBeLessThan(400);
    });

    it('refuses a body over the limit with 413 in the envelope', async () => {
      const t = use();
      const reply = await t.post('/v1/organizations', { name: 'x', description: 'y'.repeat(5000) });
      expect(reply.status).toBe(413);
      expect(reply.body.error.code).toBe('payload_too_large');
    });

    it('serves Prometheus metrics by route pattern behind the metrics token', async () => {
      const t = use();
      const org = await t.createOrganization(ADMIN_KEY);
      await t.expect(200, t.get(`/v1/organizations/${org.id}`));
      expect((await t.get('/metrics', { key: null })).status).toBe(401);
      const reply = await t.get('/metrics', { key: 'metrics-token-for-tests' });
      expect(reply.status).toBe(200);
      const text = String(reply.body);
      expect(text).toMatch(
        /orgstack_http_requests_total\{method="GET",route="\/v1\/organizations\/:org",status="200"\} \d+/,
      );
      expect(text).toContain('orgstack_http_request_duration_seconds_bucket');
      expect(text).toContain('orgstack_db_statements_in_flight');
      expect(text).toMatch(/orgstack_db_pool_size [1-9]/);
      expect(text).toMatch(/orgstack_webhook_deliveries\{status="pending"\} \d+/);
      expect(text).not.toContain(org.id);
    });
  },
  {
    ORGSTACK_CORS_ORIGINS: 'https://app.example.com',
    ORGSTACK_BODY_LIMIT_BYTES: '4096',
    ORGSTACK_METRICS_TOKEN: 'metrics-token-for-tests',
  },
);

it('names the bad variable for broken protection settings', () => {
  expect(() => loadConfig({ ORGSTACK_CORS_ORIGINS: 'app.example.com' })).toThrow(/ORGSTACK_CORS_ORIGINS/);
  expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
  expect(() => loadConfig({ ORGSTACK_RATE_LIMIT_PER_KEY: '-1' })).toThrow(/ORGSTACK_RATE_LIMIT_PER_KEY/);
  expect(() => loadConfig({ ORGSTACK_WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0' })).toThrow(
    /ORGSTACK_WEBHOOK_ALLOWED_NETWORKS/,
  );
});
