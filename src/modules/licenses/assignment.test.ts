import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import {
  actionsOn,
  assign,
  createLicense,
  license,
  licensed,
  orgLicense,
} from '../../../test/helpers/licenses.js';
import { members } from '../../../test/helpers/members.js';

describeEachDatabase('an organization license', (use) => {
  it('answers the free plan when none is assigned, then the assigned license', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const free = await t.expect(200, t.get(orgLicense(org.slug), { key: owner.key }));
    expect(free).toEqual({
      organization_id: org.id,
      license_id: null,
      plan: 'free',
      name: null,
      seats: null,
      features: {},
      expires_at: null,
      expired: false,
      assigned_at: null,
    });
    const created = await createLicense(t, {
      plan: 'team',
      seats: 10,
      features: { sso: true },
      name: 'Acme',
    });
    const assigned = await t.expect(200, assign(t, org.slug, created.id));
    expect(assigned).toMatchObject({
      organization_id: org.id,
      license_id: created.id,
      plan: 'team',
      name: 'Acme',
      seats: 10,
      features: { sso: true },
      expired: false,
    });
    expect(Date.parse(assigned.assigned_at)).not.toBeNaN();
    expect(await t.expect(200, t.get(orgLicense(org.id), { key: owner.key }))).toEqual(assigned);
    const held = await t.expect(200, t.get(license(created.id)));
    expect(held).toMatchObject({ organization_id: org.id, assigned_at: assigned.assigned_at });
    expect(await actionsOn(t, created.id, org.id)).toEqual(['license.assigned']);
  });

  it('replaces the held license on PUT; the same license again changes nothing', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    const first = await licensed(t, org.id, { plan: 'team' });
    const second = await createLicense(t, { plan: 'enterprise' });
    const replaced = await t.expect(200, assign(t, org.id, second.id));
    expect(replaced).toMatchObject({ license_id: second.id, plan: 'enterprise' });
    expect((await t.expect(200, t.get(license(first.id)))).organization_id).toBeNull();
    expect((await t.expect(200, t.get(license(second.id)))).organization_id).toBe(org.id);
    const event = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, { query: { target_id: second.id } }),
    );
    expect(event.data[0].changes.license_id).toEqual({ before: first.id, after: second.id });
    // The first license is free again and may go to another organization.
    const other = await t.ownerWithTeam();
    await t.expect(200, assign(t, other.org.id, first.id));

    const again = await t.expect(200, assign(t, org.id, second.id));
    expect(again).toEqual(replaced);
    expect(await actionsOn(t, second.id, org.id)).toEqual(['license.assigned']);
  });

  it('refuses a license held by another organization with 409 and moves nothing', async () => {
    const t = use();
    const a = await t.ownerWithTeam();
    const b = await t.ownerWithTeam();
    const held = await licensed(t, a.org.id);
    const refused = await assign(t, b.org.id, held.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'license_assigned_elsewhere', param: 'license_id' });
    // Not even to a team of the holder.
    expect((await assign(t, a.team.id, held.id)).status).toBe(409);
    expect((await t.expect(200, t.get(license(held.id)))).organization_id).toBe(a.org.id);
    expect((await t.expect(200, t.get(orgLicense(b.org.id)))).license_id).toBeNull();
    expect(await actionsOn(t, held.id, b.org.id)).toEqual([]);
  });

  it('unassigns back to the free plan with 204, also when nothing is assigned', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    await t.expect(204, t.delete(orgLicense(org.id)));
    expect((await t.expect(200, t.get(orgLicense(org.id)))).plan).toBe('free');
    expect((await t.expect(200, t.get(license(held.id)))).organization_id).toBeNull();
    await t.expect(204, t.delete(orgLicense(org.id)));
    expect(await actionsOn(t, held.id, org.id)).toEqual(['license.assigned', 'license.unassigned']);
  });

  it('unassigns a license when it is deleted, recorded on the organization', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    await t.expect(204, t.delete(license(held.id)));
    expect((await t.expect(200, t.get(orgLicense(org.id)))).license_id).toBeNull();
    expect(await actionsOn(t, held.id, org.id)).toEqual(['license.assigned', 'license.unassigned']);
    expect(await actionsOn(t, held.id)).toEqual([
      'license.created',
      'license.assigned',
      'license.unassigned',
      'license.deleted',
    ]);
    // A deleted license is gone for assignment too; restored, it comes back unassigned.
    expect((await assign(t, org.id, held.id)).status).toBe(404);
    const restored = await t.expect(200, t.post(`${license(held.id)}/restore`, {}));
    expect(restored.organization_id).toBeNull();
    await t.expect(200, assign(t, org.id, held.id));
  });

  it('lets viewers read, and only admin keys assign or unassign', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: owner.key }),
    );
    const held = await licensed(t, org.id);
    await t.expect(200, t.get(orgLicense(org.id), { key: viewer.key }));
    const spare = await createLicense(t);
    const orgKey = await t.organizationKey(org.id, owner.key);
    for (const key of [owner.key, viewer.key, orgKey]) {
      const put = await assign(t, org.id, spare.id, { key });
      expect(put.status).toBe(403);
      expect(put.body.error.code).toBe('forbidden');
      expect((await t.delete(orgLicense(org.id), { key })).status).toBe(403);
    }
    // A key without the read scope, and a stranger.
    const noRead = await t.expect(
      201,
      t.post('/v1/api-keys', { user_id: viewer.user.id, scopes: ['member:read'] }),
    );
    expect((await t.get(orgLicense(org.id), { key: noRead.secret })).status).toBe(403);
    const stranger = await t.userWithKey();
    expect((await t.get(orgLicense(org.id), { key: stranger.key })).status).toBe(404);
    expect((await assign(t, org.id, spare.id, { key: stranger.key })).status).toBe(404);
    expect((await t.expect(200, t.get(orgLicense(org.id)))).license_id).toBe(held.id);
    expect((await t.expect(200, t.get(license(spare.id)))).organization_id).toBeNull();
    // A team reads its own (none) through its own route.
    expect((await t.expect(200, t.get(orgLicense(team.id), { key: viewer.key }))).license_id).toBeNull();
    expect((await assign(t, org.id, '00000000-0000-7000-8000-000000000000')).status).toBe(404);
    expect((await assign(t, org.id, 'not-a-uuid')).body.error.param).toBe('license_id');
  });

  it('frees the license of a deleted organization through an admin key', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    await t.expect(204, t.delete(`/v1/organizations/${org.id}`, { key: owner.key }));
    const other = await t.ownerWithTeam();
    expect((await assign(t, other.org.id, held.id)).status).toBe(409);
    await t.expect(204, t.delete(orgLicense(org.id)));
    await t.expect(200, assign(t, other.org.id, held.id));
  });

  it('keeps one license per organization in the database itself', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    await licensed(t, org.id);
    const spare = await createLicense(t);
    await expect(
      t.database.db.query(`update licenses set organization_id = $1, assigned_at = now() where id = $2`, [
        org.id,
        spare.id,
      ]),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('settles racing assignments: one license per organization, one organization per license', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    const rivals = await Promise.all(Array.from({ length: 8 }, () => createLicense(t)));
    const replies = await Promise.all(rivals.map((rival) => assign(t, org.id, rival.id)));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    const holding = await t.expect(200, t.get('/v1/licenses', { query: { organization_id: org.id } }));
    expect(holding.data).toHaveLength(1);

    const contested = await createLicense(t);
    const orgs = await Promise.all(Array.from({ length: 8 }, () => t.ownerWithTeam()));
    const claims = await Promise.all(orgs.map((o) => assign(t, o.org.id, contested.id)));
    expect(claims.map((reply) => reply.status).sort()).toEqual([200, ...Array(7).fill(409)]);
    const winner = orgs[claims.findIndex((reply) => reply.status === 200)]!;
    expect((await t.expect(200, t.get(license(contested.id)))).organization_id).toBe(winner.org.id);
  });
});
