import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { assign, createLicense, entitlements, license, licensed } from '../../../test/helpers/licenses.js';
import { allMembers, members } from '../../../test/helpers/members.js';
import { loadConfig } from '../../config.js';

const FREE_SEATS = 3;
const past = () => new Date(Date.now() - 60_000).toISOString();
const future = () => new Date(Date.now() + 86_400_000).toISOString();

const addByEmail = (t: TestApp, org: string, email = `${t.unique('seat')}@example.com`) =>
  t.post(members(org), { email });

async function fill(t: TestApp, org: string, count: number) {
  for (let i = 0; i < count; i++) await t.expect(201, addByEmail(t, org));
}

async function expectRefused(t: TestApp, org: string) {
  const email = `${t.unique('refused')}@example.com`;
  const reply = await addByEmail(t, org, email);
  expect(reply.status).toBe(402);
  expect(reply.body.error).toMatchObject({ code: 'seat_limit_reached', type: 'invalid_request_error' });
  return email;
}

describeEachDatabase(
  'seats',
  (use) => {
    it('gives the free plan the configured seats and refuses the next add, changing nothing', async () => {
      const t = use();
      const { owner, org, team } = await t.ownerWithTeam();
      // The owner holds the first seat; members of the team count in the root's pool.
      await t.expect(201, addByEmail(t, org.id));
      await t.expect(201, addByEmail(t, team.id));
      const full = await t.expect(200, t.get(entitlements(org.id), { key: owner.key }));
      expect(full).toEqual({
        organization_id: org.id,
        plan: 'free',
        license_id: null,
        source_organization_id: org.id,
        inherited: false,
        seats: FREE_SEATS,
        seats_used: 3,
        seats_available: 0,
        features: {},
        expires_at: null,
        expired: false,
      });
      const teamView = await t.expect(200, t.get(entitlements(team.id), { key: owner.key }));
      expect(teamView).toMatchObject({ source_organization_id: org.id, inherited: true, seats_used: 3 });

      const trailBefore = await t.expect(
        200,
        t.get(`/v1/organizations/${org.id}/audit-events`, {
          query: { limit: 100, include_descendants: true },
        }),
      );
      const membersBefore = [...(await allMembers(t, org.id)), ...(await allMembers(t, team.id))];
      const email = await expectRefused(t, team.id);
      const byId = await t.post(members(org.id), { user_id: (await t.createUser()).id });
      expect(byId.status).toBe(402);
      // Nothing changed: no user for the email, no membership, no audit event.
      expect((await t.expect(200, t.get('/v1/users', { query: { email } }))).data).toEqual([]);
      expect([...(await allMembers(t, org.id)), ...(await allMembers(t, team.id))]).toEqual(membersBefore);
      const trailAfter = await t.expect(
        200,
        t.get(`/v1/organizations/${org.id}/audit-events`, {
          query: { limit: 100, include_descendants: true },
        }),
      );
      expect(trailAfter.data).toEqual(trailBefore.data);
    });

    it('gives no new seat to a user already counted in the pool', async () => {
      const t = use();
      const { owner, org, team } = await t.ownerWithTeam();
      const user = await t.createUser();
      await t.expect(201, t.post(members(org.id), { user_id: user.id }));
      await fill(t, org.id, 1);
      await expectRefused(t, org.id);
      // Already a member of the root: joining the team takes no seat.
      await t.expect(201, t.post(members(team.id), { user_id: user.id, role: 'admin' }));
      // The owner's own team creation takes no seat either: the owner holds one already.
      await t.expect(
        201,
        t.post(`/v1/organizations/${org.id}/children`, { name: 'Second' }, { key: owner.key }),
      );
      expect((await t.expect(200, t.get(entitlements(team.id)))).seats_used).toBe(3);
      // Leaving frees the seat.
      await t.expect(204, t.delete(`${members(org.id)}/${user.id}`));
      await expectRefused(t, org.id);
      await t.expect(204, t.delete(`${members(team.id)}/${user.id}`));
      await t.expect(201, addByEmail(t, org.id));
    });

    it('admits exactly the free seats left when 50 adds race', async () => {
      const t = use();
      const { org, team } = await t.ownerWithTeam();
      const emails = Array.from({ length: 50 }, () => `${t.unique('burst')}@example.com`);
      const replies = await Promise.all(
        emails.map((email, i) => addByEmail(t, i % 2 ? org.id : team.id, email)),
      );
      const admitted = replies.filter((reply) => reply.status === 201);
      expect(admitted).toHaveLength(FREE_SEATS - 1);
      expect(replies.filter((reply) => reply.status === 402)).toHaveLength(50 - (FREE_SEATS - 1));
      const joined = [...(await allMembers(t, org.id)), ...(await allMembers(t, team.id))];
      expect(new Set(joined.map((m) => m.user_id)).size).toBe(FREE_SEATS);
      const created = await t.database.db.query('select id from users where email = any($1::text[])', [
        emails,
      ]);
      expect(created).toHaveLength(FREE_SEATS - 1);
    });

    it('admits exactly the seats of a license when 50 adds race', async () => {
      const t = use();
      const { org, team } = await t.ownerWithTeam();
      const seats = 11;
      await licensed(t, org.id, { seats });
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => addByEmail(t, i % 3 ? org.id : team.id)),
      );
      expect(replies.filter((reply) => reply.status === 201)).toHaveLength(seats - 1);
      expect(replies.filter((reply) => reply.status !== 201).every((reply) => reply.status === 402)).toBe(
        true,
      );
      const view = await t.expect(200, t.get(entitlements(team.id)));
      expect(view).toMatchObject({
        plan: 'pro',
        seats,
        seats_used: seats,
        seats_available: 0,
        inherited: true,
      });
    });

    it('counts an expired license as the free plan, and its renewal restores its seats', async () => {
      const t = use();
      const { org } = await t.ownerWithTeam();
      const held = await licensed(t, org.id, { seats: 10, expires_at: past(), features: { sso: true } });
      const view = await t.expect(200, t.get(entitlements(org.id)));
      expect(view).toMatchObject({
        plan: 'free',
        license_id: held.id,
        seats: FREE_SEATS,
        features: {},
        expired: true,
        expires_at: held.expires_at,
      });
      await fill(t, org.id, FREE_SEATS - 1);
      await expectRefused(t, org.id);
      await t.expect(200, t.patch(license(held.id), { expires_at: future() }));
      const renewed = await t.expect(200, t.get(entitlements(org.id)));
      expect(renewed).toMatchObject({ plan: 'pro', seats: 10, features: { sso: true }, expired: false });
      await t.expect(201, addByEmail(t, org.id));
      // Expiring again while over the free limit admits nobody new.
      await t.expect(200, t.patch(license(held.id), { expires_at: past() }));
      await expectRefused(t, org.id);
      expect((await t.expect(200, t.get(entitlements(org.id)))).seats_available).toBe(0);
    });

    it('lets the nearest licensed organization on the path head its own pool', async () => {
      const t = use();
      const { owner, org: root, team } = await t.ownerWithTeam();
      const inner = await t.expect(
        201,
        t.post(`/v1/organizations/${team.id}/children`, { name: 'Inner' }, { key: owner.key }),
      );
      const held = await licensed(t, team.id, { plan: 'team', seats: 4 });
      // The team's pool: the owner (direct owner of team and inner) and two more.
      await fill(t, team.id, 2);
      await t.expect(201, addByEmail(t, inner.id));
      await expectRefused(t, inner.id);
      const innerView = await t.expect(200, t.get(entitlements(inner.id)));
      expect(innerView).toMatchObject({
        plan: 'team',
        license_id: held.id,
        source_organization_id: team.id,
        inherited: true,
        seats: 4,
        seats_used: 4,
      });
      // The root's free pool does not count the team's members.
      const rootView = await t.expect(200, t.get(entitlements(root.id)));
      expect(rootView).toMatchObject({ plan: 'free', seats_used: 1, source_organization_id: root.id });
      await fill(t, root.id, 2);
      await expectRefused(t, root.id);
      // A root member reaching the team by inheritance takes no seat there; a direct membership does.
      const rootMember = (await allMembers(t, root.id)).find((m) => m.role === 'member')!;
      const teamJoin = await t.post(members(team.id), { user_id: rootMember.user_id });
      expect(teamJoin.body.error?.code).toBe('seat_limit_reached');
      // Unassigned, the team falls back into the root's pool, which is now over its limit.
      await t.expect(204, t.delete(`/v1/organizations/${team.id}/license`));
      const merged = await t.expect(200, t.get(entitlements(inner.id)));
      expect(merged).toMatchObject({
        plan: 'free',
        source_organization_id: root.id,
        seats_used: 6,
        seats_available: 0,
      });
      await expectRefused(t, inner.id);
    });

    it('follows replacement on PUT and never limits an unlimited license', async () => {
      const t = use();
      const { org } = await t.ownerWithTeam();
      await licensed(t, org.id, { seats: 2 });
      await fill(t, org.id, 1);
      await expectRefused(t, org.id);
      const unlimited = await createLicense(t, { plan: 'enterprise', seats: null });
      await t.expect(200, assign(t, org.id, unlimited.id));
      await fill(t, org.id, 5);
      const view = await t.expect(200, t.get(entitlements(org.id)));
      expect(view).toMatchObject({ plan: 'enterprise', seats: null, seats_used: 7, seats_available: null });
    });

    it('refuses a team whose creator would take a seat past the limit', async () => {
      const t = use();
      const { owner, org: root, team } = await t.ownerWithTeam();
      await licensed(t, team.id, { seats: 1 });
      // The root's owner owns the team directly (it created it): that is the team pool's one seat.
      const admin = await t.userWithKey();
      await t.expect(
        201,
        t.post(members(root.id), { user_id: admin.user.id, role: 'admin' }, { key: owner.key }),
      );
      const refused = await t.post(
        `/v1/organizations/${team.id}/children`,
        { name: 'Blocked' },
        { key: admin.key },
      );
      expect(refused.status).toBe(402);
      expect(refused.body.error.code).toBe('seat_limit_reached');
      const children = await t.expect(200, t.get(`/v1/organizations/${team.id}/children`));
      expect(children.data).toEqual([]);
      await t.expect(
        201,
        t.post(`/v1/organizations/${team.id}/children`, { name: 'Fine' }, { key: owner.key }),
      );
    });

    it('gives back the seats of members of a deleted team', async () => {
      const t = use();
      const { owner, org, team } = await t.ownerWithTeam();
      await fill(t, team.id, 2);
      await expectRefused(t, org.id);
      await t.expect(204, t.delete(`/v1/organizations/${team.id}`, { key: owner.key }));
      await fill(t, org.id, 2);
      expect((await t.expect(200, t.get(entitlements(org.id)))).seats_used).toBe(3);
    });
  },
  { ORGSTACK_FREE_PLAN_SEATS: String(FREE_SEATS) },
);

describeEachDatabase('seats without a free-plan limit', (use) => {
  it('never refuses an add on the free plan when ORGSTACK_FREE_PLAN_SEATS is unset', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    const replies = await Promise.all(Array.from({ length: 50 }, () => addByEmail(t, org.id)));
    expect(replies.every((reply) => reply.status === 201)).toBe(true);
    const view = await t.expect(200, t.get(entitlements(org.id)));
    expect(view).toMatchObject({ plan: 'free', seats: null, seats_used: 51, seats_available: null });
    expect((await t.expect(200, t.get(`/v1/organizations/${org.id}/license`))).seats).toBeNull();
  });

  it('still enforces the seats of a license', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    await licensed(t, org.id, { seats: 2 });
    await t.expect(201, addByEmail(t, org.id));
    expect((await addByEmail(t, org.id)).status).toBe(402);
  });
});

it('reads ORGSTACK_FREE_PLAN_SEATS: unset is unlimited, otherwise a positive whole number', () => {
  expect(loadConfig({}).licensing.freePlanSeats).toBeNull();
  expect(loadConfig({ ORGSTACK_FREE_PLAN_SEATS: '' }).licensing.freePlanSeats).toBeNull();
  expect(loadConfig({ ORGSTACK_FREE_PLAN_SEATS: '5' }).licensing.freePlanSeats).toBe(5);
  for (const bad of ['0', '-1', 'five', '2.5']) {
    expect(() => loadConfig({ ORGSTACK_FREE_PLAN_SEATS: bad })).toThrow(/ORGSTACK_FREE_PLAN_SEATS/);
  }
});
