import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { allMembers, member, members } from '../../../test/helpers/members.js';

const statuses = (replies: { status: number }[]) => replies.map((reply) => reply.status).sort();

/** An organization owned by two users with personal keys. */
async function twoOwners(t: TestApp) {
  const first = await t.userWithKey();
  const second = await t.userWithKey();
  const org = await t.createOrganization(first.key);
  await t.expect(201, t.post(members(org.id), { user_id: second.user.id, role: 'owner' }));
  return { org, first, second };
}

async function owners(t: TestApp, org: string) {
  const page = await t.expect(200, t.get(members(org), { query: { role: 'owner' } }));
  return page.data.map((m: any) => m.user_id as string);
}

describeEachDatabase('members under concurrency', (use) => {
  it('adds the same user once when 50 requests race', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const user = await t.createUser();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.post(members(org.id), { user_id: user.id, role: i % 2 ? 'admin' : 'viewer' }, { key: owner.key }),
      ),
    );
    expect(statuses(replies)).toEqual([201, ...Array(49).fill(409)]);
    for (const reply of replies.filter((r) => r.status === 409)) {
      expect(reply.body.error.code).toBe('already_member');
    }
    const rows = (await allMembers(t, org.id)).filter((m) => m.user_id === user.id);
    expect(rows).toHaveLength(1);
    const winner = replies.find((r) => r.status === 201)!.body;
    expect(rows[0].role).toBe(winner.role);
  });

  it('creates one user when 20 requests add the same unknown email', async () => {
    const t = use();
    const org = await t.createOrganization((await t.userWithKey()).key);
    const email = `${t.unique('race')}@example.com`;
    const replies = await Promise.all(Array.from({ length: 20 }, () => t.post(members(org.id), { email })));
    expect(statuses(replies)).toEqual([201, ...Array(19).fill(409)]);
    const users = await t.expect(200, t.get('/v1/users', { query: { email } }));
    expect(users.data).toHaveLength(1);
    const rows = (await allMembers(t, org.id)).filter((m) => m.email === email);
    expect(rows.map((m) => m.user_id)).toEqual([users.data[0].id]);
  });

  it('creates one user per email when different organizations race to add it', async () => {
    const t = use();
    const key = (await t.userWithKey()).key;
    const orgs = [];
    for (let i = 0; i < 6; i++) orgs.push(await t.createOrganization(key));
    const email = `${t.unique('spread')}@example.com`;
    const replies = await Promise.all(orgs.map((org) => t.post(members(org.id), { email }, { key })));
    expect(statuses(replies)).toEqual(Array(6).fill(201));
    const users = await t.expect(200, t.get('/v1/users', { query: { email } }));
    expect(users.data).toHaveLength(1);
    expect(new Set(replies.map((r) => r.body.user_id))).toEqual(new Set([users.data[0].id]));
  });

  it('keeps exactly one owner when 50 owners are demoted or removed at once', async () => {
    const t = use();
    const first = await t.userWithKey();
    const org = await t.createOrganization(first.key);
    const others = await Promise.all(Array.from({ length: 49 }, () => t.createUser()));
    for (const user of others) {
      await t.expect(201, t.post(members(org.id), { user_id: user.id, role: 'owner' }));
    }
    const everyone = [first.user.id, ...others.map((user) => user.id)];
    const ownerIds = async () =>
      (await allMembers(t, org.id)).filter((m) => m.role === 'owner').map((m) => m.user_id);
    expect((await ownerIds()).sort()).toEqual([...everyone].sort());
    // Half are demoted, half removed, all at once: every change but the last one left is allowed.
    const replies = await Promise.all(
      everyone.map((userId, i) =>
        i % 2 ? t.delete(member(org.id, userId)) : t.patch(member(org.id, userId), { role: 'admin' }),
      ),
    );
    const refused = replies.filter((reply) => reply.status >= 400);
    expect(refused.map((reply) => [reply.status, reply.body.error.code])).toEqual([[409, 'last_owner']]);
    expect(replies.filter((reply) => reply.status === 200 || reply.status === 204)).toHaveLength(49);
    // The refused one is the owner left; everyone else was demoted to admin or is gone.
    const kept = replies.indexOf(refused[0]!);
    expect(await ownerIds()).toEqual([everyone[kept]]);
    const rows = await allMembers(t, org.id);
    const admins = kept % 2 ? 25 : 24;
    expect(rows.filter((m) => m.role === 'admin')).toHaveLength(admins);
    expect(rows).toHaveLength(1 + admins);
  });

  it('keeps an owner when both owners are demoted at once, round after round', async () => {
    const t = use();
    const { org, first, second } = await twoOwners(t);
    for (let round = 0; round < 6; round++) {
      // Alternate between the admin key demoting both and each owner demoting the other. Once one
      // demotion is in, the other owner is an admin: demoting an owner is then beyond its role.
      const mutual = round % 2 === 1;
      const keys = mutual ? [second.key, first.key] : [undefined, undefined];
      const replies = await Promise.all([
        t.patch(member(org.id, first.user.id), { role: 'admin' }, { key: keys[0] }),
        t.patch(member(org.id, second.user.id), { role: 'admin' }, { key: keys[1] }),
      ]);
      const refused = mutual ? { status: 403, code: 'forbidden' } : { status: 409, code: 'last_owner' };
      expect(statuses(replies)).toEqual([200, refused.status].sort());
      expect(replies.find((r) => r.status !== 200)!.body.error.code).toBe(refused.code);
      const left = await owners(t, org.id);
      expect(left).toHaveLength(1);
      const demoted = left[0] === first.user.id ? second.user.id : first.user.id;
      expect(replies.find((r) => r.status === 200)!.body.user_id).toBe(demoted);
      await t.expect(200, t.patch(member(org.id, demoted), { role: 'owner' }));
    }
  });

  it('never lets an owner act with a role taken from it by a change it waited for', async () => {
    const t = use();
    const { org, first, second } = await twoOwners(t);
    const third = await t.createUser();
    await t.expect(201, t.post(members(org.id), { user_id: third.id, role: 'owner' }));
    for (let round = 0; round < 6; round++) {
      // The first owner demotes the second while the second removes the first. Run one after the
      // other in either order, exactly one of them succeeds.
      const [demote, remove] = await Promise.all([
        t.patch(member(org.id, second.user.id), { role: 'member' }, { key: first.key }),
        t.delete(member(org.id, first.user.id), { key: second.key }),
      ]);
      if (demote.status === 200) {
        expect(remove.status).toBe(403);
        expect(remove.body.error.code).toBe('forbidden');
      } else {
        expect(remove.status).toBe(204);
        expect(demote.status).toBe(404);
      }
      const roles = Object.fromEntries((await allMembers(t, org.id)).map((m) => [m.user_id, m.role]));
      expect(roles[third.id]).toBe('owner');
      if (demote.status === 200)
        expect(roles).toMatchObject({ [first.user.id]: 'owner', [second.user.id]: 'member' });
      else expect(roles[first.user.id]).toBeUndefined();
      // Back to three owners for the next round.
      await t.call('POST', members(org.id), { body: { user_id: first.user.id, role: 'owner' } });
      await t.expect(200, t.patch(member(org.id, first.user.id), { role: 'owner' }));
      await t.expect(200, t.patch(member(org.id, second.user.id), { role: 'owner' }));
    }
  });

  it('keeps an owner when both owners are removed at once, round after round', async () => {
    const t = use();
    const { org, first, second } = await twoOwners(t);
    for (let round = 0; round < 6; round++) {
      // Alternate between the admin key removing both and both owners leaving.
      const keys = round % 2 ? [first.key, second.key] : [undefined, undefined];
      const replies = await Promise.all([
        t.delete(member(org.id, first.user.id), { key: keys[0] }),
        t.delete(member(org.id, second.user.id), { key: keys[1] }),
      ]);
      expect(statuses(replies)).toEqual([204, 409]);
      expect(replies.find((r) => r.status === 409)!.body.error.code).toBe('last_owner');
      const left = await owners(t, org.id);
      expect(left).toHaveLength(1);
      const gone = left[0] === first.user.id ? second.user.id : first.user.id;
      expect((await allMembers(t, org.id)).map((m) => m.user_id)).toEqual(left);
      await t.expect(201, t.post(members(org.id), { user_id: gone, role: 'owner' }));
    }
  });

  it('keeps an owner when one owner is demoted while the other is removed', async () => {
    const t = use();
    const { org, first, second } = await twoOwners(t);
    for (let round = 0; round < 4; round++) {
      const replies = await Promise.all([
        t.patch(member(org.id, first.user.id), { role: 'viewer' }),
        t.delete(member(org.id, second.user.id), { key: second.key }),
      ]);
      expect(replies.filter((r) => r.status >= 400).map((r) => r.body.error.code)).toEqual(['last_owner']);
      expect(await owners(t, org.id)).toHaveLength(1);
      if (replies[0].status === 200) {
        await t.expect(200, t.patch(member(org.id, first.user.id), { role: 'owner' }));
      } else {
        await t.expect(201, t.post(members(org.id), { user_id: second.user.id, role: 'owner' }));
      }
    }
  });
});
