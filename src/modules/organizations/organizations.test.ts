import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';

describeEachDatabase('organizations', (use) => {
  it('creates an organization owned by the calling user, addressable by id and slug', async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    const org = await t.expect(
      201,
      t.post(
        '/v1/organizations',
        {
          name: 'Acme Corp',
          description: 'd',
          friendly_name: 'Acme',
          billing_account_id: 'ba_1',
          domain: 'Acme.example.com',
        },
        { key },
      ),
    );
    expect(org).toMatchObject({
      name: 'Acme Corp',
      friendly_name: 'Acme',
      domain: 'acme.example.com',
      depth: 1,
      active: true,
    });
    expect(org.slug).toMatch(/^acme-corp/);
    expect(org.settings.members_can_use_personal_api_keys).toBe(true);
    const bySlug = await t.expect(200, t.get(`/v1/organizations/${org.slug}`, { key }));
    expect(bySlug.id).toBe(org.id);
    const owner = await t.expect(200, t.get(`/v1/organizations/${org.id}/members/${user.id}`, { key }));
    expect(owner.role).toBe('owner');
  });

  it('refuses a taken slug with 409 and an invalid slug with 400 naming the field', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const slug = t.unique('taken');
    await t.createOrganization(key, { slug });
    const again = await t.post('/v1/organizations', { name: 'x', slug }, { key });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'slug_taken',
      param: 'slug',
      type: 'invalid_request_error',
    });
    const bad = await t.post('/v1/organizations', { name: 'x', slug: 'Not A Slug' }, { key });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('slug');
  });

  it('updates fields and merges settings', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    const updated = await t.expect(
      200,
      t.patch(
        `/v1/organizations/${org.id}`,
        { friendly_name: 'New', settings: { enforce_2fa: true } },
        { key },
      ),
    );
    expect(updated.friendly_name).toBe('New');
    expect(updated.settings).toMatchObject({ enforce_2fa: true, members_can_invite: false });
    const again = await t.expect(
      200,
      t.patch(`/v1/organizations/${org.id}`, { settings: { default_anonymize_ips: true } }, { key }),
    );
    expect(again.settings).toMatchObject({ enforce_2fa: true, default_anonymize_ips: true });
  });

  it('hides organizations from non-members with 404 and refuses low roles with 403', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const stranger = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    expect((await t.get(`/v1/organizations/${org.id}`, { key: stranger.key })).status).toBe(404);
    expect((await t.patch(`/v1/organizations/${org.id}`, { name: 'x' }, { key: stranger.key })).status).toBe(
      404,
    );
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/members`,
        { user_id: viewer.user.id, role: 'viewer' },
        { key: owner.key },
      ),
    );
    await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: viewer.key }));
    const denied = await t.patch(`/v1/organizations/${org.id}`, { name: 'x' }, { key: viewer.key });
    expect(denied.status).toBe(403);
    expect(denied.body.error.type).toBe('permission_error');
  });

  it('lists with filters, offset and keyset cursors in both directions', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const tag = t.unique('zebra');
    const created = [];
    for (let i = 0; i < 5; i++)
      created.push(await t.createOrganization(key, { name: `${tag} ${i}`, active: i !== 2 }));
    const first = await t.expect(
      200,
      t.get('/v1/organizations', { key, query: { limit: 2, name_search: tag } }),
    );
    expect(first.data.map((o: any) => o.id)).toEqual([created[0].id, created[1].id]);
    expect(first.pagination).toMatchObject({ has_more: true, limit: 2, prev_cursor: null });
    const second = await t.expect(
      200,
      t.get('/v1/organizations', {
        key,
        query: { limit: 2, name_search: tag, cursor: first.pagination.next_cursor },
      }),
    );
    expect(second.data.map((o: any) => o.id)).toEqual([created[2].id, created[3].id]);
    const back = await t.expect(
      200,
      t.get('/v1/organizations', {
        key,
        query: { limit: 2, name_search: tag, cursor: second.pagination.prev_cursor, direction: 'backward' },
      }),
    );
    expect(back.data.map((o: any) => o.id)).toEqual([created[0].id, created[1].id]);
    const offset = await t.expect(
      200,
      t.get('/v1/organizations', { key, query: { offset: 4, name_search: tag } }),
    );
    expect(offset.data.map((o: any) => o.id)).toEqual([created[4].id]);
    const active = await t.expect(
      200,
      t.get('/v1/organizations', { key, query: { active_only: true, name_search: tag } }),
    );
    expect(active.data).toHaveLength(4);
    const literal = await t.expect(200, t.get('/v1/organizations', { key, query: { name_search: '%' } }));
    expect(literal.data).toHaveLength(0);
  });

  it('includes teams unless no_children, and filters by parent', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    const team = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/children`, { name: 'Team A' }, { key }),
    );
    expect(team).toMatchObject({ parent_organization_id: org.id, depth: 2, root_organization_id: org.id });
    const member = await t.userWithKey();
    await t.expect(201, t.post(`/v1/organizations/${org.id}/members`, { user_id: member.user.id }, { key }));
    const all = await t.expect(200, t.get('/v1/organizations', { key: member.key }));
    expect(all.data.map((o: any) => o.id).sort()).toEqual([org.id, team.id].sort());
    const direct = await t.expect(
      200,
      t.get('/v1/organizations', { key: member.key, query: { no_children: true } }),
    );
    expect(direct.data.map((o: any) => o.id)).toEqual([org.id]);
    const children = await t.expect(
      200,
      t.get('/v1/organizations', { key: member.key, query: { parent_organization_id: org.id } }),
    );
    expect(children.data.map((o: any) => o.id)).toEqual([team.id]);
    await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: member.key }));
  });

  it('soft-deletes a subtree and restores exactly what the delete removed', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    const team = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'T' }, { key }));
    const earlier = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/children`, { name: 'Gone' }, { key }),
    );
    await t.expect(204, t.delete(`/v1/organizations/${org.id}/children/${earlier.id}`, { key }));
    await t.expect(204, t.delete(`/v1/organizations/${org.id}`, { key }));
    expect((await t.get(`/v1/organizations/${org.id}`, { key })).status).toBe(404);
    expect((await t.get(`/v1/organizations/${team.id}`, { key })).status).toBe(404);
    const shown = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}`, { key, query: { include_deleted: true } }),
    );
    expect(shown.deleted_at).not.toBeNull();
    const listed = await t.expect(200, t.get('/v1/organizations', { key, query: { include_deleted: true } }));
    expect(listed.data.map((o: any) => o.id)).toContain(org.id);
    expect((await t.post(`/v1/organizations/${team.id}/restore`, undefined, { key })).status).toBe(409);
    const restored = await t.expect(200, t.post(`/v1/organizations/${org.id}/restore`, undefined, { key }));
    expect(restored.deleted_at).toBeNull();
    await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key }));
    expect((await t.get(`/v1/organizations/${earlier.id}`, { key })).status).toBe(404);
  });

  it('moves subtrees, refusing cycles and the depth limit', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const a = await t.createOrganization(key);
    const b = await t.expect(201, t.post(`/v1/organizations/${a.id}/children`, { name: 'B' }, { key }));
    const c = await t.expect(201, t.post(`/v1/organizations/${b.id}/children`, { name: 'C' }, { key }));
    const cycle = await t.post(`/v1/organizations/${a.id}/move`, { parent_organization_id: c.id }, { key });
    expect(cycle.status).toBe(422);
    expect(cycle.body.error.code).toBe('cycle_detected');
    const other = await t.createOrganization(key);
    const moved = await t.expect(
      200,
      t.post(`/v1/organizations/${b.id}/move`, { parent_organization_id: other.id }, { key }),
    );
    expect(moved).toMatchObject({
      parent_organization_id: other.id,
      root_organization_id: other.id,
      depth: 2,
    });
    const child = await t.expect(200, t.get(`/v1/organizations/${c.id}`, { key }));
    expect(child).toMatchObject({ root_organization_id: other.id, depth: 3 });
    const top = await t.expect(
      200,
      t.post(`/v1/organizations/${b.id}/move`, { parent_organization_id: null }, { key }),
    );
    expect(top).toMatchObject({ parent_organization_id: null, depth: 1, root_organization_id: b.id });
    let parent = top.id;
    for (let depth = 2; depth <= t.config.maxOrgDepth; depth++) {
      parent = (
        await t.expect(201, t.post(`/v1/organizations/${parent}/children`, { name: `L${depth}` }, { key }))
      ).id;
    }
    const tooDeep = await t.post(`/v1/organizations/${parent}/children`, { name: 'deep' }, { key });
    expect(tooDeep.status).toBe(422);
    expect(tooDeep.body.error.code).toBe('depth_limit_exceeded');
  });

  it('keeps the inherited owners of a team that an admin makes top-level', async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    // Created by the admin key, the team has no direct owner: its owner is the parent's.
    const team = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'Adopted' }));
    const before = await t.expect(200, t.get(`/v1/organizations/${team.id}/members`));
    expect(before.data).toHaveLength(0);
    await t.expect(200, t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: null }));
    const owner = await t.expect(200, t.get(`/v1/organizations/${team.id}/members/${user.id}`));
    expect(owner).toMatchObject({ role: 'owner', inherited: false });
    const last = await t.delete(`/v1/organizations/${team.id}/members/${user.id}`);
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe('last_owner');
  });

  it('lets an admin of the parent delete a team by either route, but not an admin of the team alone', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    const team = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/children`, { name: 'Doomed' }, { key }),
    );
    const teamAdmin = await t.userWithKey();
    await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/members`, { user_id: teamAdmin.user.id, role: 'admin' }, { key }),
    );
    const teamKey = await t.organizationKey(team.id, key);
    for (const caller of [teamAdmin.key, teamKey]) {
      expect((await t.delete(`/v1/organizations/${team.id}`, { key: caller })).status).toBe(403);
      // Through the parent's route they are strangers: the parent stays hidden.
      expect(
        (await t.delete(`/v1/organizations/${org.id}/children/${team.id}`, { key: caller })).status,
      ).toBe(404);
    }
    await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: teamKey }));
    const parentAdmin = await t.userWithKey();
    await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/members`, { user_id: parentAdmin.user.id, role: 'admin' }, { key }),
    );
    expect((await t.delete(`/v1/organizations/${org.id}`, { key: parentAdmin.key })).status).toBe(403);
    await t.expect(204, t.delete(`/v1/organizations/${team.id}`, { key: parentAdmin.key }));
    await t.expect(200, t.post(`/v1/organizations/${team.id}/restore`, undefined, { key: parentAdmin.key }));
    await t.expect(
      204,
      t.delete(`/v1/organizations/${org.id}/children/${team.id}`, { key: parentAdmin.key }),
    );
  });

  it('pages the organizations of a user with hundreds of memberships like anyone else', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const created: string[] = [];
    for (let i = 0; i < 205; i++) created.push((await t.createOrganization(key)).id);
    const team = await t.expect(
      201,
      t.post(`/v1/organizations/${created[3]}/children`, { name: 'T' }), // by the admin key: reached through the parent only
    );
    created.push(team.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.expect(
        200,
        t.get('/v1/organizations', { key, query: { limit: 100, ...(cursor ? { cursor } : {}) } }),
      );
      seen.push(...page.data.map((o: any) => o.id));
      cursor = page.pagination.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...created].sort());
    const byOffset = await t.expect(
      200,
      t.get('/v1/organizations', { key, query: { limit: 5, offset: 200 } }),
    );
    expect(byOffset.data.map((o: any) => o.id)).toEqual(seen.slice(200, 205));
    const direct = await t.expect(
      200,
      t.get('/v1/organizations', { key, query: { limit: 100, offset: 200, no_children: true } }),
    );
    expect(direct.data.map((o: any) => o.id)).not.toContain(team.id);
    expect(direct.data).toHaveLength(5);
  });

  it('gives one 201 and 49 409s for 50 concurrent creations of the same slug', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const slug = t.unique('race');
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => t.post('/v1/organizations', { name: 'Race', slug }, { key })),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([201, ...Array(49).fill(409)]);
    for (const reply of replies.filter((r) => r.status === 409)) {
      expect(reply.body.error).toMatchObject({ code: 'slug_taken', param: 'slug' });
    }
    const bySlug = await t.expect(200, t.get(`/v1/organizations/${slug}`, { key }));
    expect(bySlug.id).toBe(replies.find((r) => r.status === 201)!.body.id);
    const mine = await t.expect(200, t.get('/v1/organizations', { key, query: { limit: 100 } }));
    expect(mine.data.filter((org: any) => org.slug === slug)).toHaveLength(1);
  });
});
