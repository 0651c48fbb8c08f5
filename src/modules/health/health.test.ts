import { expect, it } from 'vitest';
import { describeEachDatabase, startTestApp } from '../../../test/helpers/app.js';
import { backends } from '../../../test/helpers/databases.js';

describeEachDatabase('health and documentation', (use) => {
  it('answers /healthz and /readyz without a key', async () => {
    const t = use();
    expect(await t.expect(200, t.get('/healthz', { key: null }))).toEqual({ status: 'ok' });
    expect(await t.expect(200, t.get('/readyz', { key: null }))).toEqual({ status: 'ready' });
  });

  it('serves the OpenAPI 3.1 document and the interactive reference', async () => {
    const t = use();
    const doc = await t.expect(200, t.get('/openapi.json', { key: null }));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/organizations/{org}',
        '/v1/organizations/{org}/members/{user_id}',
        '/v1/me',
      ]),
    );
    const redirect = await t.get('/docs', { key: null });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/docs/');
    const page = await t.get('/docs/', { key: null });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>orgstack API reference</title>');
    expect(page.body).toContain('/openapi.json');
    const script = await t.get('/docs/js/scalar.js', { key: null });
    expect(script.status).toBe(200);
    expect(String(script.headers['content-type'])).toContain('javascript');
    const missing = await t.get('/docs/nothing-here.js', { key: null });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('route_not_found');
  });
});

for (const backend of backends) {
  it(`answers 503 in the envelope from /readyz when the database is gone [${backend.name}]`, async () => {
    const t = await startTestApp(backend);
    try {
      await t.database.db.close();
      const reply = await t.get('/readyz', { key: null });
      expect(reply.status).toBe(503);
      expect(reply.body.error).toMatchObject({ code: 'service_unavailable', type: 'api_error' });
      expect(JSON.stringify(reply.body)).not.toMatch(/ECONNREFUSED|stack|postgres:\/\//);
    } finally {
      await t.app.close();
      await t.database.drop().catch(() => {});
    }
  });
}
