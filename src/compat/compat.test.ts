import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/app.js';
import { ConfigError, loadConfig } from '../config.js';

describeEachDatabase('compatibility routers: one organization, five shapes', (use) => {
  it('creates through one router and reads, changes and lists members through the others', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const as = { key: owner.key };
    const name = t.unique('Polyglot');

    // Created with seed 003's shape...
    const created = await t.expect(
      201,
      t.post('/organization', { organizationName: name, domain: 'polyglot.example' }, as),
    );
    const { id, slug } = created;
    expect(created).toMatchObject({ name, domain: 'polyglot.example' });

    // ...read with seed 001's, by slug...
    expect(await t.expect(200, t.get(`/admin/v1/organizations/${slug}`, as))).toMatchObject({
      id,
      name,
      slug,
    });
    // ...renamed with seed 002's, and seen renamed by /v1 and seed 000...
    await t.expect(200, t.patch(`/api/organizations/${id}`, { name: `${name} 2`, enforce_2fa: false }, as));
    const native = await t.expect(200, t.get(`/v1/organizations/${id}`, as));
    expect(native).toMatchObject({ name: `${name} 2`, domain: 'polyglot.example' });
    expect(native.settings.enforce_2fa).toBe(false);
    const listed = await t.expect(200, t.get('/compat/000/organizations', { ...as, query: { limit: 100 } }));
    expect(listed.organizations.map((o: any) => o.id)).toContain(id);
    // ...given a member through seed 004, listed by seed 004 and /v1 alike...
    const email = `${t.unique('joiner')}@example.com`;
    await t.expect(200, t.post(`/organizations/${id}/members`, { email }, as));
    const members = await t.expect(200, t.get(`/organizations/${id}/members`, as));
    expect(members.map((m: any) => m.email).sort()).toEqual([owner.user.email, email].sort());
    const nativeMembers = await t.expect(200, t.get(`/v1/organizations/${id}/members`, as));
    const joiner = nativeMembers.data.find((m: any) => m.email === email);
    expect(joiner).toMatchObject({ role: 'member' });
    // ...removed through seed 003's member route, and gone from seed 004's list.
    await t.expect(200, t.delete(`/organization/${id}/member/${joiner.user_id}`, as));
    expect((await t.expect(200, t.get(`/organizations/${id}/members`, as))).map((m: any) => m.email)).toEqual(
      [owner.user.email],
    );

    // A team made through seed 000 is the same team /v1 lists under the organization.
    const team = await t.expect(
      201,
      t.post(`/compat/000/organizations/${id}/children`, { name: 'Crew' }, as),
    );
    const children = await t.expect(200, t.get(`/v1/organizations/${id}/children`, as));
    expect(children.data.map((c: any) => c.id)).toEqual([team.id]);

    // Deleted through seed 001, it is gone from every router.
    await t.expect(204, t.delete(`/admin/v1/organizations/${slug}`, as));
    for (const path of [
      `/v1/organizations/${id}`,
      `/api/organizations/${id}`,
      `/organization/${id}`,
      `/organizations/${id}`,
    ]) {
      expect((await t.get(path, as)).status, path).toBe(404);
    }
  });

  it('records a change made through any router in the one audit trail', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.expect(
      201,
      t.post('/admin/v1/organizations', { name: 'Trail', slug: t.unique('trail') }, owner),
    );
    await t.expect(200, t.put(`/organizations/${org.id}`, { description: 'Seen everywhere' }, owner));
    const events = await t.expect(200, t.get(`/v1/organizations/${org.id}/audit-events`, owner));
    expect(events.data.map((e: any) => e.action).sort()).toEqual([
      'organization.created',
      'organization.updated',
    ]);
  });
});

describeEachDatabase(
  'ORGSTACK_COMPAT chooses the routers',
  (use) => {
    it('answers only the routers switched on, and documents only those', async () => {
      const t = use();
      expect((await t.get('/admin/v1/organizations')).status).toBe(200);
      for (const path of [
        '/api/organizations',
        '/organization/list',
        '/organizations',
        '/compat/000/organizations',
      ]) {
        const reply = await t.get(path);
        expect(reply.status, path).toBe(404);
        expect(reply.body.error.code).toBe('route_not_found');
      }
      const doc = (await t.get('/openapi.json', { key: null })).body;
      expect(doc.tags.map((tag: any) => tag.name)).toEqual(['compat 001']);
      expect(
        Object.keys(doc.paths).filter((path) => !path.startsWith('/v1/') && path.includes('organization')),
      ).toEqual(['/admin/v1/organizations', '/admin/v1/organizations/{slug}']);
    });
  },
  { ORGSTACK_COMPAT: '001' },
);

it('reads ORGSTACK_COMPAT as a comma list of router ids, all, or none', () => {
  expect(loadConfig({}).compat).toEqual(['000', '001', '002', '003', '004']);
  expect(loadConfig({ ORGSTACK_COMPAT: 'all' }).compat).toHaveLength(5);
  expect(loadConfig({ ORGSTACK_COMPAT: 'none' }).compat).toEqual([]);
  expect(loadConfig({ ORGSTACK_COMPAT: ' 004, 001,004' }).compat).toEqual(['004', '001']);
  expect(() => loadConfig({ ORGSTACK_COMPAT: '001,posthog' })).toThrow(ConfigError);
  expect(() => loadConfig({ ORGSTACK_COMPAT: '001,posthog' })).toThrow(/^ORGSTACK_COMPAT: .*"posthog"/);
});
