import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase, type Reply, type TestApp } from './helpers/app.js';
import { usageRecord } from './helpers/usage.js';

/** Every body a suite saw; the last test checks none of them leaked internals. */
type Seen = string[];

const LEAKS = ['stack', 'SELECT', 'at /'];

/** Asserts the reply is the error envelope with this status, code and param; returns the error. */
function expectError(reply: Reply, status: number, code: string | null, param?: string | null) {
  if (reply.status !== status) {
    throw new Error(`expected ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
  expect(typeof reply.body).toBe('object');
  expect(Object.keys(reply.body)).toEqual(['error']);
  const error = reply.body.error;
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'request_id', 'type']);
  expect(typeof error.type).toBe('string');
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  if (code !== null) expect(error.code).toBe(code);
  if (param !== undefined) expect(error.param).toBe(param);
  const header = reply.headers['x-request-id'];
  expect(typeof header).toBe('string');
  expect(error.request_id).toBe(header);
  expect(error.type).toBe(
    status === 401
      ? 'authentication_error'
      : status === 403
        ? 'permission_error'
        : status >= 500
          ? 'api_error'
          : 'invalid_request_error',
  );
  return error;
}

/** A raw request (string payloads, odd content types) that still parses the reply like the helper. */
async function raw(t: TestApp, seen: Seen, options: InjectOptions): Promise<Reply> {
  const response = await t.app.inject({
    ...options,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(options.headers ?? {}) },
  });
  seen.push(response.body);
  const body = String(response.headers['content-type'] ?? '').includes('json')
    ? JSON.parse(response.body)
    : response.body;
  return { status: response.statusCode, body, headers: response.headers };
}

async function counts(t: TestApp) {
  const [row] = await t.database.db.query<{
    orgs: string | number;
    users: string | number;
    usage: string | number;
  }>(
    `select (select count(*) from organizations) as orgs, (select count(*) from users) as users,
            (select count(*) from usage_records) as usage`,
  );
  return { orgs: Number(row!.orgs), users: Number(row!.users), usage: Number(row!.usage) };
}

describeEachDatabase('validation and the error envelope', (use) => {
  const seen: Seen = [];
  let before: { orgs: number; users: number; usage: number };
  let org: any;
  let user: any;

  const record = async (reply: Promise<Reply>) => {
    const result = await reply;
    seen.push(typeof result.body === 'string' ? result.body : JSON.stringify(result.body));
    return result;
  };

  beforeAll(async () => {
    const t = use();
    user = await t.createUser();
    org = await t.createOrganization(ADMIN_KEY, { owner_user_id: user.id });
    before = await counts(t);
  });

  it('answers every error with the envelope, and request_id is the x-request-id header', async () => {
    const t = use();
    const reply = await record(t.get('/v1/organizations/00000000-0000-4000-8000-000000000000'));
    const error = expectError(reply, 404, 'not_found');
    expect(error.request_id.length).toBeGreaterThan(0);
    const other = await record(t.get('/v1/organizations/00000000-0000-4000-8000-000000000000'));
    expect(other.body.error.request_id).not.toBe(error.request_id);
  });

  it('echoes a valid client x-request-id and replaces an invalid one', async () => {
    const t = use();
    const given = 'client-req.42:abc';
    const reply = await record(
      t.get('/v1/organizations/00000000-0000-4000-8000-000000000000', {
        headers: { 'x-request-id': given },
      }),
    );
    expect(reply.headers['x-request-id']).toBe(given);
    expect(expectError(reply, 404, 'not_found').request_id).toBe(given);
    const bad = 'has spaces and <html>';
    const replaced = await record(
      t.get('/v1/organizations/00000000-0000-4000-8000-000000000000', {
        headers: { 'x-request-id': bad },
      }),
    );
    expect(replaced.headers['x-request-id']).not.toBe(bad);
    expectError(replaced, 404, 'not_found');
    // Successful replies carry the header too.
    const ok = await record(t.get('/v1/me', { headers: { 'x-request-id': 'ok-1' } }));
    expect(ok.status).toBe(200);
    expect(ok.headers['x-request-id']).toBe('ok-1');
  });

  it('refuses malformed and empty JSON with param "body"', async () => {
    const t = use();
    for (const payload of ['{"name": "x",', '{name: x}', 'not json at all', '[1, 2']) {
      const reply = await raw(t, seen, {
        method: 'POST',
        url: '/v1/organizations',
        payload,
        headers: { 'content-type': 'application/json' },
      });
      expectError(reply, 400, 'invalid_json', 'body');
    }
    const empty = await raw(t, seen, {
      method: 'POST',
      url: '/v1/organizations',
      payload: '',
      headers: { 'content-type': 'application/json' },
    });
    expectError(empty, 400, null, 'body');
    const notObject = await raw(t, seen, {
      method: 'POST',
      url: '/v1/organizations',
      payload: '"a string"',
      headers: { 'content-type': 'application/json' },
    });
    expectError(notObject, 400, 'invalid_request', 'body');
  });

  it('refuses wrong types without coercion, naming the field', async () => {
    const t = use();
    expectError(await record(t.post('/v1/organizations', { name: 123 })), 400, 'invalid_request', 'name');
    expectError(await record(t.post('/v1/organizations', { name: true })), 400, 'invalid_request', 'name');
    expectError(
      await record(t.post('/v1/organizations', { name: 'x', active: 'true' })),
      400,
      'invalid_request',
      'active',
    );
    expectError(
      await record(t.post('/v1/organizations', { name: 'x', metadata: 'nope' })),
      400,
      'invalid_request',
      'metadata',
    );
    expectError(
      await record(t.patch(`/v1/organizations/${org.id}`, { description: 5 })),
      400,
      'invalid_request',
      'description',
    );
    expectError(await record(t.post('/v1/users', { email: 42 })), 400, 'invalid_request', 'email');
    expectError(
      await record(t.post('/v1/users', { email: 'not-an-email' })),
      400,
      'invalid_request',
      'email',
    );
  });

  it('refuses a missing required field, naming it', async () => {
    const t = use();
    expectError(
      await record(t.post('/v1/organizations', { description: 'd' })),
      400,
      'invalid_request',
      'name',
    );
    expectError(await record(t.post('/v1/users', { name: 'n' })), 400, 'invalid_request', 'email');
  });

  it('refuses unknown body fields, naming them', async () => {
    const t = use();
    expectError(
      await record(t.post('/v1/organizations', { name: 'x', colour: 'red' })),
      400,
      'invalid_request',
      'colour',
    );
    expectError(
      await record(t.patch(`/v1/organizations/${org.id}`, { nmae: 'typo' })),
      400,
      'invalid_request',
      'nmae',
    );
    expectError(
      await record(t.post(`/v1/organizations/${org.id}/members`, { email: 'a@example.com', admin: true })),
      400,
      'invalid_request',
      'admin',
    );
  });

  it('names nested setting fields with a dotted path', async () => {
    const t = use();
    expectError(
      await record(t.patch(`/v1/organizations/${org.id}`, { settings: { enforce_2fa: 'yes' } })),
      400,
      'invalid_request',
      'settings.enforce_2fa',
    );
    expectError(
      await record(t.patch(`/v1/organizations/${org.id}`, { settings: { not_a_setting: true } })),
      400,
      'invalid_request',
      'settings.not_a_setting',
    );
    expectError(
      await record(
        t.post('/v1/organizations', {
          name: 'x',
          settings: { default_experiment_stats_method: 'magic' },
        }),
      ),
      400,
      'invalid_request',
      'settings.default_experiment_stats_method',
    );
  });

  it('refuses unknown query parameters, naming them', async () => {
    const t = use();
    expectError(
      await record(t.get('/v1/organizations', { query: { colour: 'red' } })),
      400,
      'invalid_request',
      'colour',
    );
    expectError(
      await record(t.get(`/v1/organizations/${org.id}/members`, { query: { sort: 'name' } })),
      400,
      'invalid_request',
      'sort',
    );
    expectError(
      await record(t.get(`/v1/organizations/${org.id}`, { query: { expand: 'members' } })),
      400,
      'invalid_request',
      'expand',
    );
    expectError(
      await record(t.get('/v1/users', { query: { emial: 'x@example.com' } })),
      400,
      'invalid_request',
      'emial',
    );
  });

  it('refuses unknown query parameters on every /v1 route, even those that take none', async () => {
    const t = use();
    const team = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'Query team' }));
    const key = await t.expect(201, t.post('/v1/api-keys', { user_id: user.id }));
    const license = await t.expect(201, t.post('/v1/licenses', { plan: 'query', seats: null }));
    const deployment = await t.expect(
      201,
      t.post(`/v1/licenses/${license.id}/deployments`, { name: 'query', version: '1' }),
    );
    const start = await counts(t);
    // A body each write route would accept, so only the query string can be what is refused.
    const bodies: Record<string, unknown> = {
      'POST /v1/users': { email: `${t.unique('q')}@example.com` },
      'PATCH /v1/users/{user_id}': { name: 'Renamed' },
      'POST /v1/organizations': { name: 'Query org' },
      'PATCH /v1/organizations/{org}': { name: 'Renamed' },
      'POST /v1/organizations/{org}/move': { parent_organization_id: null },
      'POST /v1/organizations/{org}/children': { name: 'Query child' },
      'PATCH /v1/organizations/{org}/children/{child}': { name: 'Renamed' },
      'POST /v1/organizations/{org}/members': { email: `${t.unique('q')}@example.com` },
      'PATCH /v1/organizations/{org}/members/{user_id}': { role: 'admin' },
      'POST /v1/api-keys': {},
      'POST /v1/organizations/{org}/api-keys': {},
      'POST /v1/webhook-endpoints': { url: 'http://93.184.216.34/hook' },
      'POST /v1/organizations/{org}/projects': { name: 'Query project' },
      'POST /v1/organizations/{org}/transfer-ownership': { user_id: user.id },
      'PATCH /v1/organizations/{org}/projects/{project_id}': { name: 'Renamed' },
      'POST /v1/licenses': { plan: 'pro', seats: 5 },
      'PATCH /v1/licenses/{license_id}': { seats: 6 },
      'PUT /v1/organizations/{org}/license': { license_id: license.id },
      'POST /v1/licenses/{license_id}/deployments': { name: 'query', version: '2' },
      'POST /v1/organizations/{org}/integrations': { kind: 'vercel', external_id: 'query' },
      'PATCH /v1/organizations/{org}/integrations/{integration_id}': { display_name: 'Renamed' },
      'PATCH /v1/organizations/{org}/integrations/{integration_id}/environment-mapping': {
        environment_mapping: {},
      },
      'POST /v1/organizations/{org}/usage': { records: [usageRecord()] },
      'PUT /v1/organizations/{org}/budget': { monthly_limit: '1' },
      'PATCH /v1/organizations/{org}/max-overages': { max_overage: '1' },
      'POST /v1/organizations/{org}/invitations': { email: `${t.unique('q')}@example.com` },
      'POST /v1/organizations/{org}/invitations/bulk': {
        invitations: [{ email: `${t.unique('q')}@example.com` }],
      },
      'POST /v1/organizations/{org}/members/bulk': { members: [{ email: `${t.unique('q')}@example.com` }] },
      'POST /v1/invitations/accept': { token: 'osi_unknown' },
      'POST /v1/organizations/{org}/roles': { key: 'query-role', name: 'Query role', base_role: 'viewer' },
      'PATCH /v1/organizations/{org}/roles/{role_id}': { name: 'Renamed' },
    };
    const webhook = await t.expect(
      201,
      t.post('/v1/webhook-endpoints', { url: 'http://93.184.216.34/hook', enabled: false }),
    );
    const ids: Record<string, string> = {
      org: org.id,
      child: team.id,
      user_id: user.id,
      key_id: key.id,
      id: webhook.id,
      storage_type: 's3',
      project_id: (
        await t.expect(201, t.post(`/v1/organizations/${org.id}/projects`, { name: 'Query base' }))
      ).id,
      license_id: license.id,
      deployment_id: deployment.id,
      integration_id: (
        await t.expect(
          201,
          t.post(`/v1/organizations/${org.id}/integrations`, { kind: 'github', external_id: 'query-base' }),
        )
      ).id,
      // Any well-formed ids: the query string is refused before they are looked up.
      invitation_id: '01900000-0000-7000-8000-000000000001',
      link_id: '01900000-0000-7000-8000-000000000002',
      role_id: (
        await t.expect(
          201,
          t.post(`/v1/organizations/${org.id}/roles`, { key: 'query-base', name: 'Q', base_role: 'viewer' }),
        )
      ).id,
    };
    const doc = await t.expect(200, t.get('/openapi.json', { key: null }));
    let checked = 0;
    for (const [path, operations] of Object.entries<Record<string, any>>(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries<any>(operations)) {
        const route = `${method.toUpperCase()} ${path}`;
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
        const body = operation.requestBody ? (bodies[route] ?? {}) : undefined;
        const reply = await record(
          t.call(method.toUpperCase() as 'GET', url, { query: { zz_unknown: '1' }, body }),
        );
        try {
          expectError(reply, 400, 'invalid_request', 'zz_unknown');
        } catch (error) {
          throw new Error(`${route}: ${(error as Error).message}`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(25);
    expect(await counts(t)).toEqual(start);
    const still = await t.expect(200, t.get(`/v1/organizations/${org.id}`));
    expect(still.name).toBe(org.name);
    expect(still.deleted_at).toBeNull();
  });

  it('refuses over-long strings, naming the field', async () => {
    const t = use();
    expectError(
      await record(t.post('/v1/organizations', { name: 'a'.repeat(201) })),
      400,
      'invalid_request',
      'name',
    );
    expectError(
      await record(t.patch(`/v1/organizations/${org.id}`, { description: 'd'.repeat(2001) })),
      400,
      'invalid_request',
      'description',
    );
    expectError(
      await record(t.get('/v1/organizations', { query: { name_search: 'n'.repeat(101) } })),
      400,
      'invalid_request',
      'name_search',
    );
    expectError(
      await record(t.post('/v1/organizations', { name: 'x', slug: 's'.repeat(65) })),
      400,
      'invalid_request',
      'slug',
    );
    // The boundary itself is accepted: 200 characters is a valid name.
    const longest = await t.expect(
      200,
      record(t.patch(`/v1/organizations/${org.id}`, { name: 'b'.repeat(200) })),
    );
    expect(longest.name).toHaveLength(200);
    await t.expect(200, record(t.patch(`/v1/organizations/${org.id}`, { name: org.name })));
  });

  it('refuses bad UUIDs in path parameters, naming the parameter', async () => {
    const t = use();
    expectError(await record(t.get('/v1/users/not-a-uuid')), 400, 'invalid_request', 'user_id');
    expectError(await record(t.patch('/v1/users/1234', { name: 'x' })), 400, 'invalid_request', 'user_id');
    expectError(await record(t.delete('/v1/users/not-a-uuid')), 400, 'invalid_request', 'user_id');
    expectError(
      await record(t.get(`/v1/organizations/${org.id}/members/not-a-uuid`)),
      400,
      'invalid_request',
      'user_id',
    );
    expectError(await record(t.delete('/v1/api-keys/zzz')), 400, 'invalid_request', 'key_id');
    // A uuid-shaped string with non-hex characters is not a uuid either.
    expectError(
      await record(t.get('/v1/users/0000000g-0000-4000-8000-000000000000')),
      400,
      'invalid_request',
      'user_id',
    );
  });

  it('refuses {org} references that are neither a uuid nor a slug', async () => {
    const t = use();
    for (const ref of ['Not_A_Slug', 'UPPER', '-leading-hyphen', 'trailing-', 'a'.repeat(65), 'dots.here']) {
      expectError(await record(t.get(`/v1/organizations/${ref}`)), 400, 'invalid_request', 'org');
    }
    expectError(
      await record(t.get(`/v1/organizations/${org.id}/children/Bad_Child`)),
      400,
      'invalid_request',
      'child',
    );
    expectError(await record(t.get('/v1/organizations/%20space/members')), 400, 'invalid_request', 'org');
    // A well-formed slug that names nothing is a 404, not a 400.
    expectError(await record(t.get('/v1/organizations/no-such-org-here')), 404, 'not_found');
  });

  it('refuses bad cursors with invalid_cursor', async () => {
    const t = use();
    for (const cursor of ['garbage!!', 'Zm9vYmFy', Buffer.from('{"id":1}').toString('base64url'), '%%%']) {
      expectError(
        await record(t.get('/v1/organizations', { query: { cursor } })),
        400,
        'invalid_cursor',
        'cursor',
      );
    }
    expectError(
      await record(t.get('/v1/users', { query: { cursor: 'bm90LWEta2V5' } })),
      400,
      'invalid_cursor',
      'cursor',
    );
    expectError(
      await record(t.get(`/v1/organizations/${org.id}/members`, { query: { cursor: 'bm90LWEta2V5' } })),
      400,
      'invalid_cursor',
      'cursor',
    );
    expectError(
      await record(t.get(`/v1/organizations/${org.id}/children`, { query: { cursor: 'bm90LWEta2V5' } })),
      400,
      'invalid_cursor',
      'cursor',
    );
    expectError(
      await record(t.get('/v1/organizations', { query: { cursor: 'x'.repeat(201) } })),
      400,
      null,
      'cursor',
    );
    expectError(
      await record(t.get('/v1/organizations', { query: { direction: 'sideways' } })),
      400,
      'invalid_request',
      'direction',
    );
  });

  it('refuses out-of-range limits', async () => {
    const t = use();
    for (const limit of ['0', '101', '-1', 'abc', '1.5', '']) {
      expectError(
        await record(t.get('/v1/organizations', { query: { limit } })),
        400,
        'invalid_request',
        'limit',
      );
    }
    expectError(
      await record(t.get('/v1/users', { query: { limit: 1000 } })),
      400,
      'invalid_request',
      'limit',
    );
    expectError(
      await record(t.get('/v1/organizations', { query: { offset: -1 } })),
      400,
      'invalid_request',
      'offset',
    );
    // The bounds themselves are fine.
    await t.expect(200, record(t.get('/v1/organizations', { query: { limit: 1 } })));
    await t.expect(200, record(t.get('/v1/organizations', { query: { limit: 100 } })));
  });

  it('refuses a cursor together with an offset', async () => {
    const t = use();
    await t.createOrganization(ADMIN_KEY, { owner_user_id: user.id });
    const first = await t.expect(200, record(t.get('/v1/organizations', { query: { limit: 1 } })));
    expect(first.pagination.next_cursor).toEqual(expect.any(String));
    const reply = await record(
      t.get('/v1/organizations', { query: { limit: 1, cursor: first.pagination.next_cursor, offset: 1 } }),
    );
    const error = expectError(reply, 400, 'invalid_request');
    expect(['offset', 'cursor']).toContain(error.param);
  });

  it('answers unknown routes and methods with route_not_found in the envelope', async () => {
    const t = use();
    for (const url of ['/v1/nope', '/v2/organizations', '/', '/v1/organizations/x/y/z/w']) {
      const reply = await record(t.get(url));
      expectError(reply, 404, 'route_not_found', null);
    }
    expectError(await record(t.call('PUT', '/v1/me')), 404, 'route_not_found');
    // Unknown routes need no key: the answer is the same without one.
    expectError(await record(t.get('/v1/nope', { key: null })), 404, 'route_not_found');
  });

  it('refuses a wrong content type with 415 in the envelope', async () => {
    const t = use();
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const reply = await raw(t, seen, {
        method: 'POST',
        url: '/v1/organizations',
        payload: contentType.includes('form') ? 'name=x' : '{"name":"x"}',
        headers: { 'content-type': contentType },
      });
      expectError(reply, 415, 'unsupported_media_type');
    }
  });

  it('refuses bodies that are too large with 413 in the envelope', async () => {
    const t = use();
    const reply = await raw(t, seen, {
      method: 'POST',
      url: '/v1/organizations',
      payload: JSON.stringify({ name: 'x', metadata: { blob: 'x'.repeat(1024 * 1024 + 10) } }),
      headers: { 'content-type': 'application/json' },
    });
    expectError(reply, 413, 'payload_too_large', 'body');
  });

  it('answers authentication failures in the envelope', async () => {
    const t = use();
    expectError(await record(t.get('/v1/me', { key: null })), 401, null, null);
    expectError(await record(t.get('/v1/me', { key: 'osk_not_a_real_key_at_all_000000000' })), 401, null);
    expectError(
      await record(t.get('/v1/me', { key: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } })),
      401,
      null,
    );
  });

  it('left nothing behind: no failed request changed the data', async () => {
    const t = use();
    const after = await counts(t);
    // Created on purpose: one organization by the cursor test, one team by the query test.
    expect(after).toEqual({ orgs: before.orgs + 2, users: before.users, usage: before.usage });
    const current = await t.expect(200, t.get(`/v1/organizations/${org.id}`));
    expect(current.description).toBe(org.description);
    expect(current.settings).toEqual(org.settings);
    expect(current.name).toBe(org.name);
  });

  it('never leaked internals into a response body', () => {
    expect(seen.length).toBeGreaterThan(50);
    for (const body of seen) {
      for (const leak of LEAKS) expect(body, body).not.toContain(leak);
    }
  });
});

describe('the envelope without a database round trip', () => {
  it('keeps the helper honest: expectError rejects a non-envelope', () => {
    expect(() =>
      expectError({ status: 400, body: { message: 'x' }, headers: { 'x-request-id': 'a' } }, 400, null),
    ).toThrow();
  });
});
