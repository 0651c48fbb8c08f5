import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { members } from '../../../test/helpers/members.js';

const orgUrl = (org: string) => `/v1/organizations/${org}`;
const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });

/** An organization with a member of each role, each holding a personal key. */
async function staffedOrganization(t: TestApp) {
  const owner = await t.userWithKey();
  const org = await t.createOrganization(owner.key, {
    public_metadata: { plan: 'pro' },
    private_metadata: { stripe_customer: 'cus_123' },
  });
  const staff: Record<string, { user: any; key: string }> = { owner };
  for (const role of ['admin', 'member', 'viewer']) {
    const person = await t.userWithKey();
    await t.expect(201, t.post(members(org.id), { user_id: person.user.id, role }, { key: owner.key }));
    staff[role] = person;
  }
  return { org, staff, orgKey: await t.organizationKey(org.id) };
}

describeEachDatabase('organization metadata', (use) => {
  it('shows private metadata to owners, admins, organization keys and admin keys only', async () => {
    const t = use();
    const { org, staff, orgKey } = await staffedOrganization(t);
    const readers = { owner: staff.owner!.key, admin: staff.admin!.key, orgKey, adminKey: ADMIN_KEY };
    for (const [who, key] of Object.entries(readers)) {
      const body = await t.expect(200, t.get(orgUrl(org.id), { key }));
      expect(body, who).toMatchObject({
        metadata: {},
        public_metadata: { plan: 'pro' },
        private_metadata: { stripe_customer: 'cus_123' },
      });
    }
    for (const who of ['member', 'viewer']) {
      const body = await t.expect(200, t.get(orgUrl(org.slug), { key: staff[who]!.key }));
      expect(body.public_metadata, who).toEqual({ plan: 'pro' });
      expect(body, who).not.toHaveProperty('private_metadata');
    }
    const listed = async (key: string, url = '/v1/organizations') =>
      (await t.expect(200, t.get(url, { key, query: { limit: 100 } }))).data.find(
        (o: any) => o.id === org.id,
      );
    expect(await listed(staff.admin!.key)).toHaveProperty('private_metadata', { stripe_customer: 'cus_123' });
    expect(await listed(staff.member!.key)).not.toHaveProperty('private_metadata');
    expect(
      await listed(staff.member!.key, `/v1/users/${staff.member!.user.id}/organizations`),
    ).not.toHaveProperty('private_metadata');
    expect(await listed(orgKey)).toHaveProperty('private_metadata');
    expect(await listed(ADMIN_KEY, `/v1/users/${staff.viewer!.user.id}/organizations`)).toHaveProperty(
      'private_metadata',
    );
    const me = await t.expect(200, t.get('/v1/me', { key: orgKey }));
    expect(me.organization.private_metadata).toEqual({ stripe_customer: 'cus_123' });
  });

  it('decides per row in lists: a member of the parent who is an admin of one team reads only that team', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const root = await t.createOrganization(owner.key, { private_metadata: { level: 'root' } });
    const child = (name: string) =>
      t.expect(
        201,
        t.post(
          `${orgUrl(root.id)}/children`,
          { name, private_metadata: { level: name } },
          { key: owner.key },
        ),
      );
    const led = await child('Led');
    const other = await child('Other');
    const lead = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(root.id), { user_id: lead.user.id, role: 'member' }, { key: owner.key }),
    );
    await t.expect(
      201,
      t.post(members(led.id), { user_id: lead.user.id, role: 'admin' }, { key: owner.key }),
    );

    const privateOf = (page: any) =>
      Object.fromEntries(page.data.map((o: any) => [o.name, o.private_metadata?.level ?? null]));
    const mine = await t.expect(200, t.get('/v1/organizations', { key: lead.key }));
    expect(privateOf(mine)).toEqual({ [root.name]: null, Led: 'Led', Other: null });
    const teams = await t.expect(200, t.get(`${orgUrl(root.id)}/children`, { key: lead.key }));
    expect(privateOf(teams)).toEqual({ Led: 'Led', Other: null });
    const asOwner = await t.expect(200, t.get(`${orgUrl(root.id)}/children`, { key: owner.key }));
    expect(privateOf(asOwner)).toEqual({ Led: 'Led', Other: 'Other' });
    const team = await t.expect(200, t.get(`${orgUrl(root.id)}/children/${other.id}`, { key: lead.key }));
    expect(team).not.toHaveProperty('private_metadata');
  });

  it('lets admins write both objects on create and PATCH, each PATCH replacing the whole object', async () => {
    const t = use();
    const { org, staff } = await staffedOrganization(t);
    const patched = await t.expect(
      200,
      t.patch(
        orgUrl(org.id),
        { public_metadata: { tier: 'gold' }, private_metadata: { note: 'vip' } },
        { key: staff.admin!.key },
      ),
    );
    expect(patched).toMatchObject({ public_metadata: { tier: 'gold' }, private_metadata: { note: 'vip' } });
    const again = await t.expect(
      200,
      t.patch(orgUrl(org.id), { public_metadata: {} }, { key: staff.owner!.key }),
    );
    expect(again).toMatchObject({ public_metadata: {}, private_metadata: { note: 'vip' }, metadata: {} });

    const team = await t.expect(
      201,
      t.post(
        `${orgUrl(org.id)}/children`,
        { name: 'Team', public_metadata: { a: 1 }, private_metadata: { b: 2 } },
        { key: staff.admin!.key },
      ),
    );
    expect(team).toMatchObject({ public_metadata: { a: 1 }, private_metadata: { b: 2 } });
    const teamPatched = await t.expect(
      200,
      t.patch(
        `${orgUrl(org.id)}/children/${team.id}`,
        { private_metadata: { c: 3 } },
        { key: staff.admin!.key },
      ),
    );
    expect(teamPatched).toMatchObject({ public_metadata: { a: 1 }, private_metadata: { c: 3 } });

    for (const who of ['member', 'viewer']) {
      const refused = await t.patch(
        orgUrl(org.id),
        { private_metadata: { taken: true } },
        { key: staff[who]!.key },
      );
      expect(refused.status, who).toBe(403);
    }
    const now = await t.expect(200, t.get(orgUrl(org.id)));
    expect(now.private_metadata).toEqual({ note: 'vip' });
  });

  it('refuses metadata over 16 KB or nested too deep with 400 naming the field, changing nothing', async () => {
    const t = use();
    const { org, staff } = await staffedOrganization(t);
    const key = staff.owner!.key;
    const big = { blob: 'x'.repeat(17 * 1024) };
    for (const field of ['public_metadata', 'private_metadata']) {
      for (const value of [big, nested(40)]) {
        const created = await t.post('/v1/organizations', { name: 'Too big', [field]: value }, { key });
        expect(created.status).toBe(400);
        expect(created.body.error).toMatchObject({ code: 'invalid_request', param: field });
        const patched = await t.patch(orgUrl(org.id), { [field]: value }, { key });
        expect(patched.body.error?.param).toBe(field);
        const team = await t.post(`${orgUrl(org.id)}/children`, { name: 'Too big', [field]: value }, { key });
        expect(team.body.error?.param).toBe(field);
      }
    }
    const fine = await t.patch(orgUrl(org.id), { private_metadata: nested(31) as object }, { key });
    expect(fine.status).toBe(200);
    // Long keys and values within the limit are indexed (jsonb_path_ops stores hashes, not the text).
    const long = { ['k'.repeat(5000)]: 'v'.repeat(10_000) };
    const indexed = await t.post(
      '/v1/organizations',
      { name: 'Long', metadata: long, public_metadata: long },
      { key },
    );
    expect(indexed.status).toBe(201);
    await t.expect(204, t.delete(orgUrl(indexed.body.id), { key }));
    const teams = await t.expect(200, t.get(`${orgUrl(org.id)}/children`, { key }));
    expect(teams.data).toEqual([]);
    const owned = await t.expect(200, t.get('/v1/organizations', { key }));
    expect(owned.data.map((o: any) => o.name)).not.toContain('Too big');
  });

  it('records metadata changes in the audit trail, private values included', async () => {
    const t = use();
    const { org, staff } = await staffedOrganization(t);
    await t.expect(
      200,
      t.patch(
        orgUrl(org.id),
        { private_metadata: { stripe_customer: 'cus_456' } },
        { key: staff.admin!.key },
      ),
    );
    const trail = await t.expect(
      200,
      t.get(`${orgUrl(org.id)}/audit-events`, { key: staff.owner!.key, query: { action: 'organization.' } }),
    );
    const created = trail.data.find((e: any) => e.action === 'organization.created');
    expect(created.changes.public_metadata).toEqual({ before: null, after: { plan: 'pro' } });
    const updated = trail.data.find((e: any) => e.action === 'organization.updated');
    expect(updated.changes).toEqual({
      private_metadata: { before: { stripe_customer: 'cus_123' }, after: { stripe_customer: 'cus_456' } },
      updated_at: expect.any(Object),
    });
  });
});
