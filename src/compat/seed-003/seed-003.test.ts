import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';

const ORGANIZATION_FIELDS = [
  'active',
  'createdAt',
  'description',
  'domain',
  'friendlyName',
  'id',
  'name',
  'parentOrganizationId',
  'slug',
  'updatedAt',
];

const organization = (id: string) => `/organization/${id}`;
const member = (id: string, userId: string) => `${organization(id)}/member/${userId}`;
const maxOverages = (id: string) => `${organization(id)}/max-overages`;

async function addMember(t: TestApp, orgId: string, userId: string, role: string) {
  await t.expect(201, t.post(`/v1/organizations/${orgId}/members`, { user_id: userId, role }));
}

describeEachDatabase('compat 003', (use) => {
  it('creates and reads organizations in camelCase, the same ones /v1 sees', async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    const created = await t.expect(
      201,
      t.post('/organization', { organizationName: 'Acme Corp', domain: 'Acme.com' }, { key }),
    );
    expect(Object.keys(created).sort()).toEqual(ORGANIZATION_FIELDS);
    expect(created).toMatchObject({
      name: 'Acme Corp',
      domain: 'acme.com',
      friendlyName: null,
      parentOrganizationId: null,
      active: true,
    });
    const native = await t.get(`/v1/organizations/${created.id}`, { key });
    expect(native.body).toMatchObject({
      name: 'Acme Corp',
      slug: created.slug,
      created_at: created.createdAt,
    });
    const owner = await t.expect(200, t.get(`/v1/organizations/${created.id}/members/${user.id}`, { key }));
    expect(owner.role).toBe('owner');

    const read = await t.get(organization(created.id), { key });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created);
    // One version, one tag, whichever router reads it.
    expect(read.headers.etag).toBe(native.headers.etag);
    const bySlug = await t.expect(200, t.get(organization(created.slug), { key }));
    expect(bySlug.id).toBe(created.id);
    const nativeMade = await t.createOrganization(key, { name: 'Native', friendly_name: 'N' });
    const translated = await t.expect(200, t.get(organization(nativeMade.id), { key }));
    expect(translated).toMatchObject({ id: nativeMade.id, name: 'Native', friendlyName: 'N' });

    const nameless = await t.post('/organization', { domain: 'acme.com' }, { key });
    expect(nameless.status).toBe(400);
    expect(nameless.body.error).toMatchObject({ type: 'invalid_request_error', param: 'organizationName' });
    const badDomain = await t.post(
      '/organization',
      { organizationName: 'x', domain: 'not a domain' },
      { key },
    );
    expect(badDomain.status).toBe(400);
    expect(badDomain.body.error.param).toBe('domain');
    const stranger = await t.userWithKey();
    expect((await t.get(organization(created.id), { key: stranger.key })).status).toBe(404);
    const readOnly = await t.userWithKey(['organization:read']);
    expect((await t.post('/organization', { organizationName: 'x' }, { key: readOnly.key })).status).toBe(
      403,
    );
  });

  it("lists the caller's own organizations as an array, bounded", async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    const first = await t.expect(201, t.post('/organization', { organizationName: 'First' }, { key }));
    // A team made by an admin key: reached through its parent, not a membership of its own.
    await t.expect(201, t.post(`/v1/organizations/${first.id}/children`, { name: 'Team' }));
    const joined = await t.createOrganization((await t.userWithKey()).key);
    await addMember(t, joined.id, user.id, 'viewer');
    await t.createOrganization((await t.userWithKey()).key);

    const listed = await t.expect(200, t.get('/organization/list', { key }));
    expect(Array.isArray(listed)).toBe(true);
    expect(listed.map((o: any) => o.id)).toEqual([first.id, joined.id]);
    expect(listed[0]).toEqual(first);
    const second = await t.expect(200, t.get('/organization/list', { key, query: { limit: 1, offset: 1 } }));
    expect(second.map((o: any) => o.id)).toEqual([joined.id]);
    const tooMany = await t.get('/organization/list', { key, query: { limit: 101 } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.param).toBe('limit');
    const unknown = await t.get('/organization/list', { key, query: { page: 2 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('page');
    // Strict query strings stop at the router's own routes, though it answers at the root.
    expect((await t.get('/healthz', { key: null, query: { probe: 1 } })).status).toBe(200);
  });

  it('updates the fields a PUT gives and keeps the others', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const org = await t.expect(
      201,
      t.post('/organization', { organizationName: 'Before', domain: 'before.com' }, { key }),
    );
    const renamed = await t.put(organization(org.id), { organizationName: 'After' }, { key });
    expect(renamed.status).toBe(200);
    expect(Object.keys(renamed.body).sort()).toEqual(ORGANIZATION_FIELDS);
    expect(renamed.body).toMatchObject({ id: org.id, name: 'After', domain: 'before.com' });
    const other = await t.expect(
      200,
      t.put(organization(org.id), { name: 'Again', domain: null, friendlyName: 'F' }, { key }),
    );
    expect(other).toMatchObject({ name: 'Again', domain: null, friendlyName: 'F' });
    const native = await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key }));
    expect(native).toMatchObject({ name: 'Again', domain: null, friendly_name: 'F' });

    const both = await t.put(organization(org.id), { organizationName: 'a', name: 'b' }, { key });
    expect(both.status).toBe(400);
    expect(both.body.error.param).toBe('name');
    expect((await t.put(organization(org.id), {}, { key })).status).toBe(400);
    const stale = await t.put(
      organization(org.id),
      { name: 'x' },
      { key, headers: { 'if-match': renamed.headers.etag as string } },
    );
    expect(stale.status).toBe(412);

    const viewer = await t.userWithKey();
    await addMember(t, org.id, viewer.user.id, 'viewer');
    expect((await t.put(organization(org.id), { name: 'x' }, { key: viewer.key })).status).toBe(403);
    const stranger = await t.userWithKey();
    expect((await t.put(organization(org.id), { name: 'x' }, { key: stranger.key })).status).toBe(404);
  });

  it('removes members by the native rules and answers the organization', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.expect(
      201,
      t.post('/organization', { organizationName: 'Crew' }, { key: owner.key }),
    );
    const admin = await t.userWithKey();
    const plain = await t.userWithKey();
    await addMember(t, org.id, admin.user.id, 'admin');
    await addMember(t, org.id, plain.user.id, 'member');

    const removed = await t.delete(member(org.id, plain.user.id), { key: admin.key });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual(await t.expect(200, t.get(organization(org.id), { key: owner.key })));
    expect((await t.get(`/v1/organizations/${org.id}/members/${plain.user.id}`)).status).toBe(404);
    expect((await t.delete(member(org.id, plain.user.id), { key: admin.key })).status).toBe(404);

    const aboveRole = await t.delete(member(org.id, owner.user.id), { key: admin.key });
    expect(aboveRole.status).toBe(403);
    const lastOwner = await t.delete(member(org.id, owner.user.id), { key: owner.key });
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.error.code).toBe('last_owner');
    const stranger = await t.userWithKey();
    expect((await t.delete(member(org.id, admin.user.id), { key: stranger.key })).status).toBe(404);
    // Anyone may leave.
    const left = await t.delete(member(org.id, admin.user.id), { key: admin.key });
    expect(left.status).toBe(200);
    expect(left.body.id).toBe(org.id);
  });

  it('sets the maximum overage from a string or an exact number, in either spelling', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.expect(
      201,
      t.post('/organization', { organizationName: 'Spend' }, { key: owner.key }),
    );
    await t.expect(
      200,
      t.put(`/v1/organizations/${org.id}/budget`, { monthly_limit: '100' }, { key: owner.key }),
    );

    const set = await t.call('PATCH', maxOverages(org.id), {
      key: owner.key,
      body: '{"maxOverage": 0.30000000000000004}',
      headers: { 'content-type': 'application/json' },
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      organizationId: org.id,
      maxOverage: '0.30000000000000004',
      monthlyLimit: '100',
      ceiling: '100.30000000000000004',
      currency: 'USD',
      period: new Date().toISOString().slice(0, 7),
      periodCost: '0',
      updatedAt: expect.any(String),
    });
    const snake = await t.expect(
      200,
      t.patch(maxOverages(org.slug), { max_overage: '25.5' }, { key: owner.key }),
    );
    expect(snake.maxOverage).toBe('25.5');
    const native = await t.get(`/v1/organizations/${org.id}/budget`, { key: owner.key });
    expect(native.body).toMatchObject({ max_overage: '25.5', ceiling: '125.5' });

    for (const body of [{}, { maxOverage: '1', max_overage: '1' }]) {
      const refused = await t.patch(maxOverages(org.id), body, { key: owner.key });
      expect(refused.status).toBe(400);
      expect(refused.body.error.param).toBe('maxOverage');
    }
    const negative = await t.patch(maxOverages(org.id), { maxOverage: '-1' }, { key: owner.key });
    expect(negative.status).toBe(400);
    const viewer = await t.userWithKey();
    await addMember(t, org.id, viewer.user.id, 'member');
    expect((await t.patch(maxOverages(org.id), { maxOverage: '1' }, { key: viewer.key })).status).toBe(403);
    const stranger = await t.userWithKey();
    expect((await t.patch(maxOverages(org.id), { maxOverage: '1' }, { key: stranger.key })).status).toBe(404);
  });
});
