import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';

describeEachDatabase('member pages joined from kept renderings', (use) => {
  it('answer each membership as it is now and as the caller may see it, whoever listed it before', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const members = `/v1/organizations/${org.id}/members`;
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members, { user_id: viewer.user.id, role: 'viewer', private_metadata: { note: 'x' } }),
    );
    const page = async (key?: string) => (await t.expect(200, t.get(members, key ? { key } : {}))).data;
    const itemOf = async (userId: string, key?: string) =>
      (await page(key)).find((m: any) => m.user_id === userId);

    // Each item is what a GET of the membership answers the same caller.
    for (const key of [owner.key, viewer.key]) {
      expect(await itemOf(viewer.user.id, key)).toEqual(
        await t.expect(200, t.get(`${members}/${viewer.user.id}`, { key })),
      );
    }
    expect((await itemOf(viewer.user.id, owner.key)).private_metadata).toEqual({ note: 'x' });
    expect(await itemOf(viewer.user.id, viewer.key)).not.toHaveProperty('private_metadata');

    // A change to the membership, to its user, or to its custom role shows at once.
    await t.expect(
      200,
      t.patch(`${members}/${viewer.user.id}`, { role: 'member', public_metadata: { seat: 4 } }),
    );
    expect(await itemOf(viewer.user.id)).toMatchObject({ role: 'member', public_metadata: { seat: 4 } });
    await t.expect(200, t.patch(`/v1/users/${viewer.user.id}`, { name: 'Renamed Person' }));
    expect((await itemOf(viewer.user.id)).name).toBe('Renamed Person');
    const role = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/roles`, { key: 'auditor', name: 'Auditor', base_role: 'viewer' }),
    );
    await t.expect(200, t.patch(`${members}/${viewer.user.id}`, { role: 'auditor' }));
    expect(await itemOf(viewer.user.id)).toMatchObject({
      role: 'auditor',
      role_id: role.id,
      base_role: 'viewer',
    });
    await t.expect(
      200,
      t.patch(`/v1/organizations/${org.id}/roles/${role.id}`, { key: 'reviewer', base_role: 'member' }),
    );
    expect(await itemOf(viewer.user.id)).toMatchObject({ role: 'reviewer', base_role: 'member' });
    await t.expect(204, t.delete(`${members}/${viewer.user.id}`));
    expect(await itemOf(viewer.user.id)).toBeUndefined();
  });
});
