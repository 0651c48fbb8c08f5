import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase } from '../../../test/helpers/app.js';

const ids = (page: { data: { id: string }[] }) => page.data.map((row) => row.id);

describeEachDatabase('users', (use) => {
  it('creates a user with an admin key and answers 201 with its fields', async () => {
    const t = use();
    const email = `${t.unique('Ada')}@Example.com`;
    const externalId = t.unique('ext');
    const user = await t.expect(
      201,
      t.post('/v1/users', { email, name: 'Ada Lovelace', external_id: externalId, metadata: { plan: 'x' } }),
    );
    expect(user).toMatchObject({
      email,
      name: 'Ada Lovelace',
      external_id: externalId,
      metadata: { plan: 'x' },
      deleted_at: null,
    });
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(user.created_at)).not.toBeNaN();
    const fetched = await t.expect(200, t.get(`/v1/users/${user.id}`));
    expect(fetched).toEqual(user);
  });

  it('refuses user creation by personal and organization keys', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const denied = await t.post('/v1/users', { email: `${t.unique('x')}@example.com` }, { key });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'forbidden', type: 'permission_error' });
    const org = await t.createOrganization(key);
    const orgKey = await t.organizationKey(org.id, key);
    const alsoDenied = await t.post('/v1/users', { email: `${t.unique('x')}@example.com` }, { key: orgKey });
    expect(alsoDenied.status).toBe(403);
  });

  it('keeps email unique case-insensitively and external_id unique, answering 409 naming the field', async () => {
    const t = use();
    const local = t.unique('dup');
    const externalId = t.unique('ext');
    await t.expect(201, t.post('/v1/users', { email: `${local}@example.com`, external_id: externalId }));
    const sameEmail = await t.post('/v1/users', { email: `${local.toUpperCase()}@EXAMPLE.COM` });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'email_taken',
      param: 'email',
    });
    expect(typeof sameEmail.body.error.request_id).toBe('string');
    const sameExternal = await t.post('/v1/users', {
      email: `${t.unique('other')}@example.com`,
      external_id: externalId,
    });
    expect(sameExternal.status).toBe(409);
    expect(sameExternal.body.error).toMatchObject({ code: 'external_id_taken', param: 'external_id' });
  });

  it('validates the body: email format, unknown fields, over-long name, missing email', async () => {
    const t = use();
    const cases: [unknown, string][] = [
      [{ email: 'not-an-email' }, 'email'],
      [{ email: `${t.unique('u')}@example.com`, nickname: 'x' }, 'nickname'],
      [{ email: `${t.unique('u')}@example.com`, name: 'n'.repeat(201) }, 'name'],
      [{ email: `${t.unique('u')}@example.com`, name: 42 }, 'name'],
      [{ name: 'No Email' }, 'email'],
    ];
    for (const [body, param] of cases) {
      const reply = await t.post('/v1/users', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    const bigMetadata = await t.post('/v1/users', {
      email: `${t.unique('u')}@example.com`,
      metadata: { blob: 'x'.repeat(17 * 1024) },
    });
    expect(bigMetadata.status).toBe(400);
    expect(bigMetadata.body.error.param).toBe('metadata');
    const longEmail = await t.post('/v1/users', { email: `${'a'.repeat(320)}@example.com` });
    expect(longEmail.status).toBe(400);
    expect(longEmail.body.error.param).toBe('email');
    const exactly = await t.post('/v1/users', {
      email: `${t.unique('u')}@example.com`,
      name: 'n'.repeat(200),
    });
    expect(exactly.status).toBe(201);
  });

  it('gives one 201 and 409s for concurrent creations of the same email', async () => {
    const t = use();
    const local = t.unique('race');
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        t.post('/v1/users', { email: i % 2 ? `${local}@example.com` : `${local.toUpperCase()}@Example.com` }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(4);
    for (const reply of replies.filter((r) => r.status === 409))
      expect(reply.body.error.code).toBe('email_taken');
  });

  it('filters the list by email, case-insensitively', async () => {
    const t = use();
    const email = `${t.unique('Filter')}@example.com`;
    const user = await t.createUser(email);
    await t.createUser();
    const found = await t.expect(200, t.get('/v1/users', { query: { email: email.toUpperCase() } }));
    expect(ids(found)).toEqual([user.id]);
    const none = await t.expect(200, t.get('/v1/users', { query: { email: 'nobody@example.com' } }));
    expect(none.data).toEqual([]);
    expect(none.pagination).toMatchObject({ has_more: false, next_cursor: null, prev_cursor: null });
  });

  it('pages with offset and keyset cursors in both directions', async () => {
    const t = use();
    // Users visible to an organization key are exactly its members, so the list is known.
    const { key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    const orgKey = await t.organizationKey(org.id, key);
    const members: string[] = [];
    for (let i = 0; i < 4; i++) {
      const user = await t.createUser();
      await t.expect(201, t.post(`/v1/organizations/${org.id}/members`, { user_id: user.id }, { key }));
      members.push(user.id);
    }
    const all = await t.expect(200, t.get('/v1/users', { key: orgKey }));
    // The owner (created first) and the four members, in creation (uuid v7) order.
    expect(all.data).toHaveLength(5);
    const expected = ids(all);
    expect(expected.slice(1)).toEqual(members);

    const first = await t.expect(200, t.get('/v1/users', { key: orgKey, query: { limit: 2 } }));
    expect(ids(first)).toEqual(expected.slice(0, 2));
    expect(first.pagination).toMatchObject({ has_more: true, limit: 2, prev_cursor: null });
    const second = await t.expect(
      200,
      t.get('/v1/users', { key: orgKey, query: { limit: 2, cursor: first.pagination.next_cursor } }),
    );
    expect(ids(second)).toEqual(expected.slice(2, 4));
    expect(second.pagination.has_more).toBe(true);
    const third = await t.expect(
      200,
      t.get('/v1/users', { key: orgKey, query: { limit: 2, cursor: second.pagination.next_cursor } }),
    );
    expect(ids(third)).toEqual(expected.slice(4));
    expect(third.pagination).toMatchObject({ has_more: false, next_cursor: null });
    const back = await t.expect(
      200,
      t.get('/v1/users', {
        key: orgKey,
        query: { limit: 2, cursor: third.pagination.prev_cursor, direction: 'backward' },
      }),
    );
    expect(ids(back)).toEqual(expected.slice(2, 4));
    const backAgain = await t.expect(
      200,
      t.get('/v1/users', {
        key: orgKey,
        query: { limit: 2, cursor: back.pagination.prev_cursor, direction: 'backward' },
      }),
    );
    expect(ids(backAgain)).toEqual(expected.slice(0, 2));
    expect(backAgain.pagination.has_more).toBe(false);
    expect(backAgain.pagination.prev_cursor).toBeNull();

    const offset = await t.expect(200, t.get('/v1/users', { key: orgKey, query: { offset: 3, limit: 10 } }));
    expect(ids(offset)).toEqual(expected.slice(3));

    const badCursor = await t.get('/v1/users', { key: orgKey, query: { cursor: 'bm90LWEta2V5' } });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error).toMatchObject({ code: 'invalid_cursor', param: 'cursor' });
    const both = await t.get('/v1/users', {
      key: orgKey,
      query: { cursor: first.pagination.next_cursor, offset: 1 },
    });
    expect(both.status).toBe(400);
    const unknownParam = await t.get('/v1/users', { key: orgKey, query: { sort: 'email' } });
    expect(unknownParam.status).toBe(400);
    const badLimit = await t.get('/v1/users', { key: orgKey, query: { limit: 101 } });
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.param).toBe('limit');
  });

  it('answers 400 for a malformed user id and 404 for an unknown one', async () => {
    const t = use();
    for (const method of ['get', 'delete'] as const) {
      const bad = await t[method]('/v1/users/not-a-uuid');
      expect(bad.status).toBe(400);
      expect(bad.body.error.param).toBe('user_id');
      const missing = await t[method]('/v1/users/00000000-0000-7000-8000-000000000000');
      expect(missing.status).toBe(404);
      expect(missing.body.error).toMatchObject({ code: 'not_found', param: 'user_id' });
    }
    const badPatch = await t.patch('/v1/users/not-a-uuid', { name: 'x' });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.error.param).toBe('user_id');
    const missingPatch = await t.patch('/v1/users/00000000-0000-7000-8000-000000000000', { name: 'x' });
    expect(missingPatch.status).toBe(404);
  });

  it('updates a user, validating fields and keeping email unique', async () => {
    const t = use();
    const user = await t.createUser();
    const other = await t.createUser();
    const updated = await t.expect(
      200,
      t.patch(`/v1/users/${user.id}`, { name: 'Renamed', external_id: t.unique('ext'), metadata: { a: 1 } }),
    );
    expect(updated).toMatchObject({ id: user.id, name: 'Renamed', email: user.email, metadata: { a: 1 } });
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(user.updated_at));
    const cleared = await t.expect(200, t.patch(`/v1/users/${user.id}`, { name: null }));
    expect(cleared.name).toBeNull();
    const otherExternal = t.unique('ext');
    await t.expect(200, t.patch(`/v1/users/${other.id}`, { external_id: otherExternal }));
    const externalTaken = await t.patch(`/v1/users/${user.id}`, { external_id: otherExternal });
    expect(externalTaken.status).toBe(409);
    expect(externalTaken.body.error).toMatchObject({ code: 'external_id_taken', param: 'external_id' });
    const recased = await t.expect(200, t.patch(`/v1/users/${user.id}`, { email: user.email.toUpperCase() }));
    expect(recased.email).toBe(user.email.toUpperCase());
    await t.expect(200, t.patch(`/v1/users/${user.id}`, { email: user.email }));
    const taken = await t.patch(`/v1/users/${user.id}`, { email: other.email.toUpperCase() });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: 'email_taken', param: 'email' });
    const empty = await t.patch(`/v1/users/${user.id}`, {});
    expect(empty.status).toBe(400);
    const unknown = await t.patch(`/v1/users/${user.id}`, { role: 'owner' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('role');
    const badEmail = await t.patch(`/v1/users/${user.id}`, { email: 'nope' });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.error.param).toBe('email');
    const nullEmail = await t.patch(`/v1/users/${user.id}`, { email: null });
    expect(nullEmail.status).toBe(400);
    expect(nullEmail.body.error.param).toBe('email');
    const after = await t.expect(200, t.get(`/v1/users/${user.id}`));
    expect(after.email).toBe(user.email);
  });

  it('lets a personal key see and edit only its own user', async () => {
    const t = use();
    const me = await t.userWithKey();
    const other = await t.userWithKey();
    const self = await t.expect(200, t.get(`/v1/users/${me.user.id}`, { key: me.key }));
    expect(self.id).toBe(me.user.id);
    const list = await t.expect(200, t.get('/v1/users', { key: me.key }));
    expect(ids(list)).toEqual([me.user.id]);
    const filtered = await t.expect(
      200,
      t.get('/v1/users', { key: me.key, query: { email: other.user.email } }),
    );
    expect(filtered.data).toEqual([]);
    for (const reply of [
      await t.get(`/v1/users/${other.user.id}`, { key: me.key }),
      await t.patch(`/v1/users/${other.user.id}`, { name: 'hijack' }, { key: me.key }),
      await t.delete(`/v1/users/${other.user.id}`, { key: me.key }),
      await t.get(`/v1/users/${other.user.id}/organizations`, { key: me.key }),
    ]) {
      expect(reply.status).toBe(404);
      expect(reply.body.error.code).toBe('not_found');
    }
    const renamed = await t.expect(200, t.patch(`/v1/users/${me.user.id}`, { name: 'Me' }, { key: me.key }));
    expect(renamed.name).toBe('Me');
    expect((await t.expect(200, t.get(`/v1/users/${other.user.id}`))).name).toBeNull();
  });

  it('needs user scopes: read to see, write to change', async () => {
    const t = use();
    const reader = await t.userWithKey(['user:read']);
    await t.expect(200, t.get(`/v1/users/${reader.user.id}`, { key: reader.key }));
    const denied = await t.patch(`/v1/users/${reader.user.id}`, { name: 'x' }, { key: reader.key });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('insufficient_scope');
    const none = await t.userWithKey(['organization:read']);
    const noRead = await t.get(`/v1/users/${none.user.id}`, { key: none.key });
    expect(noRead.status).toBe(403);
    expect(noRead.body.error.code).toBe('insufficient_scope');
    expect((await t.get('/v1/users', { key: none.key })).status).toBe(403);
  });

  it('lets an organization key see only the members of its subtree, and not edit them', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    // Created by the admin key, so the owner is not also made a member of the team.
    const team = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'Team' }));
    const teamMember = await t.createUser();
    await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/members`, { user_id: teamMember.id }, { key: owner.key }),
    );
    const outsider = await t.createUser();
    const elsewhere = await t.createOrganization(owner.key);
    await t.expect(
      201,
      t.post(`/v1/organizations/${elsewhere.id}/members`, { user_id: outsider.id }, { key: owner.key }),
    );

    const orgKey = await t.organizationKey(org.id, owner.key);
    const list = await t.expect(200, t.get('/v1/users', { key: orgKey }));
    expect(ids(list).sort()).toEqual([owner.user.id, teamMember.id].sort());
    await t.expect(200, t.get(`/v1/users/${teamMember.id}`, { key: orgKey }));
    expect((await t.get(`/v1/users/${outsider.id}`, { key: orgKey })).status).toBe(404);

    // A key of the team does not see the owner, who is a member of the parent only.
    const teamKey = await t.organizationKey(team.id, owner.key);
    const teamList = await t.expect(200, t.get('/v1/users', { key: teamKey }));
    expect(ids(teamList)).toEqual([teamMember.id]);
    expect((await t.get(`/v1/users/${owner.user.id}`, { key: teamKey })).status).toBe(404);

    const edit = await t.patch(`/v1/users/${teamMember.id}`, { name: 'x' }, { key: orgKey });
    expect(edit.status).toBe(403);
    expect(edit.body.error.code).toBe('forbidden');
    const remove = await t.delete(`/v1/users/${teamMember.id}`, { key: orgKey });
    expect(remove.status).toBe(403);
    await t.expect(200, t.get(`/v1/users/${teamMember.id}`));
  });

  it('soft-deletes a user: gone from reads, keys stop working, memberships removed', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const doomed = await t.userWithKey();
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/members`,
        { user_id: doomed.user.id, role: 'admin' },
        { key: owner.key },
      ),
    );
    // Warm the credential cache so the delete has to evict it.
    await t.expect(200, t.get('/v1/me', { key: doomed.key }));
    await t.expect(204, t.delete(`/v1/users/${doomed.user.id}`));

    expect((await t.get(`/v1/users/${doomed.user.id}`)).status).toBe(404);
    const list = await t.expect(200, t.get('/v1/users', { query: { email: doomed.user.email } }));
    expect(list.data).toEqual([]);
    const refused = await t.get('/v1/me', { key: doomed.key });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_api_key');
    expect(
      (await t.get(`/v1/organizations/${org.id}/members/${doomed.user.id}`, { key: owner.key })).status,
    ).toBe(404);
    const members = await t.expect(200, t.get(`/v1/organizations/${org.id}/members`, { key: owner.key }));
    expect(members.data.map((m: any) => m.user_id)).not.toContain(doomed.user.id);
    const keys = await t.expect(
      200,
      t.get('/v1/api-keys', { query: { user_id: doomed.user.id, include_revoked: true } }),
    );
    expect(keys.data.length).toBeGreaterThan(0);
    for (const key of keys.data) expect(key.revoked_at).not.toBeNull();
    expect((await t.delete(`/v1/users/${doomed.user.id}`)).status).toBe(404);

    // The email is free again for a new user.
    const again = await t.createUser(doomed.user.email);
    expect(again.id).not.toBe(doomed.user.id);
  });

  it('lets a user delete itself, and refuses while it is the only owner of a top-level organization', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const refused = await t.delete(`/v1/users/${owner.user.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'last_owner', param: 'user_id' });
    await t.expect(200, t.get(`/v1/users/${owner.user.id}`));
    await t.expect(200, t.get('/v1/me', { key: owner.key }));

    const second = await t.createUser();
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/members`,
        { user_id: second.id, role: 'owner' },
        { key: owner.key },
      ),
    );
    await t.expect(204, t.delete(`/v1/users/${owner.user.id}`, { key: owner.key }));
    expect((await t.get('/v1/me', { key: owner.key })).status).toBe(401);
    const members = await t.expect(200, t.get(`/v1/organizations/${org.id}/members`));
    expect(members.data.map((m: any) => m.user_id)).toEqual([second.id]);
  });

  it('keeps an owner when co-owners are deleted, or one deleted and the other demoted, at once', async () => {
    const t = use();
    for (let round = 0; round < 6; round++) {
      const a = await t.userWithKey();
      const org = await t.createOrganization(a.key);
      const b = await t.createUser();
      await t.expect(
        201,
        t.post(`/v1/organizations/${org.id}/members`, { user_id: b.id, role: 'owner' }, { key: a.key }),
      );
      const replies = await Promise.all([
        t.delete(`/v1/users/${a.user.id}`),
        round % 2 === 0
          ? t.delete(`/v1/users/${b.id}`)
          : t.patch(`/v1/organizations/${org.id}/members/${b.id}`, { role: 'admin' }),
      ]);
      const statuses = replies.map((reply) => reply.status);
      expect(
        statuses.filter((status) => status === 409),
        JSON.stringify(statuses),
      ).toHaveLength(1);
      const members = await t.expect(200, t.get(`/v1/organizations/${org.id}/members`));
      expect(members.data.filter((m: any) => m.role === 'owner')).toHaveLength(1);
    }
  });

  it('lists the organizations of a user with the organization list filters', async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    const tag = t.unique('uorg');
    const a = await t.createOrganization(key, { name: `${tag} a` });
    const b = await t.createOrganization(key, { name: `${tag} b`, active: false });
    // A team the user reaches through its parent only (the admin key makes no member of it).
    const team = await t.expect(201, t.post(`/v1/organizations/${a.id}/children`, { name: `${tag} t` }));
    await t.createOrganization(ADMIN_KEY);

    const all = await t.expect(200, t.get(`/v1/users/${user.id}/organizations`));
    expect(ids(all).sort()).toEqual([a.id, b.id, team.id].sort());
    const own = await t.expect(200, t.get(`/v1/users/${user.id}/organizations`, { key }));
    expect(ids(own).sort()).toEqual([a.id, b.id, team.id].sort());
    const direct = await t.expect(
      200,
      t.get(`/v1/users/${user.id}/organizations`, { query: { no_children: true } }),
    );
    expect(ids(direct).sort()).toEqual([a.id, b.id].sort());
    const active = await t.expect(
      200,
      t.get(`/v1/users/${user.id}/organizations`, { query: { active_only: true, no_children: true } }),
    );
    expect(ids(active)).toEqual([a.id]);
    const search = await t.expect(
      200,
      t.get(`/v1/users/${user.id}/organizations`, { query: { name_search: `${tag} b` } }),
    );
    expect(ids(search)).toEqual([b.id]);
    const children = await t.expect(
      200,
      t.get(`/v1/users/${user.id}/organizations`, { query: { parent_organization_id: a.id } }),
    );
    expect(ids(children)).toEqual([team.id]);
    const paged = await t.expect(200, t.get(`/v1/users/${user.id}/organizations`, { query: { limit: 2 } }));
    expect(paged.data).toHaveLength(2);
    expect(paged.pagination.has_more).toBe(true);
    const rest = await t.expect(
      200,
      t.get(`/v1/users/${user.id}/organizations`, {
        query: { limit: 2, cursor: paged.pagination.next_cursor },
      }),
    );
    expect([...ids(paged), ...ids(rest)].sort()).toEqual([a.id, b.id, team.id].sort());

    // An organization key sees the user's organizations inside its own subtree only.
    const teamKey = await t.organizationKey(team.id, key);
    await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/members`, { user_id: user.id, role: 'member' }, { key }),
    );
    const fromTeam = await t.expect(200, t.get(`/v1/users/${user.id}/organizations`, { key: teamKey }));
    expect(ids(fromTeam)).toEqual([team.id]);

    expect((await t.get('/v1/users/00000000-0000-7000-8000-000000000000/organizations')).status).toBe(404);
    const badQuery = await t.get(`/v1/users/${user.id}/organizations`, { query: { bogus: 1 } });
    expect(badQuery.status).toBe(400);
  });
});
