import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';

const transfer = (org: string) => `/v1/organizations/${org}/transfer-ownership`;

describeEachDatabase('ownership transfer', (use) => {
  it('makes a member the owner and steps the caller down to admin, recorded in the trail', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const heir = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: heir.user.id, role: 'member' }, { key: owner.key }),
    );
    const answer = await t.expect(
      200,
      t.post(transfer(org.id), { user_id: heir.user.id }, { key: owner.key }),
    );
    expect(answer).toMatchObject({ user_id: heir.user.id, role: 'owner' });
    expect((await t.get(member(org.id, owner.user.id), { key: heir.key })).body.role).toBe('admin');
    // The former owner cannot take it back: that needs the owner role now.
    expect((await t.post(transfer(org.id), { user_id: owner.user.id }, { key: owner.key })).status).toBe(403);
    const trail = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, {
        key: heir.key,
        query: { action: 'organization.ownership_transferred' },
      }),
    );
    expect(trail.data).toHaveLength(1);
    expect(trail.data[0].changes.previous_owner_role).toEqual({ before: 'owner', after: 'admin' });
  });

  it('lets the caller stay an owner, and an admin key transfer without stepping anyone down', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const heir = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: heir.user.id, role: 'viewer' }, { key: owner.key }),
    );
    await t.expect(
      200,
      t.post(transfer(org.id), { user_id: heir.user.id, previous_owner_role: 'owner' }, { key: owner.key }),
    );
    expect((await t.get(member(org.id, owner.user.id), { key: owner.key })).body.role).toBe('owner');
    const third = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: third.user.id, role: 'member' }, { key: owner.key }),
    );
    await t.expect(200, t.post(transfer(org.id), { user_id: third.user.id }));
    const roles = await t.expect(200, t.get(members(org.id), { key: owner.key, query: { limit: 100 } }));
    expect(roles.data.filter((m: any) => m.role === 'owner')).toHaveLength(3);
  });

  it('refuses non-owners, strangers, non-members and the caller itself', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const admin = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: admin.user.id, role: 'admin' }, { key: owner.key }),
    );
    expect((await t.post(transfer(org.id), { user_id: admin.user.id }, { key: admin.key })).status).toBe(403);
    const stranger = await t.userWithKey();
    expect(
      (await t.post(transfer(org.id), { user_id: stranger.user.id }, { key: stranger.key })).status,
    ).toBe(404);
    const outsider = await t.post(transfer(org.id), { user_id: stranger.user.id }, { key: owner.key });
    expect(outsider.status).toBe(404);
    expect(outsider.body.error.param).toBe('user_id');
    const self = await t.post(transfer(org.id), { user_id: owner.user.id }, { key: owner.key });
    expect(self.status).toBe(400);
    const orgKey = await t.organizationKey(org.id, owner.key);
    expect((await t.post(transfer(org.id), { user_id: admin.user.id }, { key: orgKey })).status).toBe(403);
    expect((await t.get(member(org.id, owner.user.id), { key: owner.key })).body.role).toBe('owner');
    expect((await t.get(member(org.id, admin.user.id), { key: owner.key })).body.role).toBe('admin');
  });
});
