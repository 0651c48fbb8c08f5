import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { createLicense, licensed } from '../../../test/helpers/licenses.js';

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const org = (id: string) => `/organizations/${id}`;

/** An organization made through this router by a user with a personal key. */
async function ownerWithOrg(t: TestApp, body: Record<string, unknown> = {}) {
  const owner = await t.userWithKey();
  const created = await t.expect(
    200,
    t.post('/organizations', { name: t.unique('Org'), ...body }, { key: owner.key }),
  );
  return { owner, org: created };
}

describeEachDatabase('compat 004: organizations', (use) => {
  it('creates (200, the caller as owner), reads, updates with nulls as unchanged and deletes', async () => {
    const t = use();
    const { owner, org: created } = await ownerWithOrg(t, { name: 'Acme Labs', description: 'Rockets' });
    expect(created).toEqual({
      id: expect.any(String),
      name: 'Acme Labs',
      slug: expect.stringMatching(/^acme-labs/),
      description: 'Rockets',
      active: true,
      created_at: expect.stringMatching(TIME),
      updated_at: expect.stringMatching(TIME),
    });
    const bare = await t.expect(200, t.post('/organizations', { name: 'Bare', description: null }, owner));
    expect(bare.description).toBeNull();

    const members = await t.expect(200, t.get(`${org(created.id)}/members`, owner));
    expect(members).toEqual([
      {
        organization_id: created.id,
        user_id: owner.user.id,
        email: owner.user.email,
        name: null,
        role: 'owner',
        created_at: expect.stringMatching(TIME),
      },
    ]);

    const read = await t.get(org(created.id), owner);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created);
    expect(read.headers.etag).toMatch(/^"/);

    const renamed = await t.expect(
      200,
      t.put(org(created.id), { name: 'Acme Rockets', description: null, active: null }, owner),
    );
    expect(renamed).toMatchObject({ name: 'Acme Rockets', description: 'Rockets', active: true });
    const paused = await t.expect(200, t.put(org(created.id), { active: false, description: '' }, owner));
    expect(paused).toMatchObject({ name: 'Acme Rockets', description: '', active: false });
    expect(paused.updated_at >= renamed.updated_at).toBe(true);
    const stale = await t.put(
      org(created.id),
      { name: 'Late' },
      { ...owner, headers: { 'if-match': '"old"' } },
    );
    expect(stale.status).toBe(412);

    const deleted = await t.delete(org(created.id.toUpperCase()), owner);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: created.id, deleted: true });
    const gone = await t.get(org(created.id), owner);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatchObject({ code: 'not_found', param: 'org_id' });
    await t.expect(404, t.get(`/v1/organizations/${created.id}`, owner));
  });

  it('lists the caller’s organizations as an array, active_only false by default, bounded by limit', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const made = [];
    for (const active of [true, false, true]) {
      const created = await t.createOrganization(owner.key, { active });
      made.push(created.id);
    }
    // Someone else's organization is not the caller's.
    await t.createOrganization((await t.userWithKey()).key);

    const all = await t.get('/organizations', owner);
    expect(all.status).toBe(200);
    expect(all.body.map((o: any) => o.id)).toEqual(made);
    expect(Object.keys(all.body[0]).sort()).toEqual(
      ['active', 'created_at', 'description', 'id', 'name', 'slug', 'updated_at'].sort(),
    );
    expect(all.headers.link).toBeUndefined();
    const active = await t.expect(200, t.get('/organizations', { ...owner, query: { active_only: true } }));
    expect(active.map((o: any) => o.id)).toEqual([made[0], made[2]]);

    const first = await t.get('/organizations', { ...owner, query: { limit: 2 } });
    expect(first.body.map((o: any) => o.id)).toEqual(made.slice(0, 2));
    expect(first.headers.link).toBe('</organizations?limit=2&offset=2>; rel="next"');
    const rest = await t.expect(200, t.get('/organizations', { ...owner, query: { limit: 2, offset: 2 } }));
    expect(rest.map((o: any) => o.id)).toEqual([made[2]]);

    const tooMany = await t.get('/organizations', { ...owner, query: { limit: 1001 } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.param).toBe('limit');
    const unknown = await t.get('/organizations', { ...owner, query: { page: 2 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('page');
    // Routes that take no query refuse one too, without acting; routes outside the router stay lenient.
    const dryRun = await t.delete(`/organizations/${made[0]}`, { ...owner, query: { dry_run: true } });
    expect(dryRun.status).toBe(400);
    expect(dryRun.body.error.param).toBe('dry_run');
    await t.expect(200, t.get(`/organizations/${made[0]}`, owner));
    await t.expect(200, t.get('/healthz', { key: null, query: { probe: 1 } }));
  });

  it('refuses a missing name, unknown fields and wrong types with 400 naming the field', async () => {
    const t = use();
    const { owner, org: created } = await ownerWithOrg(t);
    for (const [body, param] of [
      [{ description: 'no name' }, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x', slug: 'x' }, 'slug'],
    ] as const) {
      const reply = await t.post('/organizations', body, owner);
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    const badActive = await t.put(org(created.id), { active: 'yes' }, owner);
    expect(badActive.status).toBe(400);
    expect(badActive.body.error.param).toBe('active');
    const badEmail = await t.post(`${org(created.id)}/members`, {}, owner);
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.error.param).toBe('email');
    const badLicense = await t.put(`${org(created.id)}/license`, { license_id: 'free' });
    expect(badLicense.status).toBe(400);
    expect(badLicense.body.error.param).toBe('license_id');
    const badId = await t.get(org('acme'), owner);
    expect(badId.status).toBe(400);
    expect(badId.body.error.param).toBe('org_id');
  });

  it('is the same organization /v1 sees, both ways', async () => {
    const t = use();
    const { owner, org: created } = await ownerWithOrg(t, { description: 'Shared' });
    const native = await t.expect(200, t.get(`/v1/organizations/${created.id}`, owner));
    expect(native).toMatchObject({ ...created, parent_organization_id: null });

    const fromV1 = await t.createOrganization(owner.key, { description: 'Native', active: false });
    const here = await t.expect(200, t.get(org(fromV1.id), owner));
    expect(here).toEqual({
      id: fromV1.id,
      name: fromV1.name,
      slug: fromV1.slug,
      description: 'Native',
      active: false,
      created_at: fromV1.created_at,
      updated_at: fromV1.updated_at,
    });
    await t.expect(200, t.put(org(fromV1.id), { name: 'Renamed here' }, owner));
    const after = await t.expect(200, t.get(`/v1/organizations/${fromV1.id}`, owner));
    expect(after.name).toBe('Renamed here');
    const listed = await t.expect(200, t.get('/organizations', owner));
    expect(listed.map((o: any) => o.id)).toEqual([created.id, fromV1.id]);
  });

  it('hides organizations from strangers (404), and refuses missing scopes and low roles (403)', async () => {
    const t = use();
    const { owner, org: created } = await ownerWithOrg(t);
    const stranger = await t.userWithKey();
    const base = org(created.id);
    for (const [method, url, body] of [
      ['GET', base, undefined],
      ['PUT', base, { name: 'Taken' }],
      ['DELETE', base, undefined],
      ['GET', `${base}/members`, undefined],
      ['POST', `${base}/members`, { email: 'planted@example.com' }],
      ['DELETE', `${base}/members/${owner.user.id}`, undefined],
      ['GET', `${base}/license`, undefined],
      ['DELETE', `${base}/license`, undefined],
      ['GET', `${base}/deployments`, undefined],
    ] as const) {
      const reply = await t.call(method, url, { key: stranger.key, body });
      expect(reply.status, `${method} ${url}`).toBe(404);
      expect(reply.body.error.code).toBe('not_found');
    }
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(`/v1/organizations/${created.id}/members`, { user_id: viewer.user.id, role: 'viewer' }, owner),
    );
    await t.expect(200, t.get(base, viewer));
    const denied = await t.put(base, { name: 'Taken' }, viewer);
    expect(denied.status).toBe(403);
    expect(denied.body.error.type).toBe('permission_error');
    expect((await t.delete(base, viewer)).status).toBe(403);

    const scoped = await t.expect(
      201,
      t.post('/v1/api-keys', { user_id: owner.user.id, scopes: ['member:read'] }),
    );
    const noScope = await t.get(base, { key: scoped.secret });
    expect(noScope.status).toBe(403);
    expect(noScope.body.error.code).toBe('insufficient_scope');
    expect((await t.get('/organizations', { key: scoped.secret })).status).toBe(403);
    expect((await t.get('/organizations', { key: null })).status).toBe(401);
    expect((await t.put(`${base}/license`, { license_id: (await createLicense(t)).id }, owner)).status).toBe(
      403,
    );
  });
});

describeEachDatabase('compat 004: members', (use) => {
  it('adds by email (creating the user), lists, pages and removes members; the last owner stays', async () => {
    const t = use();
    const { owner, org: created } = await ownerWithOrg(t);
    const members = `${org(created.id)}/members`;
    const email = `${t.unique('new')}@example.com`;
    const added = await t.post(members, { email }, owner);
    expect(added.status).toBe(200);
    expect(added.body).toEqual({
      organization_id: created.id,
      user_id: expect.any(String),
      email,
      name: null,
      role: 'member',
      created_at: expect.stringMatching(TIME),
    });
    const again = await t.post(members, { email: email.toUpperCase() }, owner);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_member');
    const known = await t.createUser(undefined, 'Known Person');
    const third = await t.expect(200, t.post(members, { email: known.email }, owner));
    expect(third).toMatchObject({ user_id: known.id, name: 'Known Person', role: 'member' });

    const listed = await t.expect(200, t.get(members, owner));
    expect(listed.map((m: any) => m.user_id)).toEqual([owner.user.id, added.body.user_id, known.id]);
    const page = await t.get(members, { ...owner, query: { limit: 1, offset: 1 } });
    expect(page.body.map((m: any) => m.user_id)).toEqual([added.body.user_id]);
    expect(page.headers.link).toBe(`<${members}?limit=1&offset=2>; rel="next"`);

    const removed = await t.delete(`${members}/${known.id}`, owner);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ organization_id: created.id, user_id: known.id, deleted: true });
    const missing = await t.delete(`${members}/${known.id}`, owner);
    expect(missing.status).toBe(404);
    expect(missing.body.error.param).toBe('user_id');
    const lastOwner = await t.delete(`${members}/${owner.user.id}`, owner);
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.error.code).toBe('last_owner');
    await t.expect(404, t.get(`/v1/organizations/${created.id}/members/${known.id}`, owner));
  });

  it('enforces the seats of the license when adding by email', async () => {
    const t = use();
    const { owner, org: created } = await ownerWithOrg(t);
    await licensed(t, created.id, { seats: 2 });
    const members = `${org(created.id)}/members`;
    await t.expect(200, t.post(members, { email: `${t.unique('a')}@example.com` }, owner));
    const full = await t.post(members, { email: `${t.unique('b')}@example.com` }, owner);
    expect(full.status).toBe(402);
    expect(full.body.error.code).toBe('seat_limit_reached');
  });
});

describeEachDatabase('compat 004: licenses and deployments', (use) => {
  it('answers the free plan without a license, assigns (replacing), unassigns back to free', async () => {
    const t = use();
    const { owner, org: created } = await ownerWithOrg(t);
    const url = `${org(created.id)}/license`;
    const free = {
      organization_id: created.id,
      license_id: null,
      plan: 'free',
      name: null,
      seats: t.config.licensing.freePlanSeats,
      features: {},
      expires_at: null,
      expired: false,
      assigned_at: null,
    };
    expect(await t.expect(200, t.get(url, owner))).toEqual(free);

    const first = await createLicense(t, { plan: 'pro', seats: 10, name: 'Pro', features: { sso: true } });
    const assigned = await t.expect(200, t.put(url, { license_id: first.id }));
    expect(assigned).toEqual({
      ...free,
      license_id: first.id,
      plan: 'pro',
      name: 'Pro',
      seats: 10,
      features: { sso: true },
      assigned_at: expect.stringMatching(TIME),
    });
    expect(await t.expect(200, t.get(url, owner))).toEqual(assigned);

    const second = await createLicense(t, { plan: 'enterprise' });
    const replaced = await t.expect(200, t.put(url, { license_id: second.id }));
    expect(replaced).toMatchObject({ license_id: second.id, plan: 'enterprise' });
    const freed = await t.expect(200, t.get(`/v1/licenses/${first.id}`));
    expect(freed.organization_id).toBeNull();
    const other = (await ownerWithOrg(t)).org;
    const taken = await t.put(`${org(other.id)}/license`, { license_id: second.id });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('license_assigned_elsewhere');
    const unknown = await t.put(url, { license_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.param).toBe('license_id');

    const unassigned = await t.delete(url);
    expect(unassigned.status).toBe(200);
    expect(unassigned.body).toEqual(free);
    expect(await t.expect(200, t.get(`/v1/organizations/${created.id}/license`, owner))).toEqual(free);
    // Nothing assigned: still the free plan, and nothing changes.
    expect(await t.expect(200, t.delete(url))).toEqual(free);
  });

  it('lists the deployments under the organization’s license, none without one', async () => {
    const t = use();
    const { owner, org: created } = await ownerWithOrg(t);
    const url = `${org(created.id)}/deployments`;
    expect(await t.expect(200, t.get(url, owner))).toEqual([]);
    const held = await licensed(t, created.id);
    const reported = [];
    for (const name of ['eu-1', 'us-1']) {
      reported.push(
        await t.expect(
          201,
          t.post(`/v1/licenses/${held.id}/deployments`, {
            name,
            version: '2.1.0',
            hostname: `${name}.example`,
          }),
        ),
      );
    }
    const listed = await t.get(url, owner);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual(reported);
    expect(listed.body[0]).toMatchObject({
      license_id: held.id,
      organization_id: created.id,
      name: 'eu-1',
      version: '2.1.0',
      hostname: 'eu-1.example',
      last_seen_at: expect.stringMatching(TIME),
    });
    const page = await t.get(url, { ...owner, query: { limit: 1 } });
    expect(page.body).toEqual([reported[0]]);
    expect(page.headers.link).toBe(`<${url}?limit=1&offset=1>; rel="next"`);
  });
});
