import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';
import type { Queryable } from '../../db/client.js';
import { listDirectMembers } from './queries.js';

const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });

/** An organization with a member of each role; the member's membership carries both objects. */
async function staffed(t: TestApp) {
  const owner = await t.userWithKey();
  const org = await t.createOrganization(owner.key);
  const staff: Record<string, { user: any; key: string }> = { owner };
  for (const role of ['admin', 'member', 'viewer']) {
    const person = await t.userWithKey();
    await t.expect(
      201,
      t.post(
        members(org.id),
        {
          user_id: person.user.id,
          role,
          public_metadata: { title: role },
          private_metadata: { salary_band: role === 'member' ? 'B' : 'C' },
        },
        { key: owner.key },
      ),
    );
    staff[role] = person;
  }
  return { org, staff, orgKey: await t.organizationKey(org.id) };
}

describeEachDatabase('membership metadata', (use) => {
  it('shows private membership metadata to owners, admins, organization keys and admin keys only', async () => {
    const t = use();
    const { org, staff, orgKey } = await staffed(t);
    const target = member(org.id, staff.member!.user.id);
    for (const [who, key] of Object.entries({
      owner: staff.owner!.key,
      admin: staff.admin!.key,
      orgKey,
      adminKey: ADMIN_KEY,
    })) {
      const one = await t.expect(200, t.get(target, { key }));
      expect(one, who).toMatchObject({
        public_metadata: { title: 'member' },
        private_metadata: { salary_band: 'B' },
      });
      const list = await t.expect(200, t.get(members(org.id), { key }));
      expect(
        list.data.every((m: any) => 'private_metadata' in m),
        who,
      ).toBe(true);
    }
    for (const who of ['member', 'viewer']) {
      const key = staff[who]!.key;
      const one = await t.expect(200, t.get(target, { key }));
      expect(one.public_metadata, who).toEqual({ title: 'member' });
      expect(one, who).not.toHaveProperty('private_metadata');
      const list = await t.expect(200, t.get(members(org.id), { key }));
      expect(
        list.data.some((m: any) => 'private_metadata' in m),
        who,
      ).toBe(false);
      expect(list.data.find((m: any) => m.user_id === staff.admin!.user.id).public_metadata).toEqual({
        title: 'admin',
      });
    }
  });

  it('with include_inherited, shows private metadata of memberships in organizations the caller administers', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const root = await t.createOrganization(owner.key);
    // Made with the admin key, so the owner holds no membership of its own on the team.
    const team = await t.expect(201, t.post(`/v1/organizations/${root.id}/children`, { name: 'T' }));
    const lead = await t.userWithKey();
    await t.expect(
      201,
      t.post(
        members(team.id),
        { user_id: lead.user.id, role: 'admin', private_metadata: { on: 'team' } },
        { key: owner.key },
      ),
    );
    await t.expect(
      200,
      t.patch(member(root.id, owner.user.id), { private_metadata: { on: 'root' } }, { key: owner.key }),
    );

    const seen = async (key: string) => {
      const page = await t.expect(200, t.get(members(team.id), { key, query: { include_inherited: true } }));
      return Object.fromEntries(page.data.map((m: any) => [m.user_id, m.private_metadata?.on ?? null]));
    };
    expect(await seen(lead.key)).toEqual({ [owner.user.id]: null, [lead.user.id]: 'team' });
    expect(await seen(owner.key)).toEqual({ [owner.user.id]: 'root', [lead.user.id]: 'team' });
    expect(await seen(await t.organizationKey(team.id))).toEqual({
      [owner.user.id]: null,
      [lead.user.id]: 'team',
    });
    expect(await seen(ADMIN_KEY)).toEqual({ [owner.user.id]: 'root', [lead.user.id]: 'team' });
  });

  it('lets admins write membership metadata on add and PATCH, each object replaced whole, the role kept', async () => {
    const t = use();
    const { org, staff } = await staffed(t);
    const target = member(org.id, staff.viewer!.user.id);
    const patched = await t.expect(
      200,
      t.patch(target, { public_metadata: { team: 'ops' } }, { key: staff.admin!.key }),
    );
    expect(patched).toMatchObject({
      role: 'viewer',
      public_metadata: { team: 'ops' },
      private_metadata: { salary_band: 'C' },
    });
    const both = await t.expect(
      200,
      t.patch(target, { role: 'member', private_metadata: {} }, { key: staff.owner!.key }),
    );
    expect(both).toMatchObject({ role: 'member', public_metadata: { team: 'ops' }, private_metadata: {} });

    for (const who of ['member', 'viewer']) {
      const refused = await t.patch(target, { private_metadata: { taken: true } }, { key: staff[who]!.key });
      expect(refused.status, who).toBe(403);
    }
    // An admin manages members at or below its role: the owner's membership is out of its reach.
    const ownerRow = member(org.id, staff.owner!.user.id);
    expect((await t.patch(ownerRow, { public_metadata: { x: 1 } }, { key: staff.admin!.key })).status).toBe(
      403,
    );
    expect((await t.expect(200, t.get(ownerRow))).public_metadata).toEqual({});
    expect((await t.expect(200, t.get(target))).private_metadata).toEqual({});

    const trail = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, {
        key: staff.owner!.key,
        query: { action: 'member.updated' },
      }),
    );
    expect(trail.data.map((e: any) => e.changes.private_metadata ?? null)).toEqual([
      null,
      { before: { salary_band: 'C' }, after: {} },
    ]);
  });

  it('refuses membership metadata over 16 KB or nested too deep with 400 naming the field, changing nothing', async () => {
    const t = use();
    const { org, staff } = await staffed(t);
    const newcomer = await t.createUser();
    const target = member(org.id, staff.viewer!.user.id);
    for (const field of ['public_metadata', 'private_metadata']) {
      for (const value of [{ blob: 'x'.repeat(17 * 1024) }, nested(40)]) {
        const added = await t.post(members(org.id), { user_id: newcomer.id, [field]: value });
        expect(added.status).toBe(400);
        expect(added.body.error).toMatchObject({ code: 'invalid_request', param: field });
        const patched = await t.patch(target, { [field]: value });
        expect(patched.status).toBe(400);
        expect(patched.body.error.param).toBe(field);
      }
    }
    expect((await t.get(member(org.id, newcomer.id))).status).toBe(404);
    expect(await t.expect(200, t.get(target))).toMatchObject({
      public_metadata: { title: 'viewer' },
      private_metadata: { salary_band: 'C' },
    });
  });
});

describeEachDatabase('member search', (use) => {
  it('finds members by a substring of email or name in any case, with role filters and pages', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const people = [
      ['ada.lovelace@analytical.example', 'Ada Lovelace', 'admin'],
      ['grace@navy.example', 'Grace Hopper', 'member'],
      ['alan@bletchley.example', 'Alan Turing', 'member'],
      ['edsger@eindhoven.example', null, 'viewer'],
      ['under_score%@odd.example', 'Per Cent', 'member'],
    ] as const;
    const ids: Record<string, string> = {};
    for (const [email, name, role] of people) {
      const user = await t.createUser(email, name ?? undefined);
      ids[email] = user.id;
      await t.expect(201, t.post(members(org.id), { user_id: user.id, role }));
    }
    const outsider = await t.createUser('ada.outsider@analytical.example', 'Ada Outsider');
    const search = async (query: Record<string, string | number | boolean>) =>
      (await t.expect(200, t.get(members(org.id), { key: owner.key, query: { limit: 100, ...query } }))).data
        .map((m: any) => m.email)
        .sort();

    expect(await search({ search: 'ADA' })).toEqual(['ada.lovelace@analytical.example']);
    expect(await search({ search: 'hopper' })).toEqual(['grace@navy.example']);
    expect(await search({ search: 'eindhoven' })).toEqual(['edsger@eindhoven.example']);
    // Every address ends in example: all five and the owner.
    expect(await search({ search: 'EXA' })).toHaveLength(6);
    expect(await search({ search: 'exa', role: 'member' })).toEqual([
      'alan@bletchley.example',
      'grace@navy.example',
      'under_score%@odd.example',
    ]);
    // LIKE's wildcards are plain characters here: `e_s` would match "edsger" and `e%@` every address.
    expect(await search({ search: 'e_s' })).toEqual([]);
    expect(await search({ search: 'r_s' })).toEqual(['under_score%@odd.example']);
    expect(await search({ search: 'e%@' })).toEqual(['under_score%@odd.example']);
    expect(await search({ search: 'nobody' })).toEqual([]);
    expect(await search({ search: 'outsider' })).toEqual([]);
    expect(outsider.id).toBeTruthy();

    const first = await t.expect(
      200,
      t.get(members(org.id), { key: owner.key, query: { search: 'example', limit: 2 } }),
    );
    const seen = first.data.map((m: any) => m.user_id);
    let cursor = first.pagination.next_cursor;
    while (cursor) {
      const next = await t.expect(
        200,
        t.get(members(org.id), { key: owner.key, query: { search: 'example', limit: 2, cursor } }),
      );
      seen.push(...next.data.map((m: any) => m.user_id));
      cursor = next.pagination.next_cursor;
    }
    expect(seen).toEqual(Object.values(ids).concat(owner.user.id).sort());

    const team = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'T' }));
    const inherited = await t.expect(
      200,
      t.get(members(team.id), { key: owner.key, query: { search: 'turing', include_inherited: true } }),
    );
    expect(inherited.data.map((m: any) => [m.email, m.inherited])).toEqual([
      ['alan@bletchley.example', true],
    ]);

    for (const bad of ['', 'ad', 'x'.repeat(101)]) {
      const reply = await t.get(members(org.id), { key: owner.key, query: { search: bad } });
      expect(reply.status).toBe(400);
      expect(reply.body.error.param).toBe('search');
    }
  });
});

describeEachDatabase('member search plan', (use) => {
  it('can be answered from the trigram indexes on users (and so skip reading every membership)', async () => {
    const t = use();
    const plan = await t.database.db.transaction(async (tx) => {
      // A test database is too small for the planner to prefer it by itself: left only bitmap
      // scans and hash joins, it must find the matching users through an index of their text.
      for (const setting of ['seqscan', 'indexscan', 'nestloop', 'mergejoin']) {
        await tx.query(`set local enable_${setting} = off`);
      }
      const explaining: Queryable = {
        query: async (text, params) => (await tx.query(`explain ${text}`, params)) as never[],
      };
      const rows = await listDirectMembers(
        explaining,
        '01900000-0000-7000-8000-000000000000',
        { search: 'lovelace' },
        { limit: 20, offset: 0 },
      );
      return (rows as unknown as Record<string, string>[]).map((row) => Object.values(row)[0]).join('\n');
    });
    expect(plan).toContain('users_email_trgm_idx');
    expect(plan).toContain('users_name_trgm_idx');
  });
});
