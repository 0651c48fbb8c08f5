import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';

/** Every organization id the user's key lists, page by page. */
async function listedIds(t: TestApp, key: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const page: any = await t.expect(
      200,
      t.get('/v1/organizations', { key, query: { limit: 100, ...(cursor ? { cursor } : {}) } }),
    );
    ids.push(...page.data.map((org: any) => org.id));
    cursor = page.pagination.next_cursor;
    if (!page.pagination.has_more) return ids.sort();
  }
  throw new Error('too many pages');
}

/** The stored reach must equal what memberships and the tree say, for every user. */
async function expectReachConsistent(t: TestApp) {
  const drift = await t.database.db.query<{ user_id: string; organization_id: string }>(
    `with derived as (
       select distinct m.user_id, d.id as organization_id, d.root_id
         from organizations d join memberships m on m.organization_id = any(d.ancestor_ids || d.id))
     (select user_id, organization_id from derived
      except select user_id, organization_id from user_organizations)
     union all
     (select user_id, organization_id from user_organizations
      except select user_id, organization_id from derived)`,
  );
  expect(drift).toEqual([]);
}

const team = (t: TestApp, parent: string, key: string) =>
  t.expect(201, t.post(`/v1/organizations/${parent}/children`, { name: t.unique('Team') }, { key }));

describeEachDatabase("a user's organization list follows memberships and the tree", (use) => {
  it('gains teams created later, loses them with the membership, and keeps what another path reaches', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const user = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: user.user.id, role: 'member' }, { key: owner.key }),
    );
    const later = await team(t, org.id, owner.key);
    const grandchild = await team(t, later.id, owner.key);
    expect(await listedIds(t, user.key)).toContain(grandchild.id);
    expect((await listedIds(t, user.key)).length).toBe(4);

    // A direct membership on the team survives losing the parent membership.
    await t.expect(
      201,
      t.post(members(later.id), { user_id: user.user.id, role: 'viewer' }, { key: owner.key }),
    );
    await t.expect(204, t.delete(member(org.id, user.user.id), { key: owner.key }));
    expect(await listedIds(t, user.key)).toEqual([later.id, grandchild.id].sort());
    await t.expect(204, t.delete(member(later.id, user.user.id), { key: owner.key }));
    expect(await listedIds(t, user.key)).toEqual([]);
    await expectReachConsistent(t);
  });

  it('moves reach with a moved subtree', async () => {
    const t = use();
    const a = await t.ownerWithTeam();
    const b = await t.ownerWithTeam();
    const moved = await team(t, a.team.id, a.owner.key);
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(a.org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: a.owner.key }),
    );
    // An admin key moves the subtree so neither owner needs rights on the other's tree.
    await t.expect(200, t.post(`/v1/organizations/${a.team.id}/move`, { parent_organization_id: b.org.id }));
    expect(await listedIds(t, b.owner.key)).toEqual(expect.arrayContaining([a.team.id, moved.id]));
    expect(await listedIds(t, viewer.key)).toEqual([a.org.id]);
    await expectReachConsistent(t);
  });

  it('drops a deleted user and hides deleted organizations until restored', async () => {
    const t = use();
    const { owner, org, team: child } = await t.ownerWithTeam();
    const user = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: user.user.id, role: 'member' }, { key: owner.key }),
    );
    await t.expect(204, t.delete(`/v1/organizations/${child.id}`, { key: owner.key }));
    expect(await listedIds(t, user.key)).toEqual([org.id]);
    await t.expect(200, t.post(`/v1/organizations/${child.id}/restore`, {}, { key: owner.key }));
    expect(await listedIds(t, user.key)).toEqual([org.id, child.id].sort());
    await t.expect(204, t.delete(`/v1/users/${user.user.id}`));
    await expectReachConsistent(t);
  });

  it('stays exact when teams are created while members join the parent', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const joiners = await Promise.all(Array.from({ length: 6 }, () => t.createUser()));
    await Promise.all([
      ...joiners.map((u) =>
        t.expect(201, t.post(members(org.id), { user_id: u.id, role: 'member' }, { key: owner.key })),
      ),
      ...Array.from({ length: 6 }, () => team(t, org.id, owner.key)),
    ]);
    await expectReachConsistent(t);
  });
});
