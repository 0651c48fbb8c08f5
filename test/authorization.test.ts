import { beforeAll, expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase, type Reply, type TestApp } from './helpers/app.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface World {
  owner: { user: any; key: string; keyId: string };
  parent: any;
  team: any;
  sibling: any;
  grandchild: any;
  deletedTeam: any;
  member: any;
  strangerKey: string;
  siblingKey: string;
  teamKey: string;
  revokedPersonalKey: string;
  revokedTeamKey: string;
  expiringKey: string;
  expiresAt: number;
}

interface RouteCase {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
}

/** Every organization route, aimed at the team (`team`), its own team and its direct member. */
function organizationRoutes(w: World, ref: string = w.team.id): RouteCase[] {
  const org = `/v1/organizations/${ref}`;
  return [
    { name: 'get', method: 'GET', url: org },
    { name: 'update', method: 'PATCH', url: org, body: { description: 'changed by an intruder' } },
    { name: 'delete', method: 'DELETE', url: org },
    { name: 'list children', method: 'GET', url: `${org}/children` },
    { name: 'create child', method: 'POST', url: `${org}/children`, body: { name: 'Intruder team' } },
    { name: 'get child', method: 'GET', url: `${org}/children/${w.grandchild.id}` },
    {
      name: 'update child',
      method: 'PATCH',
      url: `${org}/children/${w.grandchild.id}`,
      body: { friendly_name: 'Intruded' },
    },
    { name: 'delete child', method: 'DELETE', url: `${org}/children/${w.grandchild.id}` },
    { name: 'list members', method: 'GET', url: `${org}/members` },
    {
      name: 'add member',
      method: 'POST',
      url: `${org}/members`,
      body: { email: 'intruder@example.com', role: 'owner' },
    },
    { name: 'get member', method: 'GET', url: `${org}/members/${w.member.id}` },
    { name: 'update member', method: 'PATCH', url: `${org}/members/${w.member.id}`, body: { role: 'admin' } },
    { name: 'remove member', method: 'DELETE', url: `${org}/members/${w.member.id}` },
    { name: 'list keys', method: 'GET', url: `${org}/api-keys` },
    { name: 'create key', method: 'POST', url: `${org}/api-keys`, body: {} },
    { name: 'move', method: 'POST', url: `${org}/move`, body: { parent_organization_id: null } },
    { name: 'restore', method: 'POST', url: `/v1/organizations/${w.deletedTeam.id}/restore` },
  ];
}

function send(t: TestApp, route: RouteCase, key: string | null): Promise<Reply> {
  return t.call(route.method, route.url, { key, body: route.body });
}

/** Everything an intruder could have changed, read with the admin key and straight from the tables. */
async function snapshot(t: TestApp, w: World) {
  const read = (id: string) =>
    t.expect(200, t.get(`/v1/organizations/${id}`, { query: { include_deleted: true } }));
  const [counts] = await t.database.db.query<Record<string, string | number>>(
    `select (select count(*) from organizations) as orgs,
            (select count(*) from organizations where deleted_at is null) as live_orgs,
            (select count(*) from memberships) as memberships,
            (select string_agg(organization_id || ':' || user_id || ':' || role, ',' order by organization_id, user_id) from memberships) as roles,
            (select count(*) from users) as users,
            (select count(*) from api_keys) as keys,
            (select count(*) from api_keys where revoked_at is not null) as revoked`,
  );
  return {
    counts: Object.fromEntries(Object.entries(counts!).map(([k, v]) => [k, String(v)])),
    orgs: await Promise.all(
      [w.parent, w.team, w.sibling, w.grandchild, w.deletedTeam].map(async (o) => {
        const { updated_at, deleted_at, parent_organization_id, description, friendly_name } = await read(
          o.id,
        );
        return { updated_at, deleted_at, parent_organization_id, description, friendly_name };
      }),
    ),
  };
}

function expectEnvelope(reply: Reply, status: number, code: string, label: string) {
  expect(reply.status, `${label}: ${JSON.stringify(reply.body)}`).toBe(status);
  expect(reply.body.error, label).toMatchObject({ code, request_id: reply.headers['x-request-id'] });
}

describeEachDatabase('authorization', (use) => {
  let w: World;

  beforeAll(async () => {
    const t = use();
    const owner = await t.userWithKey();
    const parent = await t.createOrganization(owner.key, { name: 'Parent Co' });
    const team = await t.expect(
      201,
      t.post(`/v1/organizations/${parent.id}/children`, { name: 'Team A' }, { key: owner.key }),
    );
    const sibling = await t.expect(
      201,
      t.post(`/v1/organizations/${parent.id}/children`, { name: 'Team B' }, { key: owner.key }),
    );
    const grandchild = await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/children`, { name: 'Team A1' }, { key: owner.key }),
    );
    const deletedTeam = await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/children`, { name: 'Team A2' }, { key: owner.key }),
    );
    await t.expect(204, t.delete(`/v1/organizations/${deletedTeam.id}`, { key: owner.key }));
    const member = await t.createUser();
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${team.id}/members`,
        { user_id: member.id, role: 'member' },
        { key: owner.key },
      ),
    );
    const stranger = await t.userWithKey();
    // The stranger has an organization of its own, so it is a real user with real access elsewhere.
    await t.createOrganization(stranger.key);
    const siblingKey = await t.organizationKey(sibling.id, owner.key);
    const teamKey = await t.organizationKey(team.id, owner.key);

    // A personal key of the owner and a key of the team itself: both work until revoked.
    const revokedPersonal = await t.expect(201, t.post('/v1/api-keys', {}, { key: owner.key }));
    await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: revokedPersonal.secret }));
    await t.expect(200, t.delete(`/v1/api-keys/${revokedPersonal.id}`, { key: owner.key }));
    const revokedTeam = await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/api-keys`, {}, { key: owner.key }),
    );
    await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: revokedTeam.secret }));
    await t.expect(200, t.delete(`/v1/api-keys/${revokedTeam.id}`));

    // Last, so it is still valid when first used: an owner key that expires in 1.5 seconds.
    const expiresAt = Date.now() + 1500;
    const expiring = await t.expect(
      201,
      t.post('/v1/api-keys', { expires_at: new Date(expiresAt).toISOString() }, { key: owner.key }),
    );
    await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: expiring.secret }));

    w = {
      owner,
      parent,
      team,
      sibling,
      grandchild,
      deletedTeam,
      member,
      strangerKey: stranger.key,
      siblingKey,
      teamKey,
      revokedPersonalKey: revokedPersonal.secret,
      revokedTeamKey: revokedTeam.secret,
      expiringKey: expiring.secret,
      expiresAt: Date.parse(expiring.expires_at),
    };
  });

  it('hides the organization from non-members and sibling keys: 404 on every route, nothing changed', async () => {
    const t = use();
    const before = await snapshot(t, w);
    const unknown = await t.get('/v1/organizations/00000000-0000-7000-8000-000000000000', {
      key: w.strangerKey,
    });
    expect(unknown.status).toBe(404);
    const callers = { stranger: w.strangerKey, 'sibling team key': w.siblingKey };
    const refs = [w.team.id, w.team.slug];
    let checked = 0;
    for (const [caller, key] of Object.entries(callers)) {
      for (const ref of refs) {
        for (const route of organizationRoutes(w, ref)) {
          const reply = await send(t, route, key);
          const label = `${caller} ${route.name} (${ref})`;
          expectEnvelope(reply, 404, 'not_found', label);
          // Indistinguishable from an organization that does not exist.
          expect(reply.body.error.type, label).toBe(unknown.body.error.type);
          checked++;
        }
      }
    }
    expect(checked).toBe(2 * 2 * organizationRoutes(w).length);
    // The parent is just as hidden from the sibling's key as from the stranger.
    expectEnvelope(
      await t.get(`/v1/organizations/${w.parent.id}`, { key: w.siblingKey }),
      404,
      'not_found',
      'p',
    );
    expectEnvelope(
      await t.get(`/v1/organizations/${w.parent.id}`, { key: w.strangerKey }),
      404,
      'not_found',
      'p',
    );
    expect(await snapshot(t, w)).toEqual(before);
  });

  it('leaves hidden organizations out of lists', async () => {
    const t = use();
    const hidden = new Set([w.parent.id, w.team.id, w.grandchild.id, w.sibling.id]);
    const strangerList = await t.expect(
      200,
      t.get('/v1/organizations', { key: w.strangerKey, query: { limit: 100 } }),
    );
    expect(strangerList.data.length).toBeGreaterThan(0);
    for (const org of strangerList.data) expect(hidden.has(org.id)).toBe(false);
    const siblingList = await t.expect(
      200,
      t.get('/v1/organizations', { key: w.siblingKey, query: { limit: 100 } }),
    );
    expect(siblingList.data.map((o: any) => o.id)).toEqual([w.sibling.id]);
  });

  it('refuses revoked keys, expired keys and no key with 401 on every route, nothing changed', async () => {
    const t = use();
    const wait = w.expiresAt - Date.now() + 50;
    expect(wait).toBeLessThan(5000);
    if (wait > 0) await sleep(wait);
    const before = await snapshot(t, w);
    const callers: Record<string, [string | null, string]> = {
      'revoked personal key': [w.revokedPersonalKey, 'invalid_api_key'],
      'revoked team key': [w.revokedTeamKey, 'invalid_api_key'],
      'expired key': [w.expiringKey, 'invalid_api_key'],
      'no key': [null, 'unauthenticated'],
      'unknown key': ['osk_this_key_was_never_issued_000000000', 'invalid_api_key'],
    };
    for (const [caller, [key, code]] of Object.entries(callers)) {
      for (const route of organizationRoutes(w)) {
        const reply = await send(t, route, key);
        expectEnvelope(reply, 401, code, `${caller} ${route.name}`);
        expect(reply.body.error.type).toBe('authentication_error');
      }
      expectEnvelope(await t.get('/v1/me', { key }), 401, code, `${caller} /v1/me`);
    }
    expect(await snapshot(t, w)).toEqual(before);
  });

  it('answers 403 insufficient_scope to a key without the scope, 404 still to strangers', async () => {
    const t = use();
    const memberOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['member:read'] }, { key: w.owner.key }),
    );
    const readOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { scopes: ['organization:read'] }, { key: w.owner.key }),
    );
    const before = await snapshot(t, w);
    const org = `/v1/organizations/${w.team.id}`;
    const cases: [string, Promise<Reply>][] = [
      ['get without organization:read', t.get(org, { key: memberOnly.secret })],
      ['children without organization:read', t.get(`${org}/children`, { key: memberOnly.secret })],
      ['patch with read only', t.patch(org, { description: 'x' }, { key: readOnly.secret })],
      ['delete with read only', t.delete(org, { key: readOnly.secret })],
      ['create child with read only', t.post(`${org}/children`, { name: 'x' }, { key: readOnly.secret })],
      [
        'move with read only',
        t.post(`${org}/move`, { parent_organization_id: null }, { key: readOnly.secret }),
      ],
      ['members with organization:read', t.get(`${org}/members`, { key: readOnly.secret })],
      [
        'add member with member:read',
        t.post(`${org}/members`, { email: 'scope@example.com' }, { key: memberOnly.secret }),
      ],
      ['list keys without api_key:read', t.get(`${org}/api-keys`, { key: readOnly.secret })],
      ['create key without api_key:write', t.post(`${org}/api-keys`, {}, { key: readOnly.secret })],
    ];
    for (const [label, reply] of cases) {
      const result = await reply;
      expectEnvelope(result, 403, 'insufficient_scope', label);
      expect(result.body.error.type).toBe('permission_error');
    }
    // The allowed half of each key still works.
    await t.expect(200, t.get(org, { key: readOnly.secret }));
    await t.expect(200, t.get(`${org}/members`, { key: memberOnly.secret }));
    expect(await snapshot(t, w)).toEqual(before);
    // An organization key limited to reading is refused writes in its own organization.
    const readingTeamKey = await t.organizationKey(w.team.id, w.owner.key, ['organization:read']);
    const teamBefore = await snapshot(t, w);
    await t.expect(200, t.get(org, { key: readingTeamKey }));
    expectEnvelope(
      await t.patch(org, { description: 'x' }, { key: readingTeamKey }),
      403,
      'insufficient_scope',
      'team key',
    );
    // A key missing the scope learns nothing more about organizations it cannot reach.
    const strangerReadless = await t.userWithKey(['member:read']);
    expectEnvelope(
      await t.get(org, { key: strangerReadless.key }),
      404,
      'not_found',
      'stranger without scope',
    );
    const after = await snapshot(t, w);
    // Only the stranger's user and key were added since.
    expect(after.orgs).toEqual(teamBefore.orgs);
    expect(after.counts).toMatchObject({
      orgs: teamBefore.counts.orgs,
      memberships: teamBefore.counts.memberships,
      roles: teamBefore.counts.roles,
    });
  });

  it('lets a viewer read but answers 403 forbidden to its writes', async () => {
    const t = use();
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${w.team.id}/members`,
        { user_id: viewer.user.id, role: 'viewer' },
        { key: w.owner.key },
      ),
    );
    const before = await snapshot(t, w);
    for (const route of organizationRoutes(w)) {
      const reply = await send(t, route, viewer.key);
      // Reading members and teams is for viewers; the organization's keys are for admins.
      if (route.method === 'GET' && route.name !== 'list keys') {
        expect(reply.status, `viewer ${route.name}: ${JSON.stringify(reply.body)}`).toBe(200);
      } else {
        expectEnvelope(reply, 403, 'forbidden', `viewer ${route.name}`);
        expect(reply.body.error.type).toBe('permission_error');
      }
    }
    // The viewer does not reach the parent or the sibling: access flows down, never up or across.
    expectEnvelope(
      await t.get(`/v1/organizations/${w.parent.id}`, { key: viewer.key }),
      404,
      'not_found',
      'up',
    );
    expectEnvelope(
      await t.get(`/v1/organizations/${w.sibling.id}`, { key: viewer.key }),
      404,
      'not_found',
      'across',
    );
    expect(await snapshot(t, w)).toEqual(before);
  });

  it('lets an organization key reach its organization and its teams, not its parent or siblings', async () => {
    const t = use();
    const key = w.teamKey;
    const me = await t.expect(200, t.get('/v1/me', { key }));
    expect(me.principal).toBe('organization');
    expect(me.organization.id).toBe(w.team.id);
    await t.expect(200, t.get(`/v1/organizations/${w.team.id}`, { key }));
    await t.expect(200, t.get(`/v1/organizations/${w.team.slug}`, { key }));
    await t.expect(200, t.get(`/v1/organizations/${w.grandchild.id}`, { key }));
    await t.expect(200, t.get(`/v1/organizations/${w.team.id}/children/${w.grandchild.id}`, { key }));
    await t.expect(200, t.get(`/v1/organizations/${w.team.id}/members`, { key }));
    const renamed = await t.expect(
      200,
      t.patch(`/v1/organizations/${w.grandchild.id}`, { friendly_name: 'Set by team key' }, { key }),
    );
    expect(renamed.friendly_name).toBe('Set by team key');
    const listed = await t.expect(200, t.get('/v1/organizations', { key, query: { limit: 100 } }));
    const ids = listed.data.map((o: any) => o.id);
    expect(ids).toContain(w.team.id);
    expect(ids).toContain(w.grandchild.id);
    expect(ids).not.toContain(w.parent.id);
    expect(ids).not.toContain(w.sibling.id);
    for (const url of [
      `/v1/organizations/${w.parent.id}`,
      `/v1/organizations/${w.parent.slug}`,
      `/v1/organizations/${w.parent.id}/children`,
      `/v1/organizations/${w.parent.id}/members`,
      `/v1/organizations/${w.sibling.id}`,
    ]) {
      expectEnvelope(await t.get(url, { key }), 404, 'not_found', url);
    }
    // It cannot lift its own organization out from under its parent, or create beside itself.
    const before = await snapshot(t, w);
    expect(
      (await t.post(`/v1/organizations/${w.team.id}/move`, { parent_organization_id: null }, { key })).status,
    ).toBe(403);
    expectEnvelope(
      await t.post(`/v1/organizations/${w.parent.id}/children`, { name: 'beside' }, { key }),
      404,
      'not_found',
      'create under parent',
    );
    // Moving takes the owner role, which an organization key never has.
    expectEnvelope(
      await t.post(
        `/v1/organizations/${w.grandchild.id}/move`,
        { parent_organization_id: w.sibling.id },
        { key },
      ),
      403,
      'forbidden',
      'move into sibling',
    );
    expect(await snapshot(t, w)).toEqual(before);
  });

  it('lets the admin key reach everything', async () => {
    const t = use();
    const strangerOrg = await t.createOrganization((await t.userWithKey()).key);
    for (const org of [w.parent, w.team, w.sibling, w.grandchild, strangerOrg]) {
      await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: ADMIN_KEY }));
      await t.expect(200, t.get(`/v1/organizations/${org.id}/members`, { key: ADMIN_KEY }));
      await t.expect(200, t.get(`/v1/organizations/${org.id}/api-keys`, { key: ADMIN_KEY }));
    }
    await t.expect(
      200,
      t.get(`/v1/organizations/${w.deletedTeam.id}`, { key: ADMIN_KEY, query: { include_deleted: true } }),
    );
    const updated = await t.expect(
      200,
      t.patch(`/v1/organizations/${strangerOrg.id}`, { description: 'by admin' }, { key: ADMIN_KEY }),
    );
    expect(updated.description).toBe('by admin');
    const listed = await t.expect(200, t.get('/v1/organizations', { key: ADMIN_KEY, query: { limit: 100 } }));
    const ids = listed.data.map((o: any) => o.id);
    for (const org of [w.parent, w.team, w.sibling, strangerOrg]) expect(ids).toContain(org.id);
  });

  it('gives a member of a parent the parent role on its teams, and the highest role on the path', async () => {
    const t = use();
    const parentAdmin = await t.userWithKey();
    const parentMember = await t.userWithKey();
    const mixed = await t.userWithKey();
    const add = (org: string, userId: string, role: string) =>
      t.expect(
        201,
        t.post(`/v1/organizations/${org}/members`, { user_id: userId, role }, { key: w.owner.key }),
      );
    await add(w.parent.id, parentAdmin.user.id, 'admin');
    await add(w.parent.id, parentMember.user.id, 'member');
    await add(w.parent.id, mixed.user.id, 'viewer');
    await add(w.team.id, mixed.user.id, 'admin');

    // The parent's admin is an admin of the team and of the team's own team.
    const changed = await t.expect(
      200,
      t.patch(
        `/v1/organizations/${w.team.id}`,
        { friendly_name: 'By parent admin' },
        { key: parentAdmin.key },
      ),
    );
    expect(changed.friendly_name).toBe('By parent admin');
    await t.expect(200, t.get(`/v1/organizations/${w.grandchild.id}`, { key: parentAdmin.key }));
    await t.expect(200, t.get(`/v1/organizations/${w.team.id}/api-keys`, { key: parentAdmin.key }));
    const inherited = await t.expect(
      200,
      t.get(`/v1/organizations/${w.team.id}/members`, {
        key: parentAdmin.key,
        query: { include_inherited: true, limit: 100 },
      }),
    );
    const entry = inherited.data.find((m: any) => m.user_id === parentAdmin.user.id);
    expect(entry).toMatchObject({ role: 'admin', inherited: true, via_organization_id: w.parent.id });
    // Admin is not owner: deleting the top-level organization needs the owner role.
    expectEnvelope(
      await t.delete(`/v1/organizations/${w.parent.id}`, { key: parentAdmin.key }),
      403,
      'forbidden',
      'parent admin delete',
    );

    // The parent's plain member reads the teams but cannot change them.
    await t.expect(200, t.get(`/v1/organizations/${w.team.id}`, { key: parentMember.key }));
    await t.expect(200, t.get(`/v1/organizations/${w.grandchild.id}`, { key: parentMember.key }));
    expectEnvelope(
      await t.patch(`/v1/organizations/${w.team.id}`, { description: 'no' }, { key: parentMember.key }),
      403,
      'forbidden',
      'parent member patch',
    );

    // Viewer on the parent, admin on the team: admin below the team, viewer above it.
    await t.expect(
      200,
      t.patch(`/v1/organizations/${w.grandchild.id}`, { description: 'by mixed' }, { key: mixed.key }),
    );
    await t.expect(200, t.get(`/v1/organizations/${w.parent.id}`, { key: mixed.key }));
    expectEnvelope(
      await t.patch(`/v1/organizations/${w.parent.id}`, { description: 'no' }, { key: mixed.key }),
      403,
      'forbidden',
      'mixed on parent',
    );
    // The sibling is reached through the parent, with the parent's viewer role only.
    await t.expect(200, t.get(`/v1/organizations/${w.sibling.id}`, { key: mixed.key }));
    expectEnvelope(
      await t.patch(`/v1/organizations/${w.sibling.id}`, { description: 'no' }, { key: mixed.key }),
      403,
      'forbidden',
      'mixed on sibling',
    );

    // Removing the parent membership removes the inherited access at once.
    await t.expect(204, t.delete(`/v1/organizations/${w.parent.id}/members/${parentMember.user.id}`));
    expectEnvelope(
      await t.get(`/v1/organizations/${w.team.id}`, { key: parentMember.key }),
      404,
      'not_found',
      'after removal',
    );
  });

  it('refuses personal keys where the organization turned members_can_use_personal_api_keys off', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const orgKey = await t.organizationKey(org.id, owner.key);
    await t.expect(
      200,
      t.patch(
        `/v1/organizations/${org.id}`,
        { settings: { members_can_use_personal_api_keys: false } },
        { key: orgKey },
      ),
    );
    expectEnvelope(
      await t.get(`/v1/organizations/${org.id}`, { key: owner.key }),
      403,
      'personal_api_keys_disabled',
      'personal',
    );
    expectEnvelope(
      await t.get(`/v1/organizations/${team.id}/members`, { key: owner.key }),
      403,
      'personal_api_keys_disabled',
      'team',
    );
    // Organization keys and the admin key still work.
    await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: orgKey }));
    await t.expect(200, t.get(`/v1/organizations/${org.id}`));
  });
});
