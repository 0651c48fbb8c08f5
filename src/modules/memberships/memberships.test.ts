import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { members } from '../../../test/helpers/members.js';

/** A user who owns one organization and was added to three more with other roles. */
async function joiner(t: TestApp) {
  const person = await t.userWithKey();
  const own = await t.createOrganization(person.key, { name: t.unique('Own') });
  const joined: any[] = [];
  for (const role of ['admin', 'member', 'viewer']) {
    const org = await t.createOrganization(ADMIN_KEY, { name: t.unique(`Joined ${role}`) });
    await t.expect(
      201,
      t.post(members(org.id), {
        user_id: person.user.id,
        role,
        public_metadata: { joined_as: role },
        private_metadata: { secret: role },
      }),
    );
    joined.push(org);
  }
  return { person, own, joined };
}

const ids = (page: any) => page.data.map((m: any) => m.organization_id);

describeEachDatabase("a user's memberships", (use) => {
  it('lists every direct membership with the organization, role and public metadata, by organization id', async () => {
    const t = use();
    const { person, own, joined } = await joiner(t);
    const mine = await t.expect(200, t.get('/v1/me/memberships', { key: person.key }));
    const expected = [own, ...joined].map((o) => o.id).sort();
    expect(ids(mine)).toEqual(expected);
    const viewer = mine.data.find((m: any) => m.organization_id === joined[2].id);
    expect(viewer).toEqual({
      organization_id: joined[2].id,
      user_id: person.user.id,
      role: 'viewer',
      public_metadata: { joined_as: 'viewer' },
      organization: { id: joined[2].id, slug: joined[2].slug, name: joined[2].name },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(mine.data.find((m: any) => m.organization_id === own.id)).toMatchObject({ role: 'owner' });

    const byAdmin = await t.expect(200, t.get(`/v1/users/${person.user.id}/memberships`));
    expect(byAdmin.data).toEqual(mine.data);
    const bySelf = await t.expect(200, t.get(`/v1/users/${person.user.id}/memberships`, { key: person.key }));
    expect(bySelf.data).toEqual(mine.data);
  });

  it('pages with cursors both ways and filters by role', async () => {
    const t = use();
    const { person, own, joined } = await joiner(t);
    const all = [own, ...joined].map((o) => o.id).sort();
    const first = await t.expect(200, t.get('/v1/me/memberships', { key: person.key, query: { limit: 3 } }));
    expect(ids(first)).toEqual(all.slice(0, 3));
    expect(first.pagination.has_more).toBe(true);
    const second = await t.expect(
      200,
      t.get('/v1/me/memberships', {
        key: person.key,
        query: { limit: 3, cursor: first.pagination.next_cursor },
      }),
    );
    expect(ids(second)).toEqual(all.slice(3));
    expect(second.pagination.has_more).toBe(false);
    const back = await t.expect(
      200,
      t.get('/v1/me/memberships', {
        key: person.key,
        query: { limit: 3, cursor: second.pagination.prev_cursor, direction: 'backward' },
      }),
    );
    expect(ids(back)).toEqual(all.slice(0, 3));

    const admins = await t.expect(
      200,
      t.get(`/v1/users/${person.user.id}/memberships`, { query: { role: 'admin' } }),
    );
    expect(ids(admins)).toEqual([joined[0].id]);
    const bad = await t.get('/v1/me/memberships', { key: person.key, query: { cursor: 'bm90IGEgdXVpZA' } });
    expect(bad.body.error).toMatchObject({ code: 'invalid_cursor', param: 'cursor' });
  });

  it('leaves out deleted organizations and teams reached only through a parent', async () => {
    const t = use();
    const { person, own, joined } = await joiner(t);
    // Made with the admin key: the user reaches it through its parent only.
    await t.expect(201, t.post(`/v1/organizations/${own.id}/children`, { name: 'Inherited team' }));
    await t.expect(204, t.delete(`/v1/organizations/${joined[1].id}`));
    const mine = await t.expect(200, t.get('/v1/me/memberships', { key: person.key }));
    expect(ids(mine)).toEqual([own.id, joined[0].id, joined[2].id].sort());
  });

  it('answers only admin keys and the user itself', async () => {
    const t = use();
    const { person, joined } = await joiner(t);
    const url = `/v1/users/${person.user.id}/memberships`;
    const stranger = await t.userWithKey();
    await t.createOrganization(stranger.key);
    expect((await t.get(url, { key: stranger.key })).status).toBe(404);
    // An organization key that sees the user (a member of its organization) is told no; others learn nothing.
    const inside = await t.organizationKey(joined[0].id);
    const insideReply = await t.get(url, { key: inside });
    expect(insideReply.status).toBe(403);
    expect(insideReply.body.error.code).toBe('forbidden');
    const elsewhere = await t.organizationKey((await t.createOrganization(ADMIN_KEY)).id);
    expect((await t.get(url, { key: elsewhere })).status).toBe(404);
    expect((await t.get(`/v1/users/01900000-0000-7000-8000-000000000000/memberships`)).status).toBe(404);

    for (const key of [ADMIN_KEY, inside]) {
      const reply = await t.get('/v1/me/memberships', { key });
      expect(reply.status).toBe(403);
    }
    const scopeless = await t.expect(
      201,
      t.post('/v1/api-keys', { user_id: person.user.id, scopes: ['organization:read'] }),
    );
    for (const target of ['/v1/me/memberships', url]) {
      const reply = await t.get(target, { key: scopeless.secret });
      expect(reply.status).toBe(403);
      expect(reply.body.error.code).toBe('insufficient_scope');
    }
    expect((await t.get('/v1/me/memberships', { key: null })).status).toBe(401);
  });
});
