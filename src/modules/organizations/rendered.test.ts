import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import type { OrganizationRow } from './queries.js';
import { RenderedOrganizations } from './rendered.js';

describeEachDatabase('organization lists joined from kept renderings', (use) => {
  it('answer each organization as it is now and as the caller may see it, whoever listed it before', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/members`, { user_id: viewer.user.id, role: 'viewer' }),
    );
    await t.expect(200, t.patch(`/v1/organizations/${org.id}`, { private_metadata: { secret: 'plan' } }));
    const other = await t.createOrganization(owner.key);
    const listed = async (key: string, query: Record<string, string | number | boolean> = {}) =>
      (await t.expect(200, t.get('/v1/organizations', { key, query: { limit: 100, ...query } }))).data;
    const itemOf = async (key: string, id: string, query?: Record<string, string | number | boolean>) =>
      (await listed(key, query)).find((item: any) => item.id === id);

    // Each item is exactly what a GET by the same caller answers, private metadata included or not.
    for (const key of [owner.key, viewer.key]) {
      for (const id of [org.id, team.id]) {
        expect(await itemOf(key, id)).toEqual(await t.expect(200, t.get(`/v1/organizations/${id}`, { key })));
      }
    }
    expect((await itemOf(owner.key, org.id)).private_metadata).toEqual({ secret: 'plan' });
    expect(await itemOf(viewer.key, org.id)).not.toHaveProperty('private_metadata');
    expect((await itemOf(viewer.key, org.id)).private_metadata).toBeUndefined();

    // Every kind of change shows at once: an update, a move (depth and root of a subtree), a delete.
    await t.expect(
      200,
      t.patch(`/v1/organizations/${team.id}`, { name: 'Renamed', settings: { enforce_2fa: true } }),
    );
    expect(await itemOf(owner.key, team.id)).toMatchObject({
      name: 'Renamed',
      settings: { enforce_2fa: true },
    });
    await t.expect(200, t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: other.id }));
    expect(await itemOf(owner.key, team.id)).toMatchObject({
      parent_organization_id: other.id,
      root_organization_id: other.id,
      depth: 2,
    });
    // The same renderings serve the team lists.
    const teams = await t.expect(200, t.get(`/v1/organizations/${other.id}/children`));
    expect(teams.data).toEqual([await itemOf(owner.key, team.id)]);
    await t.expect(204, t.delete(`/v1/organizations/${other.id}`));
    expect(await itemOf(owner.key, team.id)).toBeUndefined();
    const deleted = await itemOf(owner.key, team.id, { include_deleted: true });
    expect(deleted.deleted_at).toEqual(expect.any(String));
    // And a user's organization list, with what that user may read.
    const mine = await t.expect(200, t.get(`/v1/users/${viewer.user.id}/organizations`));
    expect(mine.data.map((item: any) => item.id)).toEqual([org.id]);
    expect(mine.data[0].private_metadata).toEqual({ secret: 'plan' });
  });
});

it('keeps at most its capacity, forgetting the oldest renderings first', () => {
  const row = (id: string) =>
    ({
      id,
      version: 'v1',
      ancestor_ids: [],
      settings: {},
      private_metadata: { id },
    }) as unknown as OrganizationRow & { version: string };
  const kept = new RenderedOrganizations(2);
  kept.keep('a', row('a'));
  kept.keep('b', row('b'));
  kept.keep('c', row('c'));
  expect(kept.find('a', 'v1')).toBeUndefined();
  expect(kept.find('b', 'v1')).toBeDefined();
  expect(kept.find('c', 'v1')?.privateJson).toBe('{"id":"c"}');
  expect(kept.find('c', 'v2')).toBeUndefined();
});
