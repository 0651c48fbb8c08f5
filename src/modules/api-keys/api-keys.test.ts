import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase } from '../../../test/helpers/app.js';

const ALL_SCOPES = [
  'organization:read',
  'organization:write',
  'member:read',
  'member:write',
  'user:read',
  'user:write',
  'api_key:read',
  'api_key:write',
  'organization_integration:read',
  'organization_integration:write',
  'usage:read',
  'usage:write',
];

const ids = (page: { data: { id: string }[] }) => page.data.map((row) => row.id);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEachDatabase('api keys', (use) => {
  it('creates a personal key for the calling user, showing the secret once', async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    const created = await t.expect(201, t.post('/v1/api-keys', { name: 'laptop' }, { key }));
    expect(created).toMatchObject({
      kind: 'personal',
      name: 'laptop',
      user_id: user.id,
      organization_id: null,
      revoked_at: null,
      expires_at: null,
    });
    expect(created.secret).toMatch(/^osk_[0-9A-Za-z]{40}$/);
    expect(created.prefix).toBe(created.secret.slice(0, 12));
    expect(created.scopes.sort()).toEqual([...ALL_SCOPES].sort());

    const me = await t.expect(200, t.get('/v1/me', { key: created.secret }));
    expect(me).toMatchObject({ principal: 'user', api_key_id: created.id });
    expect(me.user.id).toBe(user.id);

    const listed = await t.get('/v1/api-keys', { key });
    expect(listed.status).toBe(200);
    const entry = listed.body.data.find((k: any) => k.id === created.id);
    expect(entry).toMatchObject({ prefix: created.prefix, kind: 'personal', user_id: user.id });
    expect(entry).not.toHaveProperty('secret');
    expect(JSON.stringify(listed.body)).not.toContain(created.secret);
    const asAdmin = await t.get('/v1/api-keys', { query: { user_id: user.id } });
    expect(JSON.stringify(asAdmin.body)).not.toContain(created.secret);
    expect(ids(asAdmin.body)).toContain(created.id);
  });

  it('lets an admin create personal keys for a user and further admin keys', async () => {
    const t = use();
    const user = await t.createUser();
    const personal = await t.expect(201, t.post('/v1/api-keys', { user_id: user.id, scopes: ['user:read'] }));
    expect(personal).toMatchObject({ kind: 'personal', user_id: user.id, scopes: ['user:read'] });
    const admin = await t.expect(201, t.post('/v1/api-keys', { kind: 'admin', name: 'ops' }));
    expect(admin).toMatchObject({ kind: 'admin', user_id: null, organization_id: null, name: 'ops' });
    expect(admin.scopes.sort()).toEqual([...ALL_SCOPES].sort());
    const me = await t.expect(200, t.get('/v1/me', { key: admin.secret }));
    expect(me.principal).toBe('admin');
    await t.expect(
      201,
      t.post('/v1/users', { email: `${t.unique('by-new-admin')}@example.com` }, { key: admin.secret }),
    );

    const neither = await t.post('/v1/api-keys', {});
    expect(neither.status).toBe(400);
    expect(neither.body.error.param).toBe('user_id');
    const both = await t.post('/v1/api-keys', { kind: 'admin', user_id: user.id });
    expect(both.status).toBe(400);
    expect(both.body.error.param).toBe('user_id');
    const nobody = await t.post('/v1/api-keys', { user_id: '00000000-0000-7000-8000-000000000000' });
    expect(nobody.status).toBe(404);
    expect(nobody.body.error.param).toBe('user_id');
    const badKind = await t.post('/v1/api-keys', { kind: 'organization', user_id: user.id });
    expect(badKind.status).toBe(400);
    expect(badKind.body.error.param).toBe('kind');
    const unknown = await t.post('/v1/api-keys', { user_id: user.id, owner: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('owner');
    const badScope = await t.post('/v1/api-keys', { user_id: user.id, scopes: ['everything'] });
    expect(badScope.status).toBe(400);
    expect(badScope.body.error.param).toMatch(/^scopes/);
  });

  it('refuses a user creating admin keys or keys for other users', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const other = await t.createUser();
    const adminsBefore = await t.expect(200, t.get('/v1/api-keys', { query: { kind: 'admin' } }));
    const forOther = await t.post('/v1/api-keys', { user_id: other.id }, { key });
    expect(forOther.status).toBe(403);
    expect(forOther.body.error).toMatchObject({
      code: 'forbidden',
      type: 'permission_error',
      param: 'user_id',
    });
    const admin = await t.post('/v1/api-keys', { kind: 'admin' }, { key });
    expect(admin.status).toBe(403);
    expect(admin.body.error).toMatchObject({ code: 'forbidden', param: 'kind' });
    const keys = await t.expect(200, t.get('/v1/api-keys', { query: { user_id: other.id } }));
    expect(keys.data).toEqual([]);
    const adminKeys = await t.expect(200, t.get('/v1/api-keys', { query: { kind: 'admin' } }));
    expect(adminKeys.data.every((k: any) => k.kind === 'admin')).toBe(true);
    expect(ids(adminKeys)).toEqual(ids(adminsBefore));
  });

  it('never grants scopes the creating key lacks', async () => {
    const t = use();
    const { key } = await t.userWithKey(['organization:read', 'api_key:write']);
    const escalate = await t.post('/v1/api-keys', { scopes: ['organization:write'] }, { key });
    expect(escalate.status).toBe(403);
    expect(escalate.body.error).toMatchObject({ code: 'forbidden', param: 'scopes' });
    // api_key:write implies api_key:read, so the narrower key may hand it out.
    const narrower = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization:read', 'api_key:read'] }, { key }),
    );
    expect(narrower.scopes.sort()).toEqual(['api_key:read', 'organization:read']);
    // With no scopes named, a new key inherits exactly the creator's.
    const inherited = await t.expect(201, t.post('/v1/api-keys', {}, { key }));
    expect(inherited.scopes.sort()).toEqual(['api_key:write', 'organization:read']);
    const readOnly = await t.post('/v1/api-keys', {}, { key: narrower.secret });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.error.code).toBe('insufficient_scope');
  });

  it('applies scopes: write implies read, a missing scope is 403 insufficient_scope', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const reader = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization:read'] }, { key: owner.key }),
    );
    await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: reader.secret }));
    const list = await t.expect(200, t.get('/v1/organizations', { key: reader.secret }));
    expect(ids(list)).toContain(org.id);
    const create = await t.post('/v1/organizations', { name: 'nope' }, { key: reader.secret });
    expect(create.status).toBe(403);
    expect(create.body.error).toMatchObject({ code: 'insufficient_scope', type: 'permission_error' });
    const patch = await t.patch(`/v1/organizations/${org.id}`, { name: 'x' }, { key: reader.secret });
    expect(patch.status).toBe(403);
    expect(patch.body.error.code).toBe('insufficient_scope');
    const members = await t.get(`/v1/organizations/${org.id}/members`, { key: reader.secret });
    expect(members.status).toBe(403);
    expect(members.body.error.code).toBe('insufficient_scope');
    const keys = await t.get('/v1/api-keys', { key: reader.secret });
    expect(keys.status).toBe(403);

    const writer = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization:write'] }, { key: owner.key }),
    );
    await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: writer.secret }));
    const renamed = await t.expect(
      200,
      t.patch(`/v1/organizations/${org.id}`, { friendly_name: 'Writer' }, { key: writer.secret }),
    );
    expect(renamed.friendly_name).toBe('Writer');
    await t.expect(201, t.post('/v1/organizations', { name: t.unique('W') }, { key: writer.secret }));
  });

  it('validates expiry and stops accepting a key once it has expired', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const past = await t.post('/v1/api-keys', { expires_at: '2020-01-01T00:00:00Z' }, { key });
    expect(past.status).toBe(400);
    expect(past.body.error).toMatchObject({ code: 'invalid_request', param: 'expires_at' });
    const garbled = await t.post('/v1/api-keys', { expires_at: 'tomorrow' }, { key });
    expect(garbled.status).toBe(400);
    expect(garbled.body.error.param).toBe('expires_at');

    const later = new Date(Date.now() + 3600_000).toISOString();
    const lasting = await t.expect(201, t.post('/v1/api-keys', { expires_at: later }, { key }));
    expect(Date.parse(lasting.expires_at)).toBe(Date.parse(later));
    await t.expect(200, t.get('/v1/me', { key: lasting.secret }));

    const soon = new Date(Date.now() + 1500).toISOString();
    const short = await t.expect(201, t.post('/v1/api-keys', { expires_at: soon }, { key }));
    // Use it while valid, so its credential is cached when it expires.
    await t.expect(200, t.get('/v1/me', { key: short.secret }));
    await sleep(Math.max(0, Date.parse(soon) - Date.now()) + 200);
    const expired = await t.get('/v1/me', { key: short.secret });
    expect(expired.status).toBe(401);
    expect(expired.body.error).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
  });

  it('revokes a key, which stops working at once even though it was cached', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const extra = await t.expect(201, t.post('/v1/api-keys', { name: 'extra' }, { key }));
    await t.expect(200, t.get('/v1/me', { key: extra.secret }));
    await t.expect(200, t.get('/v1/me', { key: extra.secret }));
    const revoked = await t.expect(200, t.delete(`/v1/api-keys/${extra.id}`, { key }));
    expect(revoked.id).toBe(extra.id);
    expect(revoked.revoked_at).not.toBeNull();
    expect(revoked).not.toHaveProperty('secret');
    const refused = await t.get('/v1/me', { key: extra.secret });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_api_key');
    // The key that revoked it still works, and revoking again is harmless.
    await t.expect(200, t.get('/v1/me', { key }));
    const again = await t.expect(200, t.delete(`/v1/api-keys/${extra.id}`, { key }));
    expect(again.revoked_at).toBe(revoked.revoked_at);

    const live = await t.expect(200, t.get('/v1/api-keys', { key }));
    expect(ids(live)).not.toContain(extra.id);
    const withRevoked = await t.expect(200, t.get('/v1/api-keys', { key, query: { include_revoked: true } }));
    expect(ids(withRevoked)).toContain(extra.id);

    const badId = await t.delete('/v1/api-keys/not-a-uuid', { key });
    expect(badId.status).toBe(400);
    expect(badId.body.error.param).toBe('key_id');
    const unknown = await t.delete('/v1/api-keys/00000000-0000-7000-8000-000000000000', { key });
    expect(unknown.status).toBe(404);
  });

  it('lets a key revoke itself', async () => {
    const t = use();
    const { key, keyId } = await t.userWithKey();
    await t.expect(200, t.delete(`/v1/api-keys/${keyId}`, { key }));
    expect((await t.get('/v1/me', { key })).status).toBe(401);
  });

  it('hides other users keys: revoking one answers 404 and leaves it working', async () => {
    const t = use();
    const alice = await t.userWithKey();
    const bob = await t.userWithKey();
    const denied = await t.delete(`/v1/api-keys/${bob.keyId}`, { key: alice.key });
    expect(denied.status).toBe(404);
    expect(denied.body.error).toMatchObject({ code: 'not_found', param: 'key_id' });
    await t.expect(200, t.get('/v1/me', { key: bob.key }));
    const adminKeys = await t.expect(200, t.get('/v1/api-keys', { query: { kind: 'admin' } }));
    const adminKeyId = adminKeys.data[0].id;
    expect((await t.delete(`/v1/api-keys/${adminKeyId}`, { key: alice.key })).status).toBe(404);
    await t.expect(200, t.get('/v1/me'));
    // An admin may revoke anyone's key.
    await t.expect(200, t.delete(`/v1/api-keys/${bob.keyId}`));
    expect((await t.get('/v1/me', { key: bob.key })).status).toBe(401);
  });

  it('lists the personal keys of the caller only, with pagination', async () => {
    const t = use();
    const { user, key, keyId } = await t.userWithKey();
    const other = await t.userWithKey();
    const made = [keyId];
    for (let i = 0; i < 3; i++) made.push((await t.expect(201, t.post('/v1/api-keys', {}, { key }))).id);
    const org = await t.createOrganization(key);
    await t.organizationKey(org.id, key);
    const all = await t.expect(200, t.get('/v1/api-keys', { key }));
    expect(ids(all)).toEqual(made);
    expect(all.data.every((k: any) => k.user_id === user.id && k.kind === 'personal')).toBe(true);
    expect(ids(all)).not.toContain(other.keyId);
    const first = await t.expect(200, t.get('/v1/api-keys', { key, query: { limit: 2 } }));
    expect(ids(first)).toEqual(made.slice(0, 2));
    const second = await t.expect(
      200,
      t.get('/v1/api-keys', { key, query: { limit: 2, cursor: first.pagination.next_cursor } }),
    );
    expect(ids(second)).toEqual(made.slice(2));
    expect(second.pagination.has_more).toBe(false);
    const back = await t.expect(
      200,
      t.get('/v1/api-keys', {
        key,
        query: { limit: 2, cursor: second.pagination.prev_cursor, direction: 'backward' },
      }),
    );
    expect(ids(back)).toEqual(made.slice(0, 2));
    const forOther = await t.get('/v1/api-keys', { key, query: { user_id: other.user.id } });
    expect(forOther.status).toBe(403);
  });

  it('creates organization keys for admins of the organization only', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const created = await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/api-keys`,
        { name: 'ci', scopes: ['organization:read'] },
        { key: owner.key },
      ),
    );
    expect(created).toMatchObject({
      kind: 'organization',
      organization_id: org.id,
      user_id: null,
      name: 'ci',
      scopes: ['organization:read'],
    });
    expect(created.secret).toMatch(/^osk_/);
    expect(created.prefix).toBe(created.secret.slice(0, 12));
    const bySlug = await t.expect(
      201,
      t.post(`/v1/organizations/${org.slug}/api-keys`, {}, { key: owner.key }),
    );
    expect(bySlug.organization_id).toBe(org.id);

    const listed = await t.expect(200, t.get(`/v1/organizations/${org.id}/api-keys`, { key: owner.key }));
    expect(ids(listed)).toEqual([created.id, bySlug.id]);
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const member = await t.userWithKey();
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/members`,
        { user_id: member.user.id, role: 'member' },
        { key: owner.key },
      ),
    );
    const lowRole = await t.post(`/v1/organizations/${org.id}/api-keys`, {}, { key: member.key });
    expect(lowRole.status).toBe(403);
    expect(lowRole.body.error.code).toBe('forbidden');
    expect((await t.get(`/v1/organizations/${org.id}/api-keys`, { key: member.key })).status).toBe(403);
    const stranger = await t.userWithKey();
    expect((await t.post(`/v1/organizations/${org.id}/api-keys`, {}, { key: stranger.key })).status).toBe(
      404,
    );
    expect((await t.get(`/v1/organizations/${org.id}/api-keys`, { key: stranger.key })).status).toBe(404);
    // A member cannot revoke the organization's keys, and a stranger cannot learn they exist.
    expect((await t.delete(`/v1/api-keys/${created.id}`, { key: member.key })).status).toBe(404);
    expect((await t.delete(`/v1/api-keys/${created.id}`, { key: stranger.key })).status).toBe(404);
    await t.expect(200, t.get('/v1/me', { key: created.secret }));

    // An admin of the organization revokes it; it stops working at once.
    await t.expect(200, t.delete(`/v1/api-keys/${created.id}`, { key: owner.key }));
    expect((await t.get('/v1/me', { key: created.secret })).status).toBe(401);
    const live = await t.expect(200, t.get(`/v1/organizations/${org.id}/api-keys`, { key: owner.key }));
    expect(ids(live)).toEqual([bySlug.id]);
    const all = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/api-keys`, { key: owner.key, query: { include_revoked: true } }),
    );
    expect(ids(all)).toEqual([created.id, bySlug.id]);
    // An organization key cannot mint a broader one.
    const narrow = await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/api-keys`,
        { scopes: ['organization:read', 'api_key:write'] },
        { key: owner.key },
      ),
    );
    const escalate = await t.post(
      `/v1/organizations/${org.id}/api-keys`,
      { scopes: ['organization:write'] },
      { key: narrow.secret },
    );
    expect(escalate.status).toBe(403);
    expect(escalate.body.error).toMatchObject({ code: 'forbidden', param: 'scopes' });
    const same = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/api-keys`, { scopes: ['api_key:read'] }, { key: narrow.secret }),
    );
    expect(same.scopes).toEqual(['api_key:read']);
  });

  it('confines an organization key to its organization and its teams', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const parent = await t.createOrganization(key);
    const org = await t.expect(
      201,
      t.post(`/v1/organizations/${parent.id}/children`, { name: 'Org' }, { key }),
    );
    const sibling = await t.expect(
      201,
      t.post(`/v1/organizations/${parent.id}/children`, { name: 'Sibling' }, { key }),
    );
    const team = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/children`, { name: 'Team' }, { key }),
    );
    const unrelated = await t.createOrganization(key);
    const orgKey = await t.organizationKey(org.id, key);

    await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: orgKey }));
    await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: orgKey }));
    for (const hidden of [parent, sibling, unrelated]) {
      const reply = await t.get(`/v1/organizations/${hidden.id}`, { key: orgKey });
      expect(reply.status).toBe(404);
      expect(reply.body.error.code).toBe('not_found');
      expect((await t.get(`/v1/organizations/${hidden.slug}`, { key: orgKey })).status).toBe(404);
      expect((await t.patch(`/v1/organizations/${hidden.id}`, { name: 'x' }, { key: orgKey })).status).toBe(
        404,
      );
      expect((await t.post(`/v1/organizations/${hidden.id}/api-keys`, {}, { key: orgKey })).status).toBe(404);
    }
    const list = await t.expect(200, t.get('/v1/organizations', { key: orgKey }));
    expect(ids(list).sort()).toEqual([org.id, team.id].sort());

    const topLevel = await t.post('/v1/organizations', { name: 'Escape' }, { key: orgKey });
    expect(topLevel.status).toBe(403);
    expect(topLevel.body.error.code).toBe('forbidden');
    const newTeam = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/children`, { name: 'Made by key' }, { key: orgKey }),
    );
    expect(newTeam.parent_organization_id).toBe(org.id);

    // It manages its own organization's keys but not personal keys.
    const teamKey = await t.expect(201, t.post(`/v1/organizations/${team.id}/api-keys`, {}, { key: orgKey }));
    expect(teamKey.organization_id).toBe(team.id);
    const personal = await t.post('/v1/api-keys', {}, { key: orgKey });
    expect(personal.status).toBe(403);
    expect((await t.get('/v1/api-keys', { key: orgKey })).status).toBe(403);

    // A team key does not reach up to the organization that made it.
    expect((await t.get(`/v1/organizations/${org.id}`, { key: teamKey.secret })).status).toBe(404);

    // Deleting the organization retires the keys of its subtree.
    const idle = await t.organizationKey(org.id, key);
    const idleTeam = await t.organizationKey(team.id, key);
    await t.expect(204, t.delete(`/v1/organizations/${org.id}`, { key }));
    // Keys used a moment ago (so cached) stop as promptly as idle ones.
    for (const retired of [idle, idleTeam, orgKey, teamKey.secret]) {
      const reply = await t.get('/v1/me', { key: retired });
      expect(reply.status).toBe(401);
      expect(reply.body.error.code).toBe('invalid_api_key');
    }
  });

  it('answers 401 in the envelope for missing, garbled or unknown credentials', async () => {
    const t = use();
    const missing = await t.get('/v1/me', { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ type: 'authentication_error', code: 'unauthenticated' });
    expect(missing.body.error.request_id).toBe(missing.headers['x-request-id']);
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', ADMIN_KEY]) {
      const reply = await t.get('/v1/me', { key: null, headers: { authorization } });
      expect(reply.status, authorization).toBe(401);
      expect(reply.body.error.type).toBe('authentication_error');
    }
    for (const key of ['short', 'osk_0000000000000000000000000000000000000000', 'x'.repeat(500)]) {
      const reply = await t.get('/v1/me', { key });
      expect(reply.status).toBe(401);
      expect(reply.body.error).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
    }
    const create = await t.post('/v1/api-keys', { kind: 'admin' }, { key: null });
    expect(create.status).toBe(401);
    await t.expect(200, t.get('/v1/me', { key: null, headers: { authorization: `bearer ${ADMIN_KEY}` } }));
  });
});
