import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import { members } from '../../../test/helpers/members.js';

const projects = (org: string) => `/v1/organizations/${org}/projects`;

describeEachDatabase('projects', (use) => {
  it('creates, reads by id or slug, lists, updates and soft-deletes and restores a project', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const created = await t.expect(
      201,
      t.post(projects(org.id), { name: 'Mobile App', description: 'iOS and Android' }, { key: owner.key }),
    );
    expect(created).toMatchObject({
      organization_id: org.id,
      name: 'Mobile App',
      slug: 'mobile-app',
      deleted_at: null,
    });
    const bySlug = await t.expect(200, t.get(`${projects(org.slug)}/mobile-app`, { key: owner.key }));
    expect(bySlug.id).toBe(created.id);

    await t.expect(201, t.post(projects(org.id), { name: 'Website', slug: 'web' }, { key: owner.key }));
    const list = await t.expect(
      200,
      t.get(projects(org.id), { key: owner.key, query: { name_search: 'mob' } }),
    );
    expect(list.data.map((p: any) => p.slug)).toEqual(['mobile-app']);

    const renamed = await t.expect(
      200,
      t.patch(
        `${projects(org.id)}/${created.id}`,
        { name: 'Mobile', metadata: { tier: 1 } },
        { key: owner.key },
      ),
    );
    expect(renamed).toMatchObject({ name: 'Mobile', slug: 'mobile-app', metadata: { tier: 1 } });

    await t.expect(204, t.delete(`${projects(org.id)}/${created.id}`, { key: owner.key }));
    expect((await t.get(`${projects(org.id)}/${created.id}`, { key: owner.key })).status).toBe(404);
    const withDeleted = await t.expect(
      200,
      t.get(projects(org.id), { key: owner.key, query: { include_deleted: true } }),
    );
    expect(withDeleted.data.find((p: any) => p.id === created.id).deleted_at).not.toBeNull();
    const restored = await t.expect(
      200,
      t.post(`${projects(org.id)}/${created.id}/restore`, {}, { key: owner.key }),
    );
    expect(restored.deleted_at).toBeNull();

    const trail = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, {
        key: owner.key,
        query: { action: 'project.', limit: 100 },
      }),
    );
    expect(trail.data.map((e: any) => e.action)).toEqual([
      'project.created',
      'project.created',
      'project.updated',
      'project.deleted',
      'project.restored',
    ]);
  });

  it('keeps names and slugs unique among live projects of one organization only', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const other = await t.ownerWithTeam();
    const first = await t.expect(
      201,
      t.post(projects(org.id), { name: 'Api', slug: 'api' }, { key: owner.key }),
    );
    const sameSlug = await t.post(projects(org.id), { name: 'Other', slug: 'api' }, { key: owner.key });
    expect(sameSlug.status).toBe(409);
    expect(sameSlug.body.error).toMatchObject({ code: 'slug_taken', param: 'slug' });
    const sameName = await t.post(projects(org.id), { name: 'API', slug: 'api-2' }, { key: owner.key });
    expect(sameName.body.error).toMatchObject({ code: 'name_taken', param: 'name' });
    // Another organization may use both.
    await t.expect(
      201,
      t.post(projects(other.org.id), { name: 'Api', slug: 'api' }, { key: other.owner.key }),
    );
    // A generated slug steps around a taken one.
    const generated = await t.expect(201, t.post(projects(org.id), { name: 'Api!' }, { key: owner.key }));
    expect(generated.slug).toMatch(/^api-[0-9a-f]{6}$/);
    // Once deleted, the name and slug are free; restoring then clashes with the new holder.
    await t.expect(204, t.delete(`${projects(org.id)}/${first.id}`, { key: owner.key }));
    await t.expect(201, t.post(projects(org.id), { name: 'Api', slug: 'api' }, { key: owner.key }));
    const clash = await t.post(`${projects(org.id)}/${first.id}/restore`, {}, { key: owner.key });
    expect(clash.status).toBe(409);
    // Under a burst of identical creates exactly one wins.
    const burst = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.post(projects(org.id), { name: 'Burst', slug: 'burst' }, { key: owner.key }),
      ),
    );
    expect(burst.filter((reply) => reply.status === 201)).toHaveLength(1);
    expect(burst.filter((reply) => reply.status === 409)).toHaveLength(9);
  });

  it('lets members read and only admins write; strangers see nothing; stale writes fail', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: owner.key }),
    );
    const project = await t.post(projects(org.id), { name: 'Guarded' }, { key: owner.key });
    await t.expect(200, t.get(`${projects(org.id)}/${project.body.id}`, { key: viewer.key }));
    expect((await t.post(projects(org.id), { name: 'Nope' }, { key: viewer.key })).status).toBe(403);
    expect(
      (await t.patch(`${projects(org.id)}/${project.body.id}`, { name: 'x' }, { key: viewer.key })).status,
    ).toBe(403);
    const stranger = await t.userWithKey();
    expect((await t.get(`${projects(org.id)}/${project.body.id}`, { key: stranger.key })).status).toBe(404);
    expect((await t.get(projects(org.id), { key: stranger.key })).status).toBe(404);

    const tag = project.headers.etag as string;
    await t.expect(
      200,
      t.patch(`${projects(org.id)}/${project.body.id}`, { description: 'v2' }, { key: owner.key }),
    );
    const stale = await t.delete(`${projects(org.id)}/${project.body.id}`, {
      key: owner.key,
      headers: { 'if-match': tag },
    });
    expect(stale.status).toBe(412);
    expect((await t.patch(`${projects(org.id)}/${project.body.id}`, {}, { key: owner.key })).status).toBe(
      400,
    );
    expect(
      (await t.post(projects(org.id), { name: 'x', extra: 1 }, { key: owner.key })).body.error.param,
    ).toBe('extra');
  });
});
