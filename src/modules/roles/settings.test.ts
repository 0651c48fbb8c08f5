import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeEachDatabase, type Reply, type TestApp } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';
import { MIGRATIONS_FOLDER } from '../../db/migrate.js';

const roles = (org: string) => `/v1/organizations/${org}/roles`;
const organization = (org: string) => `/v1/organizations/${org}`;

async function failure(status: number, reply: Promise<Reply>) {
  const result = await reply;
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  return result.body.error as { code: string; param: string | null };
}

async function holder(t: TestApp, org: string, role: string) {
  const created = await t.userWithKey();
  await t.expect(201, t.post(members(org), { user_id: created.user.id, role }));
  return created;
}

describeEachDatabase('organization settings that take effect', (use) => {
  it('lets plain members add members at or below member only where members_can_invite is on', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    expect(
      (await t.expect(200, t.get(organization(org.id), { key: owner.key }))).settings.members_can_invite,
    ).toBe(false);
    await t.expect(201, t.post(roles(org.id), { key: 'helper', name: 'Helper', base_role: 'member' }));
    await t.expect(
      201,
      t.post(roles(org.id), {
        key: 'builder',
        name: 'Builder',
        base_role: 'member',
        permissions: ['project:manage'],
      }),
    );
    const plain = await holder(t, org.id, 'member');
    const viewer = await holder(t, org.id, 'viewer');
    const add = (key: string, role?: string) =>
      t
        .createUser()
        .then((user) => t.post(members(org.id), { user_id: user.id, ...(role ? { role } : {}) }, { key }));

    expect((await failure(403, add(plain.key, 'viewer'))).code).toBe('forbidden');
    await t.expect(
      200,
      t.patch(organization(org.id), { settings: { members_can_invite: null } }, { key: owner.key }),
    );
    await failure(403, add(plain.key, 'viewer'));

    await t.expect(
      200,
      t.patch(organization(org.id), { settings: { members_can_invite: true } }, { key: owner.key }),
    );
    for (const role of ['viewer', 'member', 'helper', undefined]) {
      const added = await t.expect(201, add(plain.key, role));
      expect(added.role).toBe(role ?? 'member');
    }
    for (const role of ['admin', 'owner', 'builder']) {
      expect((await failure(403, add(plain.key, role))).param).toBe('role');
    }
    // Adding is all it allows: no changes or removals of others, and viewers stay out.
    const added = await t.expect(201, add(plain.key, 'viewer'));
    await failure(403, t.patch(member(org.id, added.user_id), { role: 'member' }, { key: plain.key }));
    await failure(403, t.delete(member(org.id, added.user_id), { key: plain.key }));
    await failure(403, add(viewer.key, 'viewer'));
    // A team has its own setting.
    const team = await t.expect(
      201,
      t.post(`${organization(org.id)}/children`, { name: 'Own' }, { key: owner.key }),
    );
    expect(team.settings.members_can_invite).toBe(false);
    const user = await t.createUser();
    await failure(403, t.post(members(team.id), { user_id: user.id }, { key: plain.key }));
  });

  it('gives a new member the default_role_id when no role is named, validated when it is set', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const patchSettings = (ref: string, settings: Record<string, unknown>, key = owner.key) =>
      t.patch(organization(ref), { settings }, { key });
    await t.expect(200, patchSettings(org.id, { default_role_id: 'viewer' }));
    const user = await t.createUser();
    expect(
      (await t.expect(201, t.post(members(org.id), { user_id: user.id }, { key: owner.key }))).role,
    ).toBe('viewer');
    // A named role wins over the default.
    const named = await t.createUser();
    expect((await t.expect(201, t.post(members(org.id), { user_id: named.id, role: 'admin' }))).role).toBe(
      'admin',
    );

    // A custom role by key is stored as its id; the team may default to its parent's role.
    const guest = await t.expect(
      201,
      t.post(roles(org.id), { key: 'guest', name: 'Guest', base_role: 'viewer' }),
    );
    const set = await t.expect(200, patchSettings(team.id, { default_role_id: 'guest' }));
    expect(set.settings.default_role_id).toBe(guest.id);
    const teamUser = await t.createUser();
    const joined = await t.expect(
      201,
      t.post(members(team.id), { email: (await t.expect(200, t.get(`/v1/users/${teamUser.id}`))).email }),
    );
    expect(joined).toMatchObject({ role: 'guest', role_id: guest.id, base_role: 'viewer' });

    // Refused: no such role, owner, another organization's role; nothing changes.
    const unknown = await failure(400, patchSettings(team.id, { default_role_id: 'nobody' }));
    expect(unknown).toMatchObject({ code: 'unknown_role', param: 'settings.default_role_id' });
    expect((await failure(400, patchSettings(team.id, { default_role_id: 'owner' }))).param).toBe(
      'settings.default_role_id',
    );
    const other = await t.expect(
      201,
      t.post(roles(team.id), { key: 'team-only', name: 'T', base_role: 'member' }),
    );
    expect((await failure(400, patchSettings(org.id, { default_role_id: other.id }))).code).toBe(
      'unknown_role',
    );
    expect((await t.expect(200, t.get(organization(team.id)))).settings.default_role_id).toBe(guest.id);
    expect((await t.expect(200, t.get(organization(org.id)))).settings.default_role_id).toBe('viewer');

    // On create: a team may default to an ancestor's role; a new top-level organization only to a built-in one.
    const child = await t.expect(
      201,
      t.post(
        `${organization(org.id)}/children`,
        { name: 'Kid', settings: { default_role_id: 'guest' } },
        { key: owner.key },
      ),
    );
    expect(child.settings.default_role_id).toBe(guest.id);
    const top = await failure(
      400,
      t.post(
        '/v1/organizations',
        { name: 'Top', settings: { default_role_id: 'guest' } },
        { key: owner.key },
      ),
    );
    expect(top).toMatchObject({ code: 'unknown_role', param: 'settings.default_role_id' });
    await failure(
      400,
      t.post(
        '/v1/organizations',
        { name: 'Top', settings: { default_role_id: 'owner' } },
        { key: owner.key },
      ),
    );
    const builtin = await t.createOrganization(owner.key, { settings: { default_role_id: 'member' } });
    expect(builtin.settings.default_role_id).toBe('member');

    // A caller may only name a default it could grant: an organization:update holder below admin.
    await t.expect(
      201,
      t.post(roles(org.id), {
        key: 'editor',
        name: 'E',
        base_role: 'member',
        permissions: ['organization:update'],
      }),
    );
    const editor = await holder(t, org.id, 'editor');
    expect((await failure(403, patchSettings(org.id, { default_role_id: 'admin' }, editor.key))).param).toBe(
      'settings.default_role_id',
    );
    await t.expect(200, patchSettings(org.id, { default_role_id: 'member' }, editor.key));
    // Resending a default it could not set itself is no change, so other settings still save.
    await t.expect(200, patchSettings(org.id, { default_role_id: 'admin' }));
    const resent = await t.expect(
      200,
      patchSettings(org.id, { default_role_id: 'admin', default_anonymize_ips: true }, editor.key),
    );
    expect(resent.settings).toMatchObject({ default_role_id: 'admin', default_anonymize_ips: true });

    // A plain member adding under members_can_invite gets no further than its own rank through the default.
    await t.expect(200, patchSettings(org.id, { members_can_invite: true }));
    const plain = await holder(t, org.id, 'member');
    const refused = await failure(
      403,
      t.post(members(org.id), { user_id: (await t.createUser()).id }, { key: plain.key }),
    );
    expect(refused.param).toBe('role');
  });

  it('turns the old stored default of members_can_invite off in existing organizations', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    // As every organization was stored before the setting took effect.
    await t.database.db.query(
      `update organizations set settings = jsonb_set(settings, '{members_can_invite}', 'true') where id = $1`,
      [org.id],
    );
    const migration = readFileSync(join(MIGRATIONS_FOLDER, '0015_members_can_invite_off.sql'), 'utf8');
    await t.database.db.query(migration);
    for (const id of [org.id, team.id]) {
      const read = await t.expect(200, t.get(organization(id), { key: owner.key }));
      expect(read.settings.members_can_invite).toBe(false);
    }
  });
});
