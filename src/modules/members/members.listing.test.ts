import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { allMembers, member, members } from '../../../test/helpers/members.js';

/** Adds a member with the admin key. */
async function add(t: TestApp, org: string, body: Record<string, unknown>) {
  return t.expect(201, t.post(members(org), body));
}

describeEachDatabase('member lists', (use) => {
  it('lists inherited members once each with the highest role, and filters by role', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const team = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'T' }));
    const sub = await t.expect(201, t.post(`/v1/organizations/${team.id}/children`, { name: 'S' }));
    const [a, m, x, v] = [
      await t.createUser(),
      await t.createUser(),
      await t.createUser(),
      await t.createUser(),
    ];
    await add(t, org.id, { user_id: a.id, role: 'admin' });
    await add(t, org.id, { user_id: m.id, role: 'member' });
    await add(t, team.id, { user_id: a.id, role: 'owner' }); // higher on the team: the team's role wins
    await add(t, team.id, { user_id: m.id, role: 'viewer' }); // lower on the team: the parent's role wins
    await add(t, team.id, { user_id: x.id, role: 'member' });
    await add(t, sub.id, { user_id: v.id, role: 'viewer' });
    await add(t, sub.id, { user_id: x.id, role: 'member' }); // a tie: the nearest organization wins

    const direct = await t.expect(200, t.get(members(team.id), { key: owner.key }));
    expect(direct.data.map((r: any) => [r.user_id, r.role, r.inherited]).sort()).toEqual(
      [
        [a.id, 'owner', false],
        [m.id, 'viewer', false],
        [x.id, 'member', false],
      ].sort(),
    );

    const all = await t.expect(
      200,
      t.get(members(team.id), { key: owner.key, query: { include_inherited: true } }),
    );
    const shape = (r: any) => [r.user_id, r.role, r.inherited, r.via_organization_id, r.organization_id];
    expect(all.data.map(shape).sort()).toEqual(
      [
        [owner.user.id, 'owner', true, org.id, team.id], // the admin key made the team: no direct owner
        [a.id, 'owner', false, team.id, team.id],
        [m.id, 'member', true, org.id, team.id],
        [x.id, 'member', false, team.id, team.id],
      ].sort(),
    );

    const deep = await t.expect(200, t.get(members(sub.slug), { query: { include_inherited: true } }));
    expect(deep.data.map((r: any) => [r.user_id, r.role, r.via_organization_id]).sort()).toEqual(
      [
        [owner.user.id, 'owner', org.id],
        [a.id, 'owner', team.id],
        [m.id, 'member', org.id],
        [x.id, 'member', sub.id],
        [v.id, 'viewer', sub.id],
      ].sort(),
    );
    expect(new Set(deep.data.map((r: any) => r.user_id)).size).toBe(deep.data.length);

    const owners = await t.expect(
      200,
      t.get(members(sub.id), { query: { include_inherited: true, role: 'owner' } }),
    );
    expect(owners.data.map((r: any) => r.user_id).sort()).toEqual([owner.user.id, a.id].sort());
    const viewers = await t.expect(
      200,
      t.get(members(team.id), { query: { include_inherited: true, role: 'viewer' } }),
    );
    expect(viewers.data).toEqual([]);
    const directViewers = await t.expect(200, t.get(members(team.id), { query: { role: 'viewer' } }));
    expect(directViewers.data.map((r: any) => r.user_id)).toEqual([m.id]);
    const subDirect = await t.expect(200, t.get(members(sub.id)));
    expect(subDirect.data.map((r: any) => r.user_id).sort()).toEqual([x.id, v.id].sort());
    // A single membership is read on the organization itself, never through an ancestor.
    expect((await t.get(member(sub.id, m.id))).status).toBe(404);
  });

  it('pages 25 members with cursors both ways and with offsets, without gaps or duplicates', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    for (let i = 0; i < 24; i++) {
      await t.expect(
        201,
        t.post(members(org.id), { email: `${t.unique('p')}@example.com` }, { key: owner.key }),
      );
    }
    const expected = (await allMembers(t, org.id)).map((m) => m.user_id);
    expect(expected).toHaveLength(25);
    expect([...expected].sort()).toEqual(expected);

    const forward: string[][] = [];
    let cursor: string | undefined;
    let last: any;
    do {
      last = await t.expect(
        200,
        t.get(members(org.slug), { key: owner.key, query: { limit: 10, ...(cursor ? { cursor } : {}) } }),
      );
      expect(last.pagination.limit).toBe(10);
      expect(last.pagination.prev_cursor === null).toBe(forward.length === 0);
      forward.push(last.data.map((m: any) => m.user_id));
      cursor = last.pagination.next_cursor ?? undefined;
    } while (last.pagination.has_more);
    expect(forward.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(forward.flat()).toEqual(expected);

    const backward: string[][] = [];
    let before: string | null = last.pagination.prev_cursor;
    while (before) {
      const page: any = await t.expect(
        200,
        t.get(members(org.id), {
          key: owner.key,
          query: { limit: 10, cursor: before, direction: 'backward' },
        }),
      );
      backward.unshift(page.data.map((m: any) => m.user_id));
      before = page.pagination.has_more ? page.pagination.prev_cursor : null;
    }
    expect([...backward, forward[2]]).toEqual(forward);

    const byOffset: string[] = [];
    for (const offset of [0, 10, 20]) {
      const page = await t.expect(
        200,
        t.get(members(org.id), { key: owner.key, query: { limit: 10, offset } }),
      );
      expect(page.pagination.has_more).toBe(offset < 20);
      byOffset.push(...page.data.map((m: any) => m.user_id));
    }
    expect(byOffset).toEqual(expected);

    const bad = await t.get(members(org.id), { key: owner.key, query: { cursor: 'not-a-cursor' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_cursor', param: 'cursor' });
    const both = await t.get(members(org.id), {
      key: owner.key,
      query: { cursor: last.pagination.prev_cursor, offset: 1 },
    });
    expect(both.status).toBe(400);
    const tooMany = await t.get(members(org.id), { key: owner.key, query: { limit: 101 } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.param).toBe('limit');
  });

  it('pages inherited members with cursors and offsets, each person once', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const team = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'T' }));
    const users = [];
    for (let i = 0; i < 24; i++) users.push(await t.createUser());
    // Half belong to the parent, a third to the team, some to both with different roles.
    for (const [i, user] of users.entries()) {
      if (i % 2 === 0) await t.expect(201, t.post(members(org.id), { user_id: user.id, role: 'viewer' }));
      if (i % 3 === 0) await t.expect(201, t.post(members(team.id), { user_id: user.id, role: 'admin' }));
      if (i % 2 && i % 3) await t.expect(201, t.post(members(org.id), { user_id: user.id, role: 'member' }));
    }
    const expected = [owner.user.id, ...users.map((u) => u.id)].sort();
    const collected: any[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page: any = await t.expect(
        200,
        t.get(members(team.id), {
          query: { limit: 10, include_inherited: true, ...(cursor ? { cursor } : {}) },
        }),
      );
      collected.push(...page.data);
      if (!page.pagination.has_more) break;
      cursor = page.pagination.next_cursor;
    }
    expect(collected.map((m) => m.user_id)).toEqual(expected);
    for (const row of collected) {
      const i = users.findIndex((u) => u.id === row.user_id);
      if (i % 3 === 0)
        expect(row).toMatchObject({ role: 'admin', inherited: false, via_organization_id: team.id });
      else expect(row.inherited).toBe(true);
    }
    const offsets: string[] = [];
    for (const offset of [0, 10, 20]) {
      const page = await t.expect(
        200,
        t.get(members(team.id), { query: { limit: 10, offset, include_inherited: true } }),
      );
      offsets.push(...page.data.map((m: any) => m.user_id));
    }
    expect(offsets).toEqual(expected);
    const back = await t.expect(
      200,
      t.get(members(team.id), {
        query: { limit: 10, include_inherited: true, cursor: cursor!, direction: 'backward' },
      }),
    );
    expect(back.data.map((m: any) => m.user_id)).toEqual(expected.slice(9, 19));
    const admins = await t.expect(
      200,
      t.get(members(team.id), { query: { include_inherited: true, role: 'admin', limit: 3 } }),
    );
    expect(admins.data.map((m: any) => m.user_id)).toEqual(
      users
        .filter((_, i) => i % 3 === 0)
        .map((u) => u.id)
        .sort()
        .slice(0, 3),
    );
    expect(admins.pagination.has_more).toBe(true);
  });
});
