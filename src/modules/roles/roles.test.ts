import { expect, it } from 'vitest';
import { describeEachDatabase, type Reply } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';
import { PERMISSION_NAMES } from './permissions.js';

const roles = (org: string) => `/v1/organizations/${org}/roles`;

async function failure(status: number, reply: Promise<Reply>) {
  const result = await reply;
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  return result.body.error as { code: string; param: string | null };
}

describeEachDatabase('roles', (use) => {
  it('lists the built-in roles, then custom roles of the organization and its ancestors', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const list = await t.expect(200, t.get(roles(org.id), { key: owner.key }));
    expect(list.data.map((r: any) => [r.id, r.builtin, r.base_role])).toEqual([
      ['viewer', true, 'viewer'],
      ['member', true, 'member'],
      ['admin', true, 'admin'],
      ['owner', true, 'owner'],
    ]);
    const admin = list.data.find((r: any) => r.id === 'admin');
    expect(admin).toMatchObject({ key: 'admin', organization_id: null, created_at: null });
    expect(admin.permissions).toEqual(PERMISSION_NAMES);
    expect(list.data.find((r: any) => r.id === 'viewer').permissions).toEqual([]);

    const reviewer = await t.expect(
      201,
      t.post(
        roles(org.id),
        {
          key: 'reviewer',
          name: 'Reviewer',
          description: 'Reads the trail',
          base_role: 'viewer',
          permissions: ['audit:read', 'audit:read', 'project:manage'],
        },
        { key: owner.key },
      ),
    );
    expect(reviewer).toMatchObject({
      key: 'reviewer',
      name: 'Reviewer',
      builtin: false,
      base_role: 'viewer',
      permissions: ['audit:read', 'project:manage'],
      organization_id: org.id,
    });
    const teamRole = await t.expect(
      201,
      t.post(roles(team.id), { key: 'lead', name: 'Lead', base_role: 'member' }, { key: owner.key }),
    );
    // The team sees its own roles and its parent's; the parent does not see the team's.
    const forTeam = await t.expect(200, t.get(roles(team.id), { key: owner.key }));
    expect(forTeam.data.map((r: any) => [r.key, r.organization_id])).toEqual([
      ['viewer', null],
      ['member', null],
      ['admin', null],
      ['owner', null],
      ['reviewer', org.id],
      ['lead', team.id],
    ]);
    const forOrg = await t.expect(200, t.get(roles(org.slug), { key: owner.key }));
    expect(forOrg.data.map((r: any) => r.key)).not.toContain('lead');

    // One keyset over built-in and custom roles, forward and back.
    const first = await t.expect(200, t.get(roles(team.id), { key: owner.key, query: { limit: 3 } }));
    expect(first.data.map((r: any) => r.key)).toEqual(['viewer', 'member', 'admin']);
    const second = await t.expect(
      200,
      t.get(roles(team.id), { key: owner.key, query: { limit: 3, cursor: first.pagination.next_cursor } }),
    );
    expect(second.data.map((r: any) => r.key)).toEqual(['owner', 'reviewer', 'lead']);
    expect(second.pagination.has_more).toBe(false);
    const back = await t.expect(
      200,
      t.get(roles(team.id), {
        key: owner.key,
        query: { limit: 2, cursor: second.pagination.prev_cursor, direction: 'backward' },
      }),
    );
    expect(back.data.map((r: any) => r.key)).toEqual(['member', 'admin']);
    const offset = await t.expect(200, t.get(roles(team.id), { key: owner.key, query: { offset: 4 } }));
    expect(offset.data.map((r: any) => r.key)).toEqual(['reviewer', 'lead']);
    expect(
      (await failure(400, t.get(roles(team.id), { key: owner.key, query: { cursor: 'bm9wZQ' } }))).code,
    ).toBe('invalid_cursor');

    // One role by id or key, a built-in by its name, an ancestor's through the team.
    const byKey = await t.expect(200, t.get(`${roles(team.id)}/reviewer`, { key: owner.key }));
    expect(byKey).toEqual(reviewer);
    expect((await t.expect(200, t.get(`${roles(org.id)}/${reviewer.id}`, { key: owner.key }))).key).toBe(
      'reviewer',
    );
    expect((await t.expect(200, t.get(`${roles(org.id)}/owner`, { key: owner.key }))).builtin).toBe(true);
    await failure(404, t.get(`${roles(org.id)}/${teamRole.id}`, { key: owner.key }));
    await failure(404, t.get(`${roles(org.id)}/nobody`, { key: owner.key }));
  });

  it('changes and deletes custom roles, recorded in the trail, and honours If-Match', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const created = await t.post(
      roles(org.id),
      { key: 'ops', name: 'Ops', base_role: 'member' },
      { key: owner.key },
    );
    expect(created.status).toBe(201);
    const tag = created.headers.etag as string;
    expect(tag).toBeTruthy();
    const changed = await t.expect(
      200,
      t.patch(
        `${roles(org.id)}/ops`,
        { name: 'Operations', description: null, permissions: ['webhook:manage'] },
        { key: owner.key, headers: { 'if-match': tag } },
      ),
    );
    expect(changed).toMatchObject({ key: 'ops', name: 'Operations', permissions: ['webhook:manage'] });
    const stale = await failure(
      412,
      t.patch(`${roles(org.id)}/ops`, { name: 'Stale' }, { key: owner.key, headers: { 'if-match': tag } }),
    );
    expect(stale.code).toBe('precondition_failed');
    const renamed = await t.expect(
      200,
      t.patch(`${roles(org.id)}/ops`, { key: 'operations' }, { key: owner.key }),
    );
    expect(renamed.id).toBe(created.body.id);
    await failure(404, t.get(`${roles(org.id)}/ops`, { key: owner.key }));

    await t.expect(204, t.delete(`${roles(org.id)}/operations`, { key: owner.key }));
    await failure(404, t.get(`${roles(org.id)}/${created.body.id}`, { key: owner.key }));
    await failure(404, t.patch(`${roles(org.id)}/${created.body.id}`, { name: 'x' }, { key: owner.key }));
    await failure(404, t.delete(`${roles(org.id)}/${created.body.id}`, { key: owner.key }));
    // The key of a deleted role is free again.
    await t.expect(
      201,
      t.post(roles(org.id), { key: 'operations', name: 'Ops 2', base_role: 'viewer' }, { key: owner.key }),
    );

    const trail = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, { key: owner.key, query: { action: 'role.' } }),
    );
    expect(trail.data.map((e: any) => e.action)).toEqual([
      'role.created',
      'role.updated',
      'role.updated',
      'role.deleted',
      'role.created',
    ]);
    expect(trail.data[1].changes.permissions).toEqual({ before: [], after: ['webhook:manage'] });
    expect(trail.data[3].target).toEqual({ type: 'role', id: created.body.id });
  });

  it('refuses built-in roles, bad keys, taken keys and unknown permissions, changing nothing', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    for (const builtin of ['owner', 'admin', 'member', 'viewer']) {
      const patch = await failure(
        422,
        t.patch(`${roles(org.id)}/${builtin}`, { name: 'Boss' }, { key: owner.key }),
      );
      expect(patch).toMatchObject({ code: 'builtin_role_read_only', param: 'role_id' });
      expect((await failure(422, t.delete(`${roles(org.id)}/${builtin}`, { key: owner.key }))).code).toBe(
        'builtin_role_read_only',
      );
      expect(
        await failure(
          400,
          t.post(roles(org.id), { key: builtin, name: 'X', base_role: 'viewer' }, { key: owner.key }),
        ),
      ).toMatchObject({ code: 'invalid_request', param: 'key' });
    }
    const uuidKey = '01900000-0000-7000-8000-000000000000';
    expect(
      (await failure(400, t.post(roles(org.id), { key: uuidKey, name: 'X', base_role: 'viewer' }))).param,
    ).toBe('key');
    expect(
      (await failure(400, t.post(roles(org.id), { key: 'Bad Key', name: 'X', base_role: 'viewer' }))).param,
    ).toBe('key');
    expect(
      (await failure(400, t.post(roles(org.id), { key: 'boss', name: 'X', base_role: 'owner' }))).param,
    ).toBe('base_role');
    const unknown = await failure(
      400,
      t.post(roles(org.id), { key: 'boss', name: 'X', base_role: 'admin', permissions: ['everything'] }),
    );
    expect(unknown.param).toMatch(/^permissions/);
    expect((await failure(400, t.post(roles(org.id), { key: 'boss', name: 'X' }))).param).toBe('base_role');
    expect((await failure(400, t.patch(`${roles(org.id)}/boss`, {}))).code).toBe('invalid_request');

    await t.expect(201, t.post(roles(org.id), { key: 'boss', name: 'Boss', base_role: 'admin' }));
    expect(
      await failure(409, t.post(roles(org.id), { key: 'boss', name: 'Other', base_role: 'viewer' })),
    ).toMatchObject({
      code: 'key_taken',
      param: 'key',
    });
    await t.expect(201, t.post(roles(org.id), { key: 'clerk', name: 'Clerk', base_role: 'viewer' }));
    expect((await failure(409, t.patch(`${roles(org.id)}/clerk`, { key: 'boss' }))).code).toBe('key_taken');
    // Another organization, even a team of this one, may use the key: the team's own wins there.
    const teamBoss = await t.expect(
      201,
      t.post(roles(team.id), { key: 'boss', name: 'Team boss', base_role: 'member' }),
    );
    expect((await t.expect(200, t.get(`${roles(team.id)}/boss`))).id).toBe(teamBoss.id);
    // A team's admin sees the parent's roles but changes them only on the parent.
    const inherited = await failure(403, t.patch(`${roles(team.id)}/clerk`, { name: 'Mine' }));
    expect(inherited).toMatchObject({ code: 'forbidden', param: 'role_id' });
    await failure(403, t.delete(`${roles(team.id)}/clerk`));
    expect((await t.expect(200, t.get(`${roles(org.id)}/clerk`))).name).toBe('Clerk');

    // Burst of identical creates: exactly one wins.
    const burst = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.post(roles(org.id), { key: 'burst', name: 'Burst', base_role: 'viewer' }),
      ),
    );
    expect(burst.map((r) => r.status).sort()).toEqual([201, ...Array(7).fill(409)]);
  });

  it('lets viewers read roles, only admins write them, and strangers see nothing', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: owner.key }),
    );
    const plain = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: plain.user.id, role: 'member' }, { key: owner.key }),
    );
    await t.expect(
      201,
      t.post(roles(org.id), { key: 'seen', name: 'Seen', base_role: 'viewer' }, { key: owner.key }),
    );
    await t.expect(200, t.get(roles(org.id), { key: viewer.key }));
    await t.expect(200, t.get(`${roles(org.id)}/seen`, { key: viewer.key }));
    for (const low of [viewer, plain]) {
      expect(
        (
          await failure(
            403,
            t.post(roles(org.id), { key: 'mine', name: 'M', base_role: 'viewer' }, { key: low.key }),
          )
        ).code,
      ).toBe('forbidden');
      await failure(403, t.patch(`${roles(org.id)}/seen`, { name: 'Mine' }, { key: low.key }));
      await failure(403, t.delete(`${roles(org.id)}/seen`, { key: low.key }));
    }
    const stranger = await t.userWithKey();
    await failure(404, t.get(roles(org.id), { key: stranger.key }));
    await failure(404, t.get(`${roles(org.id)}/seen`, { key: stranger.key }));
    await failure(
      404,
      t.post(roles(org.id), { key: 'x', name: 'X', base_role: 'viewer' }, { key: stranger.key }),
    );
    const readOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization:read'] }, { key: owner.key }),
    );
    await t.expect(200, t.get(roles(org.id), { key: readOnly.secret }));
    expect(
      (
        await failure(
          403,
          t.post(roles(org.id), { key: 'x', name: 'X', base_role: 'viewer' }, { key: readOnly.secret }),
        )
      ).code,
    ).toBe('insufficient_scope');
    const memberOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['member:read'] }, { key: owner.key }),
    );
    expect((await failure(403, t.get(roles(org.id), { key: memberOnly.secret }))).code).toBe(
      'insufficient_scope',
    );
    // An organization key acts as an admin of its subtree.
    const orgKey = await t.organizationKey(org.id, owner.key);
    await t.expect(
      201,
      t.post(roles(org.id), { key: 'by-key', name: 'K', base_role: 'admin' }, { key: orgKey }),
    );
    const list = await t.expect(200, t.get(roles(org.id), { key: owner.key }));
    expect(list.data.map((r: any) => r.key)).toEqual([
      'viewer',
      'member',
      'admin',
      'owner',
      'seen',
      'by-key',
    ]);
  });

  it('refuses to delete a role a member holds or an organization defaults to, until released', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const held = await t.expect(
      201,
      t.post(roles(org.id), { key: 'held', name: 'Held', base_role: 'member' }),
    );
    const user = await t.createUser();
    await t.expect(201, t.post(members(team.id), { user_id: user.id, role: 'held' }, { key: owner.key }));
    expect(await failure(409, t.delete(`${roles(org.id)}/held`, { key: owner.key }))).toMatchObject({
      code: 'role_in_use',
      param: 'role_id',
    });
    await t.expect(200, t.patch(member(team.id, user.id), { role: 'viewer' }, { key: owner.key }));

    await t.expect(200, t.patch(`/v1/organizations/${team.id}`, { settings: { default_role_id: 'held' } }));
    expect((await failure(409, t.delete(`${roles(org.id)}/${held.id}`))).code).toBe('role_in_use');
    // Deleted organizations count too: a restore must not bring back a dangling default.
    await t.expect(204, t.delete(`/v1/organizations/${team.id}`));
    expect((await failure(409, t.delete(`${roles(org.id)}/${held.id}`))).code).toBe('role_in_use');
    await t.expect(200, t.post(`/v1/organizations/${team.id}/restore`, {}));
    await t.expect(200, t.patch(`/v1/organizations/${team.id}`, { settings: { default_role_id: null } }));
    await t.expect(204, t.delete(`${roles(org.id)}/${held.id}`));
    expect((await failure(404, t.get(`${roles(org.id)}/held`))).code).toBe('not_found');
  });

  it('publishes the permissions with the built-in roles that hold them', async () => {
    const t = use();
    const { key } = await t.userWithKey(['member:read']);
    const all = await t.expect(200, t.get('/v1/permissions', { key, query: { limit: 100 } }));
    expect(all.data.map((p: any) => p.name)).toEqual(PERMISSION_NAMES);
    for (const permission of all.data) {
      expect(permission.roles).toEqual(['admin', 'owner']);
      expect(permission.description.length).toBeGreaterThan(10);
    }
    const first = await t.expect(200, t.get('/v1/permissions', { key, query: { limit: 5 } }));
    const next = await t.expect(
      200,
      t.get('/v1/permissions', { key, query: { limit: 5, cursor: first.pagination.next_cursor } }),
    );
    expect([...first.data, ...next.data].map((p: any) => p.name)).toEqual(PERMISSION_NAMES.slice(0, 10));
    await failure(401, t.get('/v1/permissions', { key: null }));
  });
});
