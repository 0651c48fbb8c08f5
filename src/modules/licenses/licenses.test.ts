import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import { actionsOn, createLicense, license, licensed } from '../../../test/helpers/licenses.js';

const ids = (page: { data: { id: string }[] }) => page.data.map((row) => row.id);
const past = () => new Date(Date.now() - 60_000).toISOString();
const future = () => new Date(Date.now() + 86_400_000).toISOString();

describeEachDatabase('licenses', (use) => {
  it('creates, reads, updates, soft-deletes and restores a license, each recorded in the instance trail', async () => {
    const t = use();
    const expiresAt = '2030-01-02T03:04:05.678Z';
    const created = await t.expect(
      201,
      t.post('/v1/licenses', {
        plan: 'enterprise',
        seats: 25,
        features: { sso: true, max_projects: 50, support: 'priority' },
        expires_at: '2030-01-02T04:04:05.678+01:00',
        metadata: { contract: 'C-1' },
        name: 'Acme 2030',
      }),
    );
    expect(created).toMatchObject({
      plan: 'enterprise',
      seats: 25,
      features: { sso: true, max_projects: 50, support: 'priority' },
      expires_at: expiresAt,
      expired: false,
      metadata: { contract: 'C-1' },
      name: 'Acme 2030',
      organization_id: null,
      assigned_at: null,
      deleted_at: null,
    });
    const read = await t.get(license(created.id));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created);
    expect(read.headers.etag).toMatch(/^"/);

    const updated = await t.expect(
      200,
      t.patch(license(created.id), { seats: null, features: { sso: false }, expires_at: null }),
    );
    expect(updated).toMatchObject({
      seats: null,
      features: { sso: false },
      expires_at: null,
      plan: 'enterprise',
    });

    await t.expect(204, t.delete(license(created.id)));
    expect((await t.get(license(created.id))).status).toBe(404);
    const deleted = await t.expect(200, t.get(license(created.id), { query: { include_deleted: true } }));
    expect(deleted.deleted_at).not.toBeNull();
    const restored = await t.expect(200, t.post(`${license(created.id)}/restore`, {}));
    expect(restored.deleted_at).toBeNull();
    // Restoring a live license changes nothing and records nothing.
    await t.expect(200, t.post(`${license(created.id)}/restore`, {}));

    expect(await actionsOn(t, created.id)).toEqual([
      'license.created',
      'license.updated',
      'license.deleted',
      'license.restored',
    ]);
    const trail = await t.expect(
      200,
      t.get('/v1/audit-events', { query: { target_id: created.id, action: 'license.updated' } }),
    );
    expect(trail.data[0]).toMatchObject({
      organization_id: null,
      target: { type: 'license', id: created.id },
    });
    expect(trail.data[0].changes.seats).toEqual({ before: 25, after: null });
  });

  it('computes expiry from the clock: a past expires_at is expired', async () => {
    const t = use();
    const old = await createLicense(t, { expires_at: past() });
    expect(old.expired).toBe(true);
    const live = await createLicense(t, { expires_at: future() });
    expect(live.expired).toBe(false);
    const renewed = await t.expect(200, t.patch(license(old.id), { expires_at: future() }));
    expect(renewed.expired).toBe(false);
  });

  it('validates plan, seats, features and expiry, naming the field', async () => {
    const t = use();
    const bad: [Record<string, unknown>, string][] = [
      [{ seats: 5 }, 'plan'],
      [{ plan: 'pro' }, 'seats'],
      [{ plan: 'Pro Plan', seats: 5 }, 'plan'],
      [{ plan: 'pro', seats: 0 }, 'seats'],
      [{ plan: 'pro', seats: -3 }, 'seats'],
      [{ plan: 'pro', seats: 2.5 }, 'seats'],
      [{ plan: 'pro', seats: '5' }, 'seats'],
      [{ plan: 'pro', seats: 5, features: ['sso'] }, 'features'],
      [{ plan: 'pro', seats: 5, features: { 'Bad Name': true } }, 'features'],
      [{ plan: 'pro', seats: 5, features: { sso: { nested: true } } }, 'features'],
      [{ plan: 'pro', seats: 5, expires_at: 'tomorrow' }, 'expires_at'],
      [{ plan: 'pro', seats: 5, expires_at: '2030-12-31T23:59:60Z' }, 'expires_at'],
      [{ plan: 'pro', seats: 5, extra: 1 }, 'extra'],
    ];
    for (const [body, param] of bad) {
      const reply = await t.post('/v1/licenses', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.param, JSON.stringify(body)).toContain(param);
    }
    const created = await createLicense(t);
    expect((await t.patch(license(created.id), {})).status).toBe(400);
    expect((await t.patch(license(created.id), { seats: 0 })).body.error.param).toBe('seats');
    const page = await t.expect(200, t.get('/v1/licenses', { query: { plan: 'pro', limit: 100 } }));
    expect(page.data.every((row: any) => row.plan === 'pro')).toBe(true);
  });

  it('lists with keyset pagination and filters by plan, assignment, expiry and organization', async () => {
    const t = use();
    const plan = t.unique('plan').toLowerCase();
    const { org } = await t.ownerWithTeam();
    const assigned = await licensed(t, org.id, { plan });
    const expired = await createLicense(t, { plan, expires_at: past() });
    const spare = await createLicense(t, { plan });
    const gone = await createLicense(t, { plan });
    await t.expect(204, t.delete(license(gone.id)));

    const all = await t.expect(200, t.get('/v1/licenses', { query: { plan } }));
    expect(ids(all)).toEqual([assigned.id, expired.id, spare.id]);
    const withDeleted = await t.expect(
      200,
      t.get('/v1/licenses', { query: { plan, include_deleted: true } }),
    );
    expect(ids(withDeleted)).toEqual([assigned.id, expired.id, spare.id, gone.id]);
    const first = await t.expect(200, t.get('/v1/licenses', { query: { plan, limit: 2 } }));
    expect(ids(first)).toEqual([assigned.id, expired.id]);
    expect(first.pagination.has_more).toBe(true);
    const second = await t.expect(
      200,
      t.get('/v1/licenses', { query: { plan, limit: 2, cursor: first.pagination.next_cursor } }),
    );
    expect(ids(second)).toEqual([spare.id]);
    const back = await t.expect(
      200,
      t.get('/v1/licenses', {
        query: { plan, limit: 2, cursor: second.pagination.prev_cursor, direction: 'backward' },
      }),
    );
    expect(ids(back)).toEqual([assigned.id, expired.id]);

    const query = (extra: Record<string, string | boolean>) =>
      t.expect(200, t.get('/v1/licenses', { query: { plan, ...extra } })).then(ids);
    expect(await query({ assigned: true })).toEqual([assigned.id]);
    expect(await query({ assigned: false })).toEqual([expired.id, spare.id]);
    expect(await query({ expired: true })).toEqual([expired.id]);
    expect(await query({ expired: false })).toEqual([assigned.id, spare.id]);
    expect(await query({ organization_id: org.id })).toEqual([assigned.id]);
    expect((await t.get('/v1/licenses', { query: { cursor: 'bm9wZQ' } })).status).toBe(400);
  });

  it('honours If-Match on updates and deletes', async () => {
    const t = use();
    const created = await t.post('/v1/licenses', { plan: 'pro', seats: 3 });
    const tag = created.headers.etag as string;
    await t.expect(200, t.patch(license(created.body.id), { seats: 4 }, { headers: { 'if-match': tag } }));
    const stale = await t.patch(license(created.body.id), { seats: 9 }, { headers: { 'if-match': tag } });
    expect(stale.status).toBe(412);
    const staleDelete = await t.delete(license(created.body.id), { headers: { 'if-match': tag } });
    expect(staleDelete.status).toBe(412);
    const now = await t.get(license(created.body.id));
    expect(now.body).toMatchObject({ seats: 4, deleted_at: null });
    await t.expect(
      204,
      t.delete(license(created.body.id), { headers: { 'if-match': now.headers.etag as string } }),
    );
  });

  it('is for admin keys only: others get 403 on the collection and 404 on a license', async () => {
    const t = use();
    const created = await createLicense(t);
    const { owner, org } = await t.ownerWithTeam();
    const orgKey = await t.organizationKey(org.id, owner.key);
    for (const key of [owner.key, orgKey]) {
      expect((await t.post('/v1/licenses', { plan: 'pro', seats: 1 }, { key })).status).toBe(403);
      expect((await t.get('/v1/licenses', { key })).status).toBe(403);
      for (const reply of [
        await t.get(license(created.id), { key }),
        await t.patch(license(created.id), { seats: 1 }, { key }),
        await t.delete(license(created.id), { key }),
        await t.post(`${license(created.id)}/restore`, {}, { key }),
      ]) {
        expect(reply.status).toBe(404);
        expect(reply.body.error.code).toBe('not_found');
      }
    }
    // An admin key without the write scope reads but does not write.
    const readOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { kind: 'admin', scopes: ['organization:read'] }),
    );
    await t.expect(200, t.get(license(created.id), { key: readOnly.secret }));
    expect((await t.patch(license(created.id), { seats: 1 }, { key: readOnly.secret })).status).toBe(403);
    expect(await t.expect(200, t.get(license(created.id)))).toEqual(created);
  });
});
