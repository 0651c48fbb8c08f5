import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { members } from '../../../test/helpers/members.js';

const integrations = (org: string) => `/v1/organizations/${org}/integrations`;
const integration = (org: string, id: string) => `${integrations(org)}/${id}`;
const mapping = (org: string, id: string) => `${integration(org, id)}/environment-mapping`;

async function trail(t: TestApp, org: string, key: string) {
  const page = await t.expect(
    200,
    t.get(`/v1/organizations/${org}/audit-events`, { key, query: { action: 'integration.', limit: 100 } }),
  );
  return page.data as any[];
}

describeEachDatabase('organization integrations', (use) => {
  it('connects, lists, reads, updates and disconnects an integration, recording each step', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const created = await t.post(
      integrations(org.slug),
      {
        kind: 'vercel',
        external_id: 'team_abc',
        display_name: 'Acme on Vercel',
        config: { region: 'iad1', scopes: ['read'] },
        secrets: { api_token: 'vercel-token-1', webhook_secret: 'whsec-1' },
      },
      { key: owner.key },
    );
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBeTruthy();
    expect(created.body).toMatchObject({
      organization_id: org.id,
      kind: 'vercel',
      external_id: 'team_abc',
      display_name: 'Acme on Vercel',
      config: { region: 'iad1', scopes: ['read'] },
      secret_fields: ['api_token', 'webhook_secret'],
      environment_mapping: {},
      created_by_user_id: owner.user.id,
      deleted_at: null,
    });
    expect(created.body.secrets_updated_at).not.toBeNull();
    const id = created.body.id as string;

    await t.expect(
      201,
      t.post(integrations(org.id), { kind: 'aws_marketplace', external_id: 'cust-1' }, { key: owner.key }),
    );
    await t.expect(
      201,
      t.post(integrations(org.id), { kind: 'github', external_id: '42' }, { key: owner.key }),
    );

    // limit/offset as seed 002 pages, and the keyset cursor.
    const first = await t.expect(200, t.get(integrations(org.id), { key: owner.key, query: { limit: 2 } }));
    expect(first.data.map((i: any) => i.kind)).toEqual(['vercel', 'aws_marketplace']);
    expect(first.pagination.has_more).toBe(true);
    const byOffset = await t.expect(
      200,
      t.get(integrations(org.id), { key: owner.key, query: { limit: 2, offset: 2 } }),
    );
    expect(byOffset.data.map((i: any) => i.kind)).toEqual(['github']);
    const byCursor = await t.expect(
      200,
      t.get(integrations(org.id), {
        key: owner.key,
        query: { limit: 2, cursor: first.pagination.next_cursor },
      }),
    );
    expect(byCursor.data.map((i: any) => i.kind)).toEqual(['github']);
    expect(byCursor.pagination.has_more).toBe(false);
    const vercelOnly = await t.expect(
      200,
      t.get(integrations(org.id), { key: owner.key, query: { kind: 'vercel' } }),
    );
    expect(vercelOnly.data.map((i: any) => i.id)).toEqual([id]);

    const fetched = await t.get(integration(org.id, id), { key: owner.key });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);

    // Display name and config replace; secrets merge by name.
    const updated = await t.expect(
      200,
      t.patch(
        integration(org.id, id),
        {
          display_name: 'Acme',
          config: { region: 'fra1' },
          secrets: { api_token: 'vercel-token-2', webhook_secret: null },
        },
        { key: owner.key },
      ),
    );
    expect(updated).toMatchObject({
      display_name: 'Acme',
      config: { region: 'fra1' },
      secret_fields: ['api_token'],
    });
    expect(updated.updated_at > created.body.updated_at).toBe(true);

    await t.expect(204, t.delete(integration(org.id, id), { key: owner.key }));
    expect((await t.get(integration(org.id, id), { key: owner.key })).status).toBe(404);
    const gone = await t.expect(
      200,
      t.get(integration(org.id, id), { key: owner.key, query: { include_deleted: true } }),
    );
    // Kept for the record, with its secrets erased.
    expect(gone.deleted_at).not.toBeNull();
    expect(gone.secret_fields).toEqual([]);
    const [row] = await t.database.db.query<{ sealed_secrets: object }>(
      'select sealed_secrets from organization_integrations where id = $1',
      [id],
    );
    expect(row!.sealed_secrets).toEqual({});
    const live = await t.expect(200, t.get(integrations(org.id), { key: owner.key }));
    expect(live.data.map((i: any) => i.id)).not.toContain(id);
    const all = await t.expect(
      200,
      t.get(integrations(org.id), { key: owner.key, query: { include_deleted: true } }),
    );
    expect(all.data.map((i: any) => i.id)).toContain(id);
    // Deleting again is 404: a disconnected integration is not live.
    expect((await t.delete(integration(org.id, id), { key: owner.key })).status).toBe(404);

    const events = await trail(t, org.id, owner.key);
    expect(events.filter((e) => e.target.id === id).map((e) => e.action)).toEqual([
      'integration.connected',
      'integration.updated',
      'integration.disconnected',
    ]);
    const update = events.find((e) => e.action === 'integration.updated');
    expect(update.changes).toMatchObject({
      display_name: { before: 'Acme on Vercel', after: 'Acme' },
      config: { before: { region: 'iad1', scopes: ['read'] }, after: { region: 'fra1' } },
      secret_fields: { before: ['api_token', 'webhook_secret'], after: ['api_token'] },
    });
    expect(update.changes.secrets_updated_at).toBeDefined();
  });

  it('keeps one live integration per kind and external id, also under a burst of creates', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const other = await t.ownerWithTeam();
    const first = await t.expect(
      201,
      t.post(integrations(org.id), { kind: 'vercel', external_id: 'team_1' }, { key: owner.key }),
    );
    const twice = await t.post(
      integrations(org.id),
      { kind: 'vercel', external_id: 'team_1' },
      { key: owner.key },
    );
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: 'integration_already_connected', param: 'external_id' });
    // Another kind, or another organization, may use the same external id.
    await t.expect(
      201,
      t.post(integrations(org.id), { kind: 'github', external_id: 'team_1' }, { key: owner.key }),
    );
    await t.expect(
      201,
      t.post(integrations(other.org.id), { kind: 'vercel', external_id: 'team_1' }, { key: other.owner.key }),
    );
    // Once disconnected, the external id can be connected again.
    await t.expect(204, t.delete(integration(org.id, first.id), { key: owner.key }));
    await t.expect(
      201,
      t.post(integrations(org.id), { kind: 'vercel', external_id: 'team_1' }, { key: owner.key }),
    );

    const burst = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.post(
          integrations(org.id),
          { kind: 'slack', external_id: 'T0001', secrets: { bot_token: 'xoxb-1' } },
          { key: owner.key },
        ),
      ),
    );
    expect(burst.filter((reply) => reply.status === 201)).toHaveLength(1);
    const refused = burst.filter((reply) => reply.status === 409);
    expect(refused).toHaveLength(9);
    for (const reply of refused) expect(reply.body.error.code).toBe('integration_already_connected');
    const [count] = await t.database.db.query<{ n: number }>(
      `select count(*)::int as n from organization_integrations where organization_id = $1 and kind = 'slack'`,
      [org.id],
    );
    expect(count!.n).toBe(1);
  });

  it('lets viewers read and only admins write; scopes and If-Match are enforced; refusals change nothing', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: owner.key }),
    );
    const created = await t.post(
      integrations(org.id),
      { kind: 'vercel', external_id: 'team_x', secrets: { api_token: 't' } },
      { key: owner.key },
    );
    const id = created.body.id as string;
    await t.expect(200, t.get(integration(org.id, id), { key: viewer.key }));
    await t.expect(200, t.get(integrations(org.id), { key: viewer.key }));
    for (const reply of [
      await t.post(integrations(org.id), { kind: 'github', external_id: '1' }, { key: viewer.key }),
      await t.patch(integration(org.id, id), { display_name: 'x' }, { key: viewer.key }),
      await t.patch(mapping(org.id, id), { environment_mapping: {} }, { key: viewer.key }),
      await t.delete(integration(org.id, id), { key: viewer.key }),
    ]) {
      expect(reply.status).toBe(403);
      expect(reply.body.error.code).toBe('forbidden');
    }

    // A key of the owner without the integration scopes, and one that may only read them.
    const organizationOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization:write', 'member:write'] }, { key: owner.key }),
    );
    const readOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization_integration:read'] }, { key: owner.key }),
    );
    for (const reply of [
      await t.get(integrations(org.id), { key: organizationOnly.secret }),
      await t.get(integration(org.id, id), { key: organizationOnly.secret }),
      await t.post(integrations(org.id), { kind: 'github', external_id: '1' }, { key: readOnly.secret }),
      await t.delete(integration(org.id, id), { key: readOnly.secret }),
    ]) {
      expect(reply.status).toBe(403);
      expect(reply.body.error.code).toBe('insufficient_scope');
    }
    await t.expect(200, t.get(integration(org.id, id), { key: readOnly.secret }));
    // Write implies read.
    const writer = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization_integration:write'] }, { key: owner.key }),
    );
    await t.expect(200, t.get(integrations(org.id), { key: writer.secret }));
    // An organization key acts as an admin of its organization.
    const orgKey = await t.organizationKey(org.id, owner.key, ['organization_integration:write']);
    await t.expect(
      201,
      t.post(integrations(org.id), { kind: 'github', external_id: 'org-key' }, { key: orgKey }),
    );

    const stranger = await t.userWithKey();
    expect((await t.get(integration(org.id, id), { key: stranger.key })).status).toBe(404);
    expect((await t.get(integrations(org.id), { key: stranger.key })).status).toBe(404);
    // An integration is found only under its own organization.
    const elsewhere = await t.ownerWithTeam();
    expect((await t.get(integration(elsewhere.org.id, id), { key: elsewhere.owner.key })).status).toBe(404);

    const tag = created.headers.etag as string;
    await t.expect(200, t.patch(integration(org.id, id), { display_name: 'v2' }, { key: owner.key }));
    const before = await t.database.db.query('select * from organization_integrations where id = $1', [id]);
    for (const reply of [
      await t.delete(integration(org.id, id), { key: owner.key, headers: { 'if-match': tag } }),
      await t.patch(
        mapping(org.id, id),
        { environment_mapping: {} },
        { key: owner.key, headers: { 'if-match': tag } },
      ),
      await t.patch(
        integration(org.id, id),
        { display_name: 'v3' },
        { key: owner.key, headers: { 'if-match': tag } },
      ),
    ]) {
      expect(reply.status).toBe(412);
      expect(reply.body.error.code).toBe('precondition_failed');
    }
    expect(await t.database.db.query('select * from organization_integrations where id = $1', [id])).toEqual(
      before,
    );
    const current = await t.get(integration(org.id, id), { key: owner.key });
    await t.expect(
      204,
      t.delete(integration(org.id, id), {
        key: owner.key,
        headers: { 'if-match': current.headers.etag as string },
      }),
    );
  });

  it('validates kinds, names and config, and refuses credentials outside `secrets`', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const cases: [unknown, string][] = [
      [{ kind: 'Vercel', external_id: 'x' }, 'kind'],
      [{ kind: 'aws-marketplace', external_id: 'x' }, 'kind'],
      [{ kind: '9lives', external_id: 'x' }, 'kind'],
      [{ kind: 'vercel', external_id: '' }, 'external_id'],
      [{ kind: 'vercel' }, 'external_id'],
      [{ kind: 'vercel', external_id: 'x', secrets: { 'API-TOKEN': 'x' } }, 'secrets.API-TOKEN'],
      [{ kind: 'vercel', external_id: 'x', secrets: { api_token: 1 } }, 'secrets.api_token'],
      [{ kind: 'vercel', external_id: 'x', secrets: { api_token: '' } }, 'secrets.api_token'],
      [{ kind: 'vercel', external_id: 'x', config: { api_token: 'leak' } }, 'config.api_token'],
      [
        { kind: 'vercel', external_id: 'x', config: { auth: { clientSecret: 'leak' } } },
        'config.auth.clientSecret',
      ],
      [
        { kind: 'vercel', external_id: 'x', environment_mapping: { 'bad env': 'web' } },
        'environment_mapping.bad env',
      ],
      [{ kind: 'vercel', external_id: 'x', extra: true }, 'extra'],
    ];
    for (const [body, param] of cases) {
      const reply = await t.post(integrations(org.id), body, { key: owner.key });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.param, JSON.stringify(body)).toBe(param);
    }
    const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`s${i}`, 'v']));
    expect(
      (
        await t.post(
          integrations(org.id),
          { kind: 'vercel', external_id: 'x', secrets: tooMany },
          { key: owner.key },
        )
      ).status,
    ).toBe(400);
    const [count] = await t.database.db.query<{ n: number }>(
      'select count(*)::int as n from organization_integrations where organization_id = $1',
      [org.id],
    );
    expect(count!.n).toBe(0);
    // A merge may not grow past the limit either.
    const created = await t.expect(
      201,
      t.post(
        integrations(org.id),
        {
          kind: 'vercel',
          external_id: 'x',
          secrets: Object.fromEntries(Object.entries(tooMany).slice(0, 20)),
        },
        { key: owner.key },
      ),
    );
    const grown = await t.patch(
      integration(org.id, created.id),
      { secrets: { one_more: 'v' } },
      { key: owner.key },
    );
    expect(grown.status).toBe(400);
    expect(grown.body.error.param).toBe('secrets');
    expect((await t.patch(integration(org.id, created.id), {}, { key: owner.key })).status).toBe(400);
  });

  it('maps environments to projects of the same organization, merging on PATCH', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const other = await t.ownerWithTeam();
    const project = (o: string, name: string, key: string) =>
      t.expect(201, t.post(`/v1/organizations/${o}/projects`, { name }, { key }));
    const web = await project(org.id, 'Web', owner.key);
    const api = await project(org.id, 'Api', owner.key);
    const retired = await project(org.id, 'Retired', owner.key);
    await t.expect(204, t.delete(`/v1/organizations/${org.id}/projects/${retired.id}`, { key: owner.key }));
    const foreign = await project(other.org.id, 'Foreign', other.owner.key);

    const created = await t.post(
      integrations(org.id),
      {
        kind: 'vercel',
        external_id: 'team_m',
        environment_mapping: { production: 'web', preview: api.id.toUpperCase() },
      },
      { key: owner.key },
    );
    expect(created.status).toBe(201);
    expect(created.body.environment_mapping).toEqual({ production: web.id, preview: api.id });
    const id = created.body.id as string;

    const merged = await t.expect(
      200,
      t.patch(
        mapping(org.id, id),
        { environment_mapping: { development: 'api', preview: null } },
        { key: owner.key },
      ),
    );
    expect(merged.environment_mapping).toEqual({ production: web.id, development: api.id });

    const before = await t.database.db.query('select * from organization_integrations where id = $1', [id]);
    const refusals: [unknown, number, string, string][] = [
      [{ staging: foreign.id }, 422, 'unknown_project', 'environment_mapping.staging'],
      [{ staging: 'foreign' }, 422, 'unknown_project', 'environment_mapping.staging'],
      [{ production: retired.id }, 422, 'unknown_project', 'environment_mapping.production'],
      [{ production: 'retired' }, 422, 'unknown_project', 'environment_mapping.production'],
      [
        { production: '00000000-0000-0000-0000-000000000000' },
        422,
        'unknown_project',
        'environment_mapping.production',
      ],
      [{ 'no spaces': 'web' }, 400, 'invalid_request', 'environment_mapping.no spaces'],
      [{ production: 'Not A Slug' }, 400, 'invalid_request', 'environment_mapping.production'],
    ];
    for (const [body, status, code, param] of refusals) {
      const reply = await t.patch(mapping(org.id, id), { environment_mapping: body }, { key: owner.key });
      expect(reply.status, JSON.stringify(body)).toBe(status);
      expect(reply.body.error, JSON.stringify(body)).toMatchObject({ code, param });
      expect(JSON.stringify(reply.body)).not.toContain(other.org.id);
    }
    expect((await t.patch(mapping(org.id, id), { production: web.id }, { key: owner.key })).status).toBe(400);
    expect(await t.database.db.query('select * from organization_integrations where id = $1', [id])).toEqual(
      before,
    );
    // A create that names a foreign project creates nothing.
    const refusedCreate = await t.post(
      integrations(org.id),
      { kind: 'vercel', external_id: 'team_n', environment_mapping: { production: foreign.id } },
      { key: owner.key },
    );
    expect(refusedCreate.body.error).toMatchObject({
      code: 'unknown_project',
      param: 'environment_mapping.production',
    });
    expect(
      (await t.get(integrations(org.id), { key: owner.key, query: { kind: 'vercel' } })).body.data,
    ).toHaveLength(1);

    const events = await trail(t, org.id, owner.key);
    const mapped = events.filter((e) => e.action === 'integration.environment_mapping_updated');
    expect(mapped).toHaveLength(1);
    expect(mapped[0].changes.environment_mapping).toEqual({
      before: { production: web.id, preview: api.id },
      after: { production: web.id, development: api.id },
    });
  });
});
