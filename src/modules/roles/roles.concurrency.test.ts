import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';

const roles = (org: string) => `/v1/organizations/${org}/roles`;

/** Every way a membership or a setting could point at a role it must not: none may exist. */
async function danglingReferences(t: TestApp) {
  const [row] = await t.database.db.query<Record<string, number>>(
    `select (select count(*)::int from memberships m join roles r on r.id = m.custom_role_id
              where r.deleted_at is not null) as held_deleted,
            (select count(*)::int from organizations o join roles r on r.id::text = o.settings->>'default_role_id'
              where r.deleted_at is not null) as default_deleted,
            (select count(*)::int from memberships m join roles r on r.id = m.custom_role_id
              where m.role <> r.base_role) as rank_drift,
            (select count(*)::int from memberships m join roles r on r.id = m.custom_role_id
               join organizations o on o.id = m.organization_id
              where not (r.organization_id = o.id or r.organization_id = any(o.ancestor_ids))) as off_path`,
  );
  return row;
}

/** Starts `request` after `ms`, so the rounds of a race alternate which side usually gets there first. */
const later = <T>(ms: number, request: () => Promise<T>) =>
  new Promise<T>((done, fail) => setTimeout(() => request().then(done, fail), ms));

const CLEAN = { held_deleted: 0, default_deleted: 0, rank_drift: 0, off_path: 0 };

describeEachDatabase('roles under concurrency', (use) => {
  it('never leaves a membership on a deleted role when a delete races grants of it', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const existing = await t.createUser();
    await t.expect(201, t.post(members(org.id), { user_id: existing.id, role: 'viewer' }));
    for (let round = 0; round < 8; round++) {
      const role = await t.expect(
        201,
        t.post(roles(org.id), { key: `racy-${round}`, name: 'Racy', base_role: 'member' }),
      );
      const newcomer = await t.createUser();
      const [change, add, remove] = await Promise.all([
        t.patch(member(org.id, existing.id), { role: role.key }, { key: owner.key }),
        t.post(members(org.id), { user_id: newcomer.id, role: role.id }, { key: owner.key }),
        later(round % 2 ? 0 : 20, () => t.delete(`${roles(org.id)}/${role.id}`, { key: owner.key })),
      ]);
      if (remove.status === 204) {
        // Deleted first: both grants found no such role.
        expect([change.body.error?.code, add.body.error?.code]).toEqual(['unknown_role', 'unknown_role']);
      } else {
        expect(remove.status).toBe(409);
        expect(remove.body.error.code).toBe('role_in_use');
        // Deleted last: at least one grant went in first, and each grant either went in or found no role.
        expect(change.status === 200 || add.status === 201).toBe(true);
        expect([200, 400]).toContain(change.status);
        expect([201, 400]).toContain(add.status);
      }
      expect(await danglingReferences(t)).toEqual(CLEAN);
      await t.expect(200, t.patch(member(org.id, existing.id), { role: 'viewer' }));
      if (add.status === 201) await t.expect(204, t.delete(member(org.id, newcomer.id)));
    }
  });

  it('never leaves a default_role_id on a deleted role when a delete races the setting', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    for (let round = 0; round < 8; round++) {
      const role = await t.expect(
        201,
        t.post(roles(org.id), { key: `default-${round}`, name: 'Default', base_role: 'viewer' }),
      );
      const [set, remove] = await Promise.all([
        t.patch(
          `/v1/organizations/${team.id}`,
          { settings: { default_role_id: role.key } },
          { key: owner.key },
        ),
        later(round % 2 ? 0 : 20, () => t.delete(`${roles(org.id)}/${role.id}`, { key: owner.key })),
      ]);
      expect([set.status, remove.status]).toEqual(set.status === 200 ? [200, 409] : [400, 204]);
      expect(await danglingReferences(t)).toEqual(CLEAN);
      await t.expect(200, t.patch(`/v1/organizations/${team.id}`, { settings: { default_role_id: null } }));
    }
  });

  it("keeps every holder's rank equal to the role's base role while it changes under grants", async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const role = await t.expect(
      201,
      t.post(roles(org.id), { key: 'shifting', name: 'S', base_role: 'viewer' }),
    );
    const bases = ['admin', 'member', 'viewer', 'admin'];
    for (const base of bases) {
      const users = await Promise.all(Array.from({ length: 4 }, () => t.createUser()));
      const replies = await Promise.all([
        t.patch(`${roles(org.id)}/${role.id}`, { base_role: base }, { key: owner.key }),
        ...users.map((user, i) =>
          t.post(
            members(i % 2 ? org.id : team.id),
            { user_id: user.id, role: 'shifting' },
            { key: owner.key },
          ),
        ),
      ]);
      expect(replies.map((reply) => reply.status)).toEqual([200, 201, 201, 201, 201]);
      expect(await danglingReferences(t)).toEqual(CLEAN);
      const listed = await t.expect(200, t.get(members(team.id), { query: { limit: 100 } }));
      for (const row of listed.data.filter((m: any) => m.role === 'shifting'))
        expect(row.base_role).toBe(base);
    }
  });

  it('never strands a member on a role of an organization its subtree moved away from', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    await t.expect(201, t.post(roles(org.id), { key: 'parental', name: 'P', base_role: 'member' }));
    for (let round = 0; round < 6; round++) {
      const user = await t.createUser();
      const [move, add] = await Promise.all([
        later(round % 2 ? 0 : 20, () =>
          t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: null }, { key: owner.key }),
        ),
        later(round % 2 ? 20 : 0, () =>
          t.post(members(team.id), { user_id: user.id, role: 'parental' }, { key: owner.key }),
        ),
      ]);
      if (move.status === 200) {
        expect(add.status).toBe(400);
        expect(add.body.error.code).toBe('unknown_role');
        await t.expect(
          200,
          t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: org.id }, { key: owner.key }),
        );
      } else {
        expect([move.status, move.body.error.code, add.status]).toEqual([409, 'role_in_use', 201]);
        await t.expect(204, t.delete(member(team.id, user.id)));
      }
      expect(await danglingReferences(t)).toEqual(CLEAN);
    }
  });
});
