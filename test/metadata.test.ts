import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase } from './helpers/app.js';

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describeEachDatabase('metadata limits', (use) => {
  for (const [route, fields] of [
    ['/v1/organizations', '"name":"Deep"'],
    ['/v1/users', '"email":"deep@example.com"'],
  ] as const) {
    it(`${route}: refuses hostile nesting with 400 and accepts ordinary nesting`, async () => {
      const t = use();
      for (const depth of [33, 5_000, 60_000]) {
        const reply = await t.app.inject({
          method: 'POST',
          url: route,
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          payload: `{${fields},"metadata":${nested(depth)}}`,
        });
        expect(reply.statusCode, `depth ${depth}`).toBe(400);
        expect(JSON.parse(reply.body).error).toMatchObject({ code: 'invalid_request', param: 'metadata' });
      }
      const fine = await t.app.inject({
        method: 'POST',
        url: route,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        payload: `{${fields},"metadata":${nested(32)}}`,
      });
      expect(fine.statusCode).toBe(201);
      const big = await t.post(route, {
        ...(route === '/v1/users' ? { email: 'big@example.com' } : { name: 'Big' }),
        metadata: { blob: 'x'.repeat(17 * 1024) },
      });
      expect(big.status).toBe(400);
      expect(big.body.error.param).toBe('metadata');
    });
  }
});
