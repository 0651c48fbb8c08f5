import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';

const base = '/admin/v1/organizations';
const FIELDS = ['created_at', 'deleted_at', 'id', 'name', 'slug', 'updated_at'];

describeEachDatabase('compat 001: admin organizations', (use) => {
  it('creates with name and slug (201), both required, the slug lowercase letters, digits and hyphens', async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    const slug = t.unique('acme');
    const created = await t.expect(201, t.post(base, { name: 'Acme', slug }, { key }));
    expect(Object.keys(created).sort()).toEqual(FIELDS);
    expect(created).toMatchObject({ name: 'Acme', slug, deleted_at: null });
    expect(created.created_at).toBe(created.updated_at);
    // The same organization /v1 sees, owned by its creator.
    const native = await t.expect(200, t.get(`/v1/organizations/${created.id}`, { key }));
    expect(native).toMatchObject({ name: 'Acme', slug, parent_organization_id: null });
    const owner = await t.expect(200, t.get(`/v1/organizations/${created.id}/members/${user.id}`, { key }));
    expect(owner.role).toBe('owner');

    for (const [body, param] of [
      [{ slug: t.unique('x') }, 'name'],
      [{ name: 'x' }, 'slug'],
      [{ name: 'x', slug: 'Not A Slug' }, 'slug'],
      [{ name: 'x', slug: 'under_score' }, 'slug'],
      [{ name: 'x', slug: t.unique('x'), parent_organization_id: created.id }, 'parent_organization_id'],
    ] as const) {
      const reply = await t.post(base, body, { key });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    const taken = await t.post(base, { name: 'Again', slug }, { key });
    expect(taken.status).toBe(409);
    expect(Object.keys(taken.body.error).sort()).toEqual(['code', 'message', 'param', 'request_id', 'type']);
    expect(taken.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'slug_taken',
      param: 'slug',
    });
    expect(taken.body.error.request_id).toBe(taken.headers['x-request-id']);
  });

  it('gets (200), updates (200) and soft-deletes (204) by slug, on the organization /v1 sees', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const native = await t.createOrganization(key, { slug: t.unique('native') });
    const got = await t.expect(200, t.get(`${base}/${native.slug}`, { key }));
    expect(got).toEqual({
      created_at: native.created_at,
      deleted_at: null,
      id: native.id,
      name: native.name,
      slug: native.slug,
      updated_at: native.updated_at,
    });
    // The id addresses it too, as everywhere in orgstack.
    expect((await t.expect(200, t.get(`${base}/${native.id}`, { key }))).slug).toBe(native.slug);

    const renamed = await t.expect(200, t.patch(`${base}/${native.slug}`, { name: 'Renamed' }, { key }));
    expect(Object.keys(renamed).sort()).toEqual(FIELDS);
    expect(renamed).toMatchObject({ id: native.id, name: 'Renamed', slug: native.slug });
    expect((await t.expect(200, t.get(`/v1/organizations/${native.id}`, { key }))).name).toBe('Renamed');
    // The seed's own example sends an empty body: nothing is written, not even updated_at.
    expect(await t.expect(200, t.patch(`${base}/${native.slug}`, {}, { key }))).toEqual(renamed);
    const events = await t.expect(200, t.get(`/v1/organizations/${native.id}/audit-events`, { key }));
    expect(events.data.filter((e: any) => e.action === 'organization.updated')).toHaveLength(1);
    const unknown = await t.patch(`${base}/${native.slug}`, { slug: 'other' }, { key });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('slug');

    const deleted = await t.delete(`${base}/${native.slug}`, { key });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');
    expect((await t.get(`${base}/${native.slug}`, { key })).status).toBe(404);
    const kept = await t.expect(
      200,
      t.get(`/v1/organizations/${native.id}`, { key, query: { include_deleted: true } }),
    );
    expect(kept.deleted_at).not.toBeNull();
  });

  it('lists top-level organizations, 100 a page by default, with keyset cursors both ways and include_deleted', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const orgs = [];
    for (let i = 0; i < 3; i++)
      orgs.push(
        await t.expect(201, t.post(base, { name: `Tenant ${i}`, slug: t.unique('tenant') }, { key })),
      );
    // A team is not a tenant: it stays out of this list, also for the owner of its parent.
    await t.expect(201, t.post(`/v1/organizations/${orgs[0].id}/children`, { name: 'Team' }, { key }));

    const all = await t.expect(200, t.get(base, { key }));
    expect(all.data.map((o: any) => o.id)).toEqual(orgs.map((o) => o.id));
    expect(all.pagination).toEqual({ has_more: false, limit: 100, next_cursor: null, prev_cursor: null });
    expect(Object.keys(all.data[0]).sort()).toEqual(FIELDS);

    const first = await t.expect(200, t.get(base, { key, query: { limit: 2 } }));
    expect(first.data.map((o: any) => o.id)).toEqual([orgs[0].id, orgs[1].id]);
    expect(first.pagination).toMatchObject({ has_more: true, limit: 2, prev_cursor: null });
    expect(first.pagination.next_cursor).toMatch(/^[A-Za-z0-9+/_-]+=*$/);
    const second = await t.expect(
      200,
      t.get(base, { key, query: { limit: 2, cursor: first.pagination.next_cursor } }),
    );
    expect(second.data.map((o: any) => o.id)).toEqual([orgs[2].id]);
    expect(second.pagination).toMatchObject({ has_more: false, next_cursor: null });
    const back = await t.expect(
      200,
      t.get(base, {
        key,
        query: { limit: 2, cursor: second.pagination.prev_cursor, direction: 'backward' },
      }),
    );
    expect(back.data.map((o: any) => o.id)).toEqual([orgs[0].id, orgs[1].id]);

    await t.expect(204, t.delete(`${base}/${orgs[1].slug}`, { key }));
    const live = await t.expect(200, t.get(base, { key }));
    expect(live.data.map((o: any) => o.id)).toEqual([orgs[0].id, orgs[2].id]);
    const withDeleted = await t.expect(200, t.get(base, { key, query: { include_deleted: true } }));
    expect(withDeleted.data.map((o: any) => o.id)).toEqual(orgs.map((o) => o.id));
    expect(withDeleted.data[1].deleted_at).not.toBeNull();

    const refused: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 101 },
      { direction: 'sideways' },
      { offset: 1 },
      { cursor: 'bm9wZQ' },
    ];
    for (const query of refused) {
      const reply = await t.get(base, { key, query });
      expect(reply.status, JSON.stringify(query)).toBe(400);
      expect(reply.body.error.param).toBe(Object.keys(query)[0]);
    }
    // An instance admin key lists every tenant, still without teams.
    const admin = await t.expect(200, t.get(base, { query: { include_deleted: true } }));
    const ids = admin.data.map((o: any) => o.id);
    expect(ids).toEqual(expect.arrayContaining(orgs.map((o) => o.id)));
    expect(admin.data.every((o: any) => typeof o.slug === 'string')).toBe(true);
  });

  it('answers strangers 404, keys without the scope 403, and low roles 403, in the error envelope', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.expect(
      201,
      t.post(base, { name: 'Private', slug: t.unique('private') }, { key: owner.key }),
    );
    const stranger = await t.userWithKey();
    for (const reply of [
      await t.get(`${base}/${org.slug}`, { key: stranger.key }),
      await t.patch(`${base}/${org.slug}`, { name: 'Taken' }, { key: stranger.key }),
      await t.delete(`${base}/${org.slug}`, { key: stranger.key }),
    ]) {
      expect(reply.status).toBe(404);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
    }
    expect((await t.expect(200, t.get(base, { key: stranger.key }))).data).toEqual([]);

    const memberKeys = await t.userWithKey(['member:read']);
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/members`,
        { user_id: memberKeys.user.id, role: 'admin' },
        { key: owner.key },
      ),
    );
    for (const reply of [
      await t.get(base, { key: memberKeys.key }),
      await t.get(`${base}/${org.slug}`, { key: memberKeys.key }),
      await t.post(base, { name: 'x', slug: t.unique('x') }, { key: memberKeys.key }),
    ]) {
      expect(reply.status).toBe(403);
      expect(reply.body.error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
    }

    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/members`,
        { user_id: viewer.user.id, role: 'viewer' },
        { key: owner.key },
      ),
    );
    await t.expect(200, t.get(`${base}/${org.slug}`, { key: viewer.key }));
    expect((await t.patch(`${base}/${org.slug}`, { name: 'x' }, { key: viewer.key })).status).toBe(403);
    expect((await t.delete(`${base}/${org.slug}`, { key: viewer.key })).status).toBe(403);
    // An organization key acts inside its organization and cannot create tenants.
    const orgKey = await t.organizationKey(org.id, owner.key);
    expect((await t.expect(200, t.get(base, { key: orgKey }))).data.map((o: any) => o.id)).toEqual([org.id]);
    expect((await t.post(base, { name: 'x', slug: t.unique('x') }, { key: orgKey })).status).toBe(403);
    expect((await t.get(base, { key: null })).status).toBe(401);
  });
});
