import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';

describeEachDatabase('me', (use) => {
  it('describes an instance admin key', async () => {
    const t = use();
    const me = await t.expect(200, t.get('/v1/me'));
    expect(me).toMatchObject({ principal: 'admin', user: null, organization: null });
    const adminKeys = await t.expect(200, t.get('/v1/api-keys', { query: { kind: 'admin' } }));
    expect(adminKeys.data.map((k: any) => k.id)).toContain(me.api_key_id);
    expect(me.scopes).toEqual(adminKeys.data.find((k: any) => k.id === me.api_key_id).scopes);
    expect(me.scopes).toContain('organization:write');
    expect(me.scopes).toContain('api_key:write');
  });

  it('describes a personal key: the user it acts as and exactly the scopes it was given', async () => {
    const t = use();
    const { user, key, keyId } = await t.userWithKey(['organization:write', 'user:read']);
    const me = await t.expect(200, t.get('/v1/me', { key }));
    expect(me).toEqual({
      principal: 'user',
      api_key_id: keyId,
      scopes: ['organization:write', 'user:read'],
      authentication: { method: 'api_key', amr: [], second_factor: false },
      user,
      organization: null,
    });
    // /v1/me needs no scope at all.
    const bare = await t.userWithKey(['organization:read']);
    const bareMe = await t.expect(200, t.get('/v1/me', { key: bare.key }));
    expect(bareMe.user.id).toBe(bare.user.id);
    expect(bareMe.scopes).toEqual(['organization:read']);
  });

  it('shows the current state of the user behind the key', async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    await t.expect(200, t.patch(`/v1/users/${user.id}`, { name: 'Grace Hopper' }, { key }));
    const me = await t.expect(200, t.get('/v1/me', { key }));
    expect(me.user).toMatchObject({ id: user.id, name: 'Grace Hopper', email: user.email });
  });

  it('describes an organization key: its organization and no user', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    const team = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/children`, { name: 'Team' }, { key }),
    );
    const created = await t.expect(
      201,
      t.post(
        `/v1/organizations/${team.id}/api-keys`,
        { scopes: ['organization:read', 'member:read'] },
        { key },
      ),
    );
    const me = await t.expect(200, t.get('/v1/me', { key: created.secret }));
    expect(me).toMatchObject({
      principal: 'organization',
      api_key_id: created.id,
      scopes: ['organization:read', 'member:read'],
      user: null,
    });
    const fetched = await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key }));
    expect(me.organization).toEqual(fetched);
    expect(me.organization).toMatchObject({ id: team.id, parent_organization_id: org.id });
  });

  it('answers 401 in the envelope without a valid key', async () => {
    const t = use();
    const missing = await t.get('/v1/me', { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({
      type: 'authentication_error',
      code: 'unauthenticated',
      param: null,
    });
    const wrong = await t.get('/v1/me', { key: 'osk_thisKeyDoesNotExist000000000000000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_api_key');
  });
});
