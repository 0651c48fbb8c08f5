import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';

const ORGANIZATION_FIELDS = [
  'allow_publicly_shared_resources',
  'created_at',
  'default_anonymize_ips',
  'default_experiment_stats_method',
  'default_role_id',
  'enforce_2fa',
  'id',
  'is_active',
  'is_ai_data_processing_approved',
  'logo_media_id',
  'member_count',
  'members_can_invite',
  'members_can_use_personal_api_keys',
  'membership_level',
  'metadata',
  'name',
  'slug',
  'updated_at',
];

async function addMember(t: TestApp, orgId: string, ownerKey: string, role: string, scopes?: string[]) {
  const member = await t.userWithKey(scopes);
  await t.expect(
    201,
    t.post(`/v1/organizations/${orgId}/members`, { user_id: member.user.id, role }, { key: ownerKey }),
  );
  return member;
}

describeEachDatabase('compat 002: PostHog organizations', (use) => {
  it('creates (201) with the flat settings and retrieves (200) by id, slug and @current', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const created = await t.expect(
      201,
      t.post(
        '/api/organizations',
        {
          name: 'Hedgehogs',
          logo_media_id: 'logo-1',
          enforce_2fa: true,
          members_can_invite: true,
          allow_publicly_shared_resources: false,
          default_experiment_stats_method: 'frequentist',
          default_anonymize_ips: true,
        },
        { key },
      ),
    );
    expect(Object.keys(created).sort()).toEqual(ORGANIZATION_FIELDS);
    expect(created).toEqual({
      id: expect.any(String),
      name: 'Hedgehogs',
      slug: expect.stringMatching(/^hedgehogs/),
      logo_media_id: 'logo-1',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      membership_level: 15,
      member_count: 1,
      is_active: true,
      metadata: {},
      enforce_2fa: true,
      members_can_invite: true,
      members_can_use_personal_api_keys: true,
      allow_publicly_shared_resources: false,
      is_ai_data_processing_approved: null,
      default_experiment_stats_method: 'frequentist',
      default_anonymize_ips: true,
      default_role_id: null,
    });
    // Stored as orgstack's settings: the same organization /v1 sees.
    const native = await t.expect(200, t.get(`/v1/organizations/${created.id}`, { key }));
    expect(native).toMatchObject({ name: 'Hedgehogs', logo_media_id: 'logo-1', slug: created.slug });
    expect(native.settings).toMatchObject({
      enforce_2fa: true,
      members_can_invite: true,
      allow_publicly_shared_resources: false,
      default_experiment_stats_method: 'frequentist',
    });

    expect(await t.expect(200, t.get(`/api/organizations/${created.id}`, { key }))).toEqual(created);
    expect((await t.expect(200, t.get(`/api/organizations/${created.slug}`, { key }))).id).toBe(created.id);
    // Keys without a user hold no membership level.
    expect((await t.expect(200, t.get(`/api/organizations/${created.id}`))).membership_level).toBeNull();
    const orgKey = await t.organizationKey(created.id, key);
    const current = await t.expect(200, t.get('/api/organizations/@current', { key: orgKey }));
    expect(current).toMatchObject({ id: created.id, membership_level: null, member_count: 1 });
    const noCurrent = await t.get('/api/organizations/@current', { key });
    expect(noCurrent.status).toBe(404);
    expect(noCurrent.body.error).toMatchObject({ code: 'not_found', param: 'id' });

    // The reverse: made by /v1, answered here in PostHog's fields.
    const fromV1 = await t.createOrganization(key, { settings: { is_ai_data_processing_approved: true } });
    const seen = await t.expect(200, t.get(`/api/organizations/${fromV1.id}`, { key }));
    expect(seen).toMatchObject({ id: fromV1.id, name: fromV1.name, is_ai_data_processing_approved: true });

    for (const [body, param] of [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x', default_experiment_stats_method: 'guessing' }, 'default_experiment_stats_method'],
      [{ name: 'x', members_can_use_personal_api_keys: null }, 'members_can_use_personal_api_keys'],
      [{ name: 'x', slug: 'chosen' }, 'slug'],
    ] as const) {
      const reply = await t.post('/api/organizations', body, { key });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });

  it('updates partially (200), answers each role its level, and deletes (204) for the owner only', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.expect(
      201,
      t.post('/api/organizations', { name: 'Before', enforce_2fa: true }, { key: owner.key }),
    );
    const admin = await addMember(t, org.id, owner.key, 'admin');
    const member = await addMember(t, org.id, owner.key, 'member');
    const viewer = await addMember(t, org.id, owner.key, 'viewer');

    const updated = await t.expect(
      200,
      t.patch(
        `/api/organizations/${org.id}`,
        { name: 'After', members_can_use_personal_api_keys: false, default_role_id: 'viewer' },
        { key: admin.key },
      ),
    );
    expect(Object.keys(updated).sort()).toEqual(ORGANIZATION_FIELDS);
    expect(updated).toMatchObject({
      id: org.id,
      name: 'After',
      slug: org.slug,
      enforce_2fa: true,
      members_can_use_personal_api_keys: false,
      default_role_id: 'viewer',
      membership_level: 8,
      member_count: 4,
    });
    const native = await t.expect(200, t.get(`/v1/organizations/${org.id}`));
    expect(native.settings).toMatchObject({ enforce_2fa: true, members_can_use_personal_api_keys: false });
    // Personal keys are refused while that setting is off: the instance admin key turns it back on.
    const restored = await t.expect(
      200,
      t.patch(`/api/organizations/${org.id}`, { members_can_use_personal_api_keys: true }),
    );
    // An empty update writes nothing, not even updated_at.
    const unchanged = await t.expect(200, t.patch(`/api/organizations/${org.id}`, {}, { key: owner.key }));
    expect(unchanged).toEqual({ ...restored, membership_level: 15 });

    expect(
      (await t.expect(200, t.get(`/api/organizations/${org.id}`, { key: member.key }))).membership_level,
    ).toBe(1);
    expect(
      (await t.expect(200, t.get(`/api/organizations/${org.id}`, { key: viewer.key }))).membership_level,
    ).toBe(1);
    expect((await t.patch(`/api/organizations/${org.id}`, { name: 'x' }, { key: member.key })).status).toBe(
      403,
    );
    expect((await t.delete(`/api/organizations/${org.id}`, { key: admin.key })).status).toBe(403);

    const deleted = await t.delete(`/api/organizations/${org.id}`, { key: owner.key });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');
    expect((await t.get(`/api/organizations/${org.id}`, { key: owner.key })).status).toBe(404);
    const kept = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}`, { query: { include_deleted: true } }),
    );
    expect(kept.deleted_at).not.toBeNull();
  });

  it('lists with limit and offset as {count, next, previous, results}, 100 a page by default', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const orgs = [];
    for (const name of ['One', 'Two', 'Three']) {
      orgs.push(await t.expect(201, t.post('/api/organizations', { name }, { key })));
    }
    // A team the user reaches through its parent, holding no membership of its own there, is not listed.
    await t.expect(201, t.post(`/v1/organizations/${orgs[0].id}/children`, { name: 'Team' }));

    const all = await t.expect(200, t.get('/api/organizations', { key }));
    expect(Object.keys(all).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(all).toMatchObject({ count: 3, next: null, previous: null });
    expect(all.results.map((o: any) => o.id)).toEqual(orgs.map((o) => o.id));
    expect(all.results[0]).toEqual(orgs[0]);

    const link = (url: string) => {
      const parsed = new URL(url);
      return `${parsed.pathname}?${parsed.searchParams.toString()}`;
    };
    const first = await t.expect(200, t.get('/api/organizations', { key, query: { limit: 1 } }));
    expect(first.count).toBe(3);
    expect(first.results.map((o: any) => o.id)).toEqual([orgs[0].id]);
    expect(first.next).toMatch(/^http:\/\//);
    expect(link(first.next)).toBe('/api/organizations?limit=1&offset=1');
    expect(first.previous).toBeNull();
    const second = await t.expect(200, t.get(link(first.next), { key }));
    expect(second.results.map((o: any) => o.id)).toEqual([orgs[1].id]);
    expect(link(second.next)).toBe('/api/organizations?limit=1&offset=2');
    expect(link(second.previous)).toBe('/api/organizations?limit=1');
    const last = await t.expect(200, t.get('/api/organizations', { key, query: { limit: 2, offset: 2 } }));
    expect(last).toMatchObject({ count: 3, next: null });
    expect(link(last.previous)).toBe('/api/organizations?limit=2');

    const refused: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 101 },
      { offset: -1 },
      { cursor: 'x' },
    ];
    for (const query of refused) {
      const reply = await t.get('/api/organizations', { key, query });
      expect(reply.status, JSON.stringify(query)).toBe(400);
      expect(reply.body.error.param).toBe(Object.keys(query)[0]);
    }
    const admin = await t.expect(200, t.get('/api/organizations', { query: { limit: 1 } }));
    expect(admin.count).toBeGreaterThanOrEqual(3);
    expect(admin.results[0].membership_level).toBeNull();
  });

  it('lists, retrieves, maps environments of (200) and disconnects (204) organization integrations', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const key = owner.key;
    const production = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/projects`, { name: 'Prod' }, { key }),
    );
    const preview = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/projects`, { name: 'Preview' }, { key }),
    );
    const connected = await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/integrations`,
        {
          kind: 'vercel',
          external_id: 'icfg_123',
          display_name: 'Vercel',
          config: { type: 'marketplace' },
          secrets: { access_token: 'very-secret-token' },
        },
        { key },
      ),
    );
    const expected = {
      id: connected.id,
      kind: 'vercel',
      integration_id: 'icfg_123',
      display_name: 'Vercel',
      config: { type: 'marketplace' },
      created_at: connected.created_at,
      updated_at: connected.updated_at,
      created_by: { uuid: owner.user.id },
    };
    const base = `/api/organizations/${org.id}/integrations`;
    const list = await t.expect(200, t.get(base, { key }));
    expect(list).toEqual({ count: 1, next: null, previous: null, results: [expected] });
    expect(JSON.stringify(list)).not.toContain('very-secret-token');
    expect(await t.expect(200, t.get(`${base}/${connected.id}`, { key }))).toEqual(expected);
    const orgKey = await t.organizationKey(org.id, key);
    expect(
      (await t.expect(200, t.get('/api/organizations/@current/integrations', { key: orgKey }))).count,
    ).toBe(1);
    expect((await t.get(`${base}/${connected.id}`, { key, query: { limit: 1 } })).status).toBe(400);

    const mapped = await t.expect(
      200,
      t.patch(
        `${base}/${connected.id}/environment-mapping`,
        { production: production.id, preview: preview.slug },
        { key },
      ),
    );
    expect(mapped.config).toEqual({
      type: 'marketplace',
      environment_mapping: { production: production.id, preview: preview.id, development: production.id },
    });
    const native = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/integrations/${connected.id}`, { key }),
    );
    expect(native.environment_mapping).toEqual({
      production: production.id,
      preview: preview.id,
      development: production.id,
    });
    const missing = await t.patch(
      `${base}/${connected.id}/environment-mapping`,
      { preview: preview.id },
      { key },
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error.param).toBe('production');
    const unknown = await t.patch(
      `${base}/${connected.id}/environment-mapping`,
      { production: 'no-such-project' },
      { key },
    );
    expect(unknown.status).toBe(422);

    const removed = await t.delete(`${base}/${connected.id}`, { key });
    expect(removed.status).toBe(204);
    expect(removed.body).toBe('');
    expect((await t.get(`${base}/${connected.id}`, { key })).status).toBe(404);
    expect(await t.expect(200, t.get(base, { key }))).toEqual({
      count: 0,
      next: null,
      previous: null,
      results: [],
    });
  });

  it('enforces the scopes PostHog names, and hides organizations from strangers with 404', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.expect(201, t.post('/api/organizations', { name: 'Scoped' }, { key: owner.key }));
    const integration = await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/integrations`,
        { kind: 'vercel', external_id: 'scoped' },
        { key: owner.key },
      ),
    );
    const base = `/api/organizations/${org.id}`;
    const one = `${base}/integrations/${integration.id}`;
    const status = async (reply: Promise<{ status: number }>) => (await reply).status;

    const orgRead = await addMember(t, org.id, owner.key, 'owner', ['organization:read']);
    expect(await status(t.get('/api/organizations', { key: orgRead.key }))).toBe(200);
    expect(await status(t.get(base, { key: orgRead.key }))).toBe(200);
    expect(await status(t.post('/api/organizations', { name: 'x' }, { key: orgRead.key }))).toBe(403);
    expect(await status(t.patch(base, { name: 'x' }, { key: orgRead.key }))).toBe(403);
    expect(await status(t.delete(base, { key: orgRead.key }))).toBe(403);
    expect(await status(t.get(`${base}/integrations`, { key: orgRead.key }))).toBe(403);
    expect(await status(t.get(one, { key: orgRead.key }))).toBe(403);

    const integrationRead = await addMember(t, org.id, owner.key, 'owner', ['organization_integration:read']);
    const refused = await t.get('/api/organizations', { key: integrationRead.key });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
    expect(await status(t.get(base, { key: integrationRead.key }))).toBe(403);
    expect(await status(t.get(`${base}/integrations`, { key: integrationRead.key }))).toBe(200);
    expect(await status(t.get(one, { key: integrationRead.key }))).toBe(200);
    expect(await status(t.delete(one, { key: integrationRead.key }))).toBe(403);
    expect(
      await status(
        t.patch(`${one}/environment-mapping`, { production: 'anything' }, { key: integrationRead.key }),
      ),
    ).toBe(403);

    const stranger = await t.userWithKey();
    for (const reply of [
      t.get(base, { key: stranger.key }),
      t.patch(base, { name: 'Taken' }, { key: stranger.key }),
      t.delete(base, { key: stranger.key }),
      t.get(`${base}/integrations`, { key: stranger.key }),
      t.get(one, { key: stranger.key }),
      t.delete(one, { key: stranger.key }),
      t.patch(`${one}/environment-mapping`, { production: 'anything' }, { key: stranger.key }),
    ]) {
      const answer = await reply;
      expect(answer.status).toBe(404);
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
    }
    expect((await t.expect(200, t.get('/api/organizations', { key: stranger.key }))).count).toBe(0);
    expect(await status(t.get(base, { key: null }))).toBe(401);
  });
});
