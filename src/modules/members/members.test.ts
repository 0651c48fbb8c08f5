import { expect, it } from 'vitest';
import { describeEachDatabase, type Reply, type TestApp } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';

/** Adds a member as the caller holding `key` (the admin key when absent) and returns the membership. */
async function add(t: TestApp, org: string, body: Record<string, unknown>, key?: string) {
  return t.expect(201, t.post(members(org), body, key ? { key } : undefined));
}

/** A user with a personal key who holds `role` on `org`. */
async function userWithRole(t: TestApp, org: string, role: string) {
  const created = await t.userWithKey();
  await add(t, org, { user_id: created.user.id, role });
  return created;
}

/** Error code of a reply, asserting the status and the envelope. */
async function failure(status: number, reply: Promise<Reply>) {
  const result = await reply;
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  expect(Object.keys(result.body.error).sort()).toEqual(['code', 'message', 'param', 'request_id', 'type']);
  expect(result.body.error.request_id).toBe(result.headers['x-request-id']);
  return result.body.error as { code: string; param: string | null; type: string };
}

describeEachDatabase('members', (use) => {
  it('makes the creator the owner and adds members by user id with the member role by default', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const creator = await t.expect(200, t.get(member(org.id, owner.user.id), { key: owner.key }));
    expect(creator).toMatchObject({ role: 'owner', inherited: false, via_organization_id: org.id });
    const other = await t.createUser(undefined, 'Grace');
    const added = await add(t, org.slug, { user_id: other.id }, owner.key);
    expect(added).toMatchObject({
      organization_id: org.id,
      user_id: other.id,
      email: other.email,
      name: 'Grace',
      external_id: null,
      role: 'member',
      inherited: false,
      via_organization_id: org.id,
    });
    expect(Date.parse(added.created_at)).not.toBeNaN();
    const fetched = await t.expect(200, t.get(member(org.slug, other.id), { key: owner.key }));
    expect(fetched).toEqual(added);
    const list = await t.expect(200, t.get(members(org.id), { key: owner.key }));
    expect(list.data.map((m: any) => [m.user_id, m.role]).sort()).toEqual(
      [
        [owner.user.id, 'owner'],
        [other.id, 'member'],
      ].sort(),
    );
  });

  it('creates the user for an unknown email once and reuses a known email whatever its case', async () => {
    const t = use();
    const org = await t.createOrganization((await t.userWithKey()).key);
    const email = `${t.unique('new')}@example.com`;
    const before = await t.expect(200, t.get('/v1/users', { query: { email } }));
    expect(before.data).toHaveLength(0);
    const added = await add(t, org.id, { email, role: 'viewer' });
    expect(added).toMatchObject({ email, role: 'viewer' });
    const after = await t.expect(200, t.get('/v1/users', { query: { email } }));
    expect(after.data.map((u: any) => u.id)).toEqual([added.user_id]);

    const known = await t.createUser();
    const other = await t.createOrganization((await t.userWithKey()).key);
    const byEmail = await add(t, other.id, { email: known.email.toUpperCase() });
    expect(byEmail.user_id).toBe(known.id);
    const again = await add(t, other.id, { email });
    expect(again.user_id).toBe(added.user_id);
    const still = await t.expect(200, t.get('/v1/users', { query: { email } }));
    expect(still.data).toHaveLength(1);
  });

  it('refuses bad bodies with 400, unknown users with 404 and an existing member with 409', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const user = await t.createUser();
    const both = await failure(400, t.post(members(org.id), { email: user.email, user_id: user.id }));
    expect(both.code).toBe('invalid_request');
    expect(['email', 'user_id']).toContain(both.param);
    const neither = await failure(400, t.post(members(org.id), { role: 'admin' }));
    expect(neither).toMatchObject({ code: 'invalid_request', type: 'invalid_request_error' });
    expect(['email', 'user_id']).toContain(neither.param);
    expect((await failure(400, t.post(members(org.id), { user_id: user.id, role: 'god' }))).param).toBe(
      'role',
    );
    expect((await failure(400, t.post(members(org.id), { user_id: 'not-a-uuid' }))).param).toBe('user_id');
    expect((await failure(400, t.post(members(org.id), { email: 'nope' }))).param).toBe('email');
    expect((await failure(400, t.post(members(org.id), { user_id: user.id, extra: 1 }))).param).toBe('extra');
    expect((await failure(400, t.patch(member(org.id, user.id), {}))).param).toBe('body');
    const ghost = '01900000-0000-7000-8000-000000000000';
    expect(await failure(404, t.post(members(org.id), { user_id: ghost }))).toMatchObject({
      code: 'not_found',
      param: 'user_id',
    });
    await add(t, org.id, { user_id: user.id });
    expect(await failure(409, t.post(members(org.id), { user_id: user.id, role: 'admin' }))).toMatchObject({
      code: 'already_member',
      type: 'invalid_request_error',
    });
    expect((await failure(409, t.post(members(org.id), { email: user.email }))).code).toBe('already_member');
    expect((await t.expect(200, t.get(member(org.id, user.id)))).role).toBe('member');
    expect((await failure(404, t.get(member(org.id, ghost)))).code).toBe('not_found');
    expect((await failure(404, t.patch(member(org.id, ghost), { role: 'admin' }))).code).toBe('not_found');
    expect((await failure(404, t.delete(member(org.id, ghost)))).code).toBe('not_found');
  });

  it('hides the organization from non-members with 404 on every member route', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const stranger = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const key = stranger.key;
    for (const ref of [org.id, org.slug]) {
      const calls = [
        t.get(members(ref), { key }),
        t.get(member(ref, owner.user.id), { key }),
        t.post(members(ref), { user_id: stranger.user.id }, { key }),
        t.patch(member(ref, owner.user.id), { role: 'viewer' }, { key }),
        t.delete(member(ref, owner.user.id), { key }),
        t.delete(member(ref, stranger.user.id), { key }),
      ];
      for (const call of calls) expect((await failure(404, call)).code).toBe('not_found');
    }
    expect((await t.expect(200, t.get(member(org.id, owner.user.id)))).role).toBe('owner');
  });

  it('lets a caller grant, change and remove only roles at or below its own', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const admin = await userWithRole(t, org.id, 'admin');
    const plain = await userWithRole(t, org.id, 'member');
    const viewer = await userWithRole(t, org.id, 'viewer');

    // Viewers and members read but do not manage.
    for (const low of [plain, viewer]) {
      await t.expect(200, t.get(members(org.id), { key: low.key }));
      const someone = await t.createUser();
      expect(
        (await failure(403, t.post(members(org.id), { user_id: someone.id }, { key: low.key }))).code,
      ).toBe('forbidden');
      expect(
        (await failure(403, t.patch(member(org.id, viewer.user.id), { role: 'member' }, { key: low.key })))
          .type,
      ).toBe('permission_error');
    }
    expect((await failure(403, t.delete(member(org.id, viewer.user.id), { key: plain.key }))).code).toBe(
      'forbidden',
    );

    // An admin manages up to admin, never owners.
    const newcomer = await t.createUser();
    expect(
      (
        await failure(
          403,
          t.post(members(org.id), { user_id: newcomer.id, role: 'owner' }, { key: admin.key }),
        )
      ).param,
    ).toBe('role');
    await add(t, org.id, { user_id: newcomer.id, role: 'admin' }, admin.key);
    await failure(403, t.patch(member(org.id, plain.user.id), { role: 'owner' }, { key: admin.key }));
    await failure(403, t.patch(member(org.id, owner.user.id), { role: 'admin' }, { key: admin.key }));
    await failure(403, t.delete(member(org.id, owner.user.id), { key: admin.key }));
    const promoted = await t.expect(
      200,
      t.patch(member(org.id, plain.user.id), { role: 'admin' }, { key: admin.key }),
    );
    expect(promoted.role).toBe('admin');
    await t.expect(200, t.patch(member(org.id, newcomer.id), { role: 'viewer' }, { key: admin.key }));
    await t.expect(204, t.delete(member(org.id, newcomer.id), { key: admin.key }));
    await failure(404, t.get(member(org.id, newcomer.id), { key: admin.key }));
    const roles = await t.expect(200, t.get(members(org.id), { key: owner.key }));
    expect(roles.data.map((m: any) => [m.user_id, m.role]).sort()).toEqual(
      [
        [owner.user.id, 'owner'],
        [admin.user.id, 'admin'],
        [plain.user.id, 'admin'],
        [viewer.user.id, 'viewer'],
      ].sort(),
    );

    // An owner grants and changes owners.
    await t.expect(200, t.patch(member(org.id, admin.user.id), { role: 'owner' }, { key: owner.key }));
    await t.expect(200, t.patch(member(org.id, owner.user.id), { role: 'member' }, { key: admin.key }));
    expect((await t.expect(200, t.get(member(org.id, owner.user.id)))).role).toBe('member');
  });

  it('lets any member leave, but not the last owner', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const viewer = await userWithRole(t, org.id, 'viewer');
    await t.expect(204, t.delete(member(org.slug, viewer.user.id), { key: viewer.key }));
    await failure(404, t.get(`/v1/organizations/${org.id}`, { key: viewer.key }));
    await failure(404, t.get(members(org.id), { key: viewer.key }));

    const last = await failure(409, t.delete(member(org.id, owner.user.id), { key: owner.key }));
    expect(last).toMatchObject({ code: 'last_owner', type: 'invalid_request_error' });
    expect((await failure(409, t.delete(member(org.id, owner.user.id)))).code).toBe('last_owner');
    expect((await failure(409, t.patch(member(org.id, owner.user.id), { role: 'admin' }))).code).toBe(
      'last_owner',
    );
    expect(
      (await failure(409, t.patch(member(org.id, owner.user.id), { role: 'viewer' }, { key: owner.key })))
        .code,
    ).toBe('last_owner');
    // Making an owner an owner again is no demotion.
    await t.expect(200, t.patch(member(org.id, owner.user.id), { role: 'owner' }, { key: owner.key }));

    const second = await userWithRole(t, org.id, 'owner');
    const demoted = await t.expect(
      200,
      t.patch(member(org.id, owner.user.id), { role: 'admin' }, { key: owner.key }),
    );
    expect(demoted.role).toBe('admin');
    expect((await failure(409, t.patch(member(org.id, second.user.id), { role: 'admin' }))).code).toBe(
      'last_owner',
    );
    await t.expect(200, t.patch(member(org.id, owner.user.id), { role: 'owner' }, { key: second.key }));
    await t.expect(204, t.delete(member(org.id, second.user.id), { key: second.key }));
    const owners = await t.expect(200, t.get(members(org.id), { query: { role: 'owner' } }));
    expect(owners.data.map((m: any) => m.user_id)).toEqual([owner.user.id]);
  });

  it("counts a parent's owner for a team, so the team's only direct owner may go", async () => {
    const t = use();
    const parentOwner = await t.createUser();
    const org = await t.expect(
      201,
      t.post('/v1/organizations', { name: t.unique('Org'), owner_user_id: parentOwner.id }),
    );
    const team = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'Team' }));
    const teamOwner = await t.userWithKey();
    await add(t, team.id, { user_id: teamOwner.user.id, role: 'owner' });
    const direct = await t.expect(200, t.get(members(team.id), { query: { role: 'owner' } }));
    expect(direct.data.map((m: any) => m.user_id)).toEqual([teamOwner.user.id]);
    const demoted = await t.expect(
      200,
      t.patch(member(team.id, teamOwner.user.id), { role: 'admin' }, { key: teamOwner.key }),
    );
    expect(demoted.role).toBe('admin');
    await t.expect(204, t.delete(member(team.id, teamOwner.user.id)));
    // The parent itself still keeps its one owner.
    expect((await failure(409, t.patch(member(org.id, parentOwner.id), { role: 'admin' }))).code).toBe(
      'last_owner',
    );
    expect((await failure(409, t.delete(member(org.id, parentOwner.id)))).code).toBe('last_owner');
  });

  it('carries access down the tree with the highest role held on the path', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const team = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/children`, { name: 'Team' }, { key: owner.key }),
    );
    const sub = await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/children`, { name: 'Sub' }, { key: owner.key }),
    );
    const admin = await userWithRole(t, org.id, 'admin');
    await add(t, team.id, { user_id: admin.user.id, role: 'viewer' });
    const viewer = await userWithRole(t, org.id, 'viewer');
    await add(t, team.id, { user_id: viewer.user.id, role: 'admin' });

    // Admin on the parent, viewer on the team: manages the team and its sub-team as an admin.
    const someone = await t.createUser();
    await add(t, team.id, { user_id: someone.id, role: 'admin' }, admin.key);
    await t.expect(200, t.patch(member(team.slug, someone.id), { role: 'member' }, { key: admin.key }));
    await add(t, sub.id, { user_id: someone.id }, admin.key);
    await failure(
      403,
      t.post(members(team.id), { user_id: (await t.createUser()).id, role: 'owner' }, { key: admin.key }),
    );

    // Viewer on the parent, admin on the team: an admin below, a viewer above.
    await add(t, sub.id, { user_id: (await t.createUser()).id }, viewer.key);
    await t.expect(204, t.delete(member(team.id, someone.id), { key: viewer.key }));
    await failure(403, t.post(members(org.id), { user_id: someone.id }, { key: viewer.key }));

    // A member of the team only does not reach the parent.
    const teamOnly = await t.userWithKey();
    await add(t, team.id, { user_id: teamOnly.user.id, role: 'owner' });
    await t.expect(200, t.get(members(sub.id), { key: teamOnly.key }));
    await failure(404, t.get(members(org.id), { key: teamOnly.key }));
  });

  it('forgets deleted users and answers 404 for a deleted organization', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const gone = await t.createUser();
    await add(t, org.id, { user_id: gone.id, role: 'admin' });
    await t.expect(204, t.delete(`/v1/users/${gone.id}`));
    const list = await t.expect(200, t.get(members(org.id), { key: owner.key }));
    expect(list.data.map((m: any) => m.user_id)).toEqual([owner.user.id]);
    expect(await failure(404, t.post(members(org.id), { user_id: gone.id }))).toMatchObject({
      code: 'not_found',
      param: 'user_id',
    });
    // The email is free again: adding it makes a new user.
    const again = await add(t, org.id, { email: gone.email });
    expect(again.user_id).not.toBe(gone.id);

    await t.expect(204, t.delete(`/v1/organizations/${org.id}`, { key: owner.key }));
    await failure(404, t.get(members(org.id), { key: owner.key }));
    await failure(404, t.post(members(org.slug), { email: `${t.unique('x')}@example.com` }));
    await failure(404, t.patch(member(org.id, again.user_id), { role: 'viewer' }, { key: owner.key }));
    await failure(404, t.delete(member(org.id, owner.user.id), { key: owner.key }));
  });

  it('lets a key with member:read list but not write, and refuses keys without it', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const readKey = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['member:read'] }, { key: owner.key }),
    );
    const key = readKey.secret as string;
    const list = await t.expect(200, t.get(members(org.id), { key }));
    expect(list.data.map((m: any) => m.user_id)).toEqual([owner.user.id]);
    await t.expect(200, t.get(member(org.id, owner.user.id), { key }));
    const user = await t.createUser();
    const denied = await failure(403, t.post(members(org.id), { user_id: user.id }, { key }));
    expect(denied).toMatchObject({ code: 'insufficient_scope', type: 'permission_error' });
    expect(
      (await failure(403, t.patch(member(org.id, owner.user.id), { role: 'owner' }, { key }))).code,
    ).toBe('insufficient_scope');
    expect((await failure(403, t.delete(member(org.id, owner.user.id), { key }))).code).toBe(
      'insufficient_scope',
    );
    // Scope checks never reveal an organization the caller cannot reach.
    const elsewhere = await t.createOrganization((await t.userWithKey()).key);
    await failure(404, t.post(members(elsewhere.id), { user_id: user.id }, { key }));

    const orgOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization:read'] }, { key: owner.key }),
    );
    expect((await failure(403, t.get(members(org.id), { key: orgOnly.secret }))).code).toBe(
      'insufficient_scope',
    );
    await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: orgOnly.secret }));
    const listed = await t.expect(200, t.get(members(org.id), { key: owner.key }));
    expect(listed.data).toHaveLength(1);
  });

  it('gives an organization key admin rights in its own subtree only', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const teamKey = await t.organizationKey(team.id, owner.key);
    const user = await t.createUser();
    const added = await add(t, team.id, { user_id: user.id, role: 'admin' }, teamKey);
    expect(added.role).toBe('admin');
    await failure(
      403,
      t.post(members(team.id), { email: `${t.unique('o')}@example.com`, role: 'owner' }, { key: teamKey }),
    );
    await failure(403, t.patch(member(team.id, owner.user.id), { role: 'admin' }, { key: teamKey }));
    await failure(404, t.get(members(org.id), { key: teamKey }));
    await failure(404, t.post(members(org.id), { user_id: user.id }, { key: teamKey }));
  });
});
