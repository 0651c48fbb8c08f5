import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import { usage, usageRecord } from '../../../test/helpers/usage.js';

const ORGANIZATION_FIELDS = [
  'billing_account_id',
  'connection_id',
  'created_at',
  'description',
  'friendly_name',
  'id',
  'name',
  'parent_organization_id',
  'updated_at',
];

const organizations = '/compat/000/organizations';
const organization = (id: string) => `${organizations}/${id}`;
const children = (id: string) => `${organization(id)}/children`;
const child = (id: string, childId: string) => `${children(id)}/${childId}`;
const storageCosts = (id: string, type = 's3') => `${organization(id)}/costs/storage-types/${type}`;

const HOUR = 3_600_000;
/** The start of the hour `n` hours before the current one, plus `minutes`. */
const hourMark = (n: number, minutes = 0) =>
  new Date(Math.floor(Date.now() / HOUR) * HOUR - n * HOUR + minutes * 60_000).toISOString();

describeEachDatabase('compat 000', (use) => {
  it('creates and updates organizations in the seed shape, the same ones /v1 sees', async () => {
    const t = use();
    const { user, key } = await t.userWithKey();
    const created = await t.expect(
      201,
      t.post(
        organizations,
        { name: 'Acme', billing_account_id: 'ba_1', description: 'Rockets', friendly_name: 'ACME' },
        { key },
      ),
    );
    expect(Object.keys(created).sort()).toEqual(ORGANIZATION_FIELDS);
    expect(created).toMatchObject({
      name: 'Acme',
      billing_account_id: 'ba_1',
      connection_id: null,
      description: 'Rockets',
      friendly_name: 'ACME',
      parent_organization_id: null,
    });
    const native = await t.expect(200, t.get(`/v1/organizations/${created.id}`, { key }));
    expect(native).toMatchObject({ ...created, slug: expect.stringMatching(/^acme/) });
    const owner = await t.expect(200, t.get(`/v1/organizations/${created.id}/members/${user.id}`, { key }));
    expect(owner.role).toBe('owner');

    const missing = await t.post(organizations, { description: 'no name' }, { key });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ type: 'invalid_request_error', param: 'name' });
    const unknown = await t.post(organizations, { name: 'x', slug: 'x' }, { key });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('slug');

    // Created natively, changed here, read natively again.
    const other = await t.createOrganization(key, { name: 'Native' });
    const updated = await t.expect(
      200,
      t.patch(organization(other.id), { friendly_name: 'Friendly', description: 'Changed' }, { key }),
    );
    expect(Object.keys(updated).sort()).toEqual(ORGANIZATION_FIELDS);
    expect(updated).toMatchObject({ id: other.id, name: 'Native', friendly_name: 'Friendly' });
    const reread = await t.expect(200, t.get(`/v1/organizations/${other.id}`, { key }));
    expect(reread).toMatchObject({ friendly_name: 'Friendly', description: 'Changed' });
    expect((await t.patch(organization(other.id), {}, { key })).status).toBe(400);
    const renamed = await t.patch(organization(other.id), { name: 'Renamed' }, { key });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.param).toBe('name');

    const stranger = await t.userWithKey();
    const hidden = await t.patch(organization(other.id), { friendly_name: 'x' }, { key: stranger.key });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('not_found');
    const readOnly = await t.userWithKey(['organization:read']);
    expect((await t.post(organizations, { name: 'x' }, { key: readOnly.key })).status).toBe(403);
  });

  it('lists with the seed defaults, filters and offset pages', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const tag = t.unique('zebra');
    const org = await t.expect(201, t.post(organizations, { name: `${tag} root` }, { key }));
    // Made by an admin key, so the caller reaches it through the parent only, not as its owner.
    const team = await t.expect(201, t.post(children(org.id), { name: `${tag} team` }));
    const other = await t.expect(201, t.post(organizations, { name: `${tag} other` }, { key }));

    const all = await t.expect(200, t.get(organizations, { key }));
    expect(all).toEqual({
      organizations: [org, team, other],
      limit: 10,
      offset: 0,
      has_more: false,
    });
    const direct = await t.expect(200, t.get(organizations, { key, query: { no_children: true } }));
    expect(direct.organizations.map((o: any) => o.id)).toEqual([org.id, other.id]);
    const teams = await t.expect(
      200,
      t.get(organizations, { key, query: { parent_organization_id: org.id } }),
    );
    expect(teams.organizations).toEqual([team]);
    const searched = await t.expect(200, t.get(organizations, { key, query: { name_search: 'OTHER' } }));
    expect(searched.organizations).toEqual([other]);
    const page = await t.expect(200, t.get(organizations, { key, query: { limit: 1, offset: 1 } }));
    expect(page).toEqual({ organizations: [team], limit: 1, offset: 1, has_more: true });

    const strict = await t.get(organizations, { key, query: { cursor: 'abc' } });
    expect(strict.status).toBe(400);
    expect(strict.body.error.param).toBe('cursor');
    const stranger = await t.userWithKey();
    const theirs = await t.expect(200, t.get(organizations, { key: stranger.key }));
    expect(theirs.organizations).toEqual([]);
  });

  it('lists, creates, updates and deletes teams', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    const nameless = await t.post(children(org.id), { friendly_name: 'x' }, { key });
    expect(nameless.status).toBe(400);
    expect(nameless.body.error.param).toBe('name');
    const team = await t.expect(
      201,
      t.post(children(org.slug), { name: 'Platform', description: 'Infra' }, { key }),
    );
    expect(Object.keys(team).sort()).toEqual(ORGANIZATION_FIELDS);
    expect(team).toMatchObject({ name: 'Platform', parent_organization_id: org.id });
    const second = await t.expect(201, t.post(children(org.id), { name: 'Data' }, { key }));
    // The same team natively.
    const native = await t.expect(200, t.get(`/v1/organizations/${org.id}/children/${team.id}`, { key }));
    expect(native).toMatchObject(team);

    const listed = await t.expect(200, t.get(children(org.id), { key }));
    expect(listed).toEqual({ organizations: [team, second], limit: 10, offset: 0, has_more: false });
    const searched = await t.expect(200, t.get(children(org.id), { key, query: { name_search: 'dat' } }));
    expect(searched.organizations).toEqual([second]);
    const paged = await t.expect(200, t.get(children(org.id), { key, query: { limit: 1 } }));
    expect(paged).toMatchObject({ organizations: [team], has_more: true });

    const unnamed = await t.patch(child(org.id, team.id), { description: 'x' }, { key });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.param).toBe('friendly_name');
    const updated = await t.expect(
      200,
      t.patch(child(org.id, team.id), { friendly_name: 'Platform team', description: 'Infra' }, { key }),
    );
    expect(updated).toMatchObject({ id: team.id, friendly_name: 'Platform team' });
    expect(Object.keys(updated).sort()).toEqual(ORGANIZATION_FIELDS);
    // A team of another organization is not a team of this one.
    const elsewhere = await t.createOrganization(key);
    expect((await t.patch(child(elsewhere.id, team.id), { friendly_name: 'x' }, { key })).status).toBe(404);

    const stranger = await t.userWithKey();
    expect((await t.get(children(org.id), { key: stranger.key })).status).toBe(404);
    expect((await t.delete(child(org.id, team.id), { key: stranger.key })).status).toBe(404);
    const deleted = await t.delete(child(org.id, team.id), { key });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');
    expect((await t.get(`/v1/organizations/${team.id}`, { key })).status).toBe(404);
    expect((await t.delete(child(org.id, team.id), { key })).status).toBe(404);
  });

  it('summarizes one storage type over the last 6 hours by default, with filters', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const records = [
      { occurred_at: hourMark(2, 10), pipeline_id: 'etl', cost: '1.25', bytes: 10 },
      { occurred_at: hourMark(2, 20), cost: '2', bytes: 30, billing_type: 'non_billable' },
      { occurred_at: hourMark(1, 5), storage_type: 'bigquery', cost: '100', bytes: 1000 },
      { occurred_at: hourMark(9), cost: '50', bytes: 500 },
    ];
    await t.expect(201, t.post(usage(org.id), { records: records.map(usageRecord) }, { key: owner.key }));

    const summary = await t.expect(200, t.get(storageCosts(org.id), { key: owner.key }));
    expect(summary).toMatchObject({
      organization_id: org.id,
      organization_name: org.name,
      storage_type: 's3',
      billing_type: null,
      pipeline_id: null,
      total_cost: '3.25',
      total_bytes: 40,
      record_count: 2,
    });
    expect(summary).not.toHaveProperty('include_children');
    expect(Date.parse(summary.end_at) - Date.parse(summary.start_at)).toBeGreaterThanOrEqual(6 * HOUR);
    expect(Date.parse(summary.end_at) - Date.parse(summary.start_at)).toBeLessThanOrEqual(7 * HOUR);
    expect(summary.by_pipeline).toHaveLength(2);

    const billable = await t.expect(
      200,
      t.get(storageCosts(org.slug), { key: owner.key, query: { billing_type: 'billable' } }),
    );
    expect(billable).toMatchObject({ billing_type: 'billable', total_cost: '1.25', record_count: 1 });
    const etl = await t.expect(
      200,
      t.get(storageCosts(org.id), { key: owner.key, query: { pipeline_id: 'etl' } }),
    );
    expect(etl).toMatchObject({ pipeline_id: 'etl', total_cost: '1.25' });
    const longer = await t.expect(
      200,
      t.get(storageCosts(org.id), { key: owner.key, query: { start: hourMark(10), end: hourMark(0) } }),
    );
    expect(longer).toMatchObject({ start_at: hourMark(10), end_at: hourMark(0), total_cost: '53.25' });

    const badType = await t.get(storageCosts(org.id), { key: owner.key, query: { billing_type: 'free' } });
    expect(badType.status).toBe(400);
    expect(badType.body.error.param).toBe('billing_type');
    const childrenToo = await t.get(storageCosts(org.id), {
      key: owner.key,
      query: { include_children: true },
    });
    expect(childrenToo.status).toBe(400);
    const stranger = await t.userWithKey();
    expect((await t.get(storageCosts(org.id), { key: stranger.key })).status).toBe(404);
    const noUsageScope = await t.organizationKey(org.id, owner.key, ['organization:read']);
    expect((await t.get(storageCosts(org.id), { key: noUsageScope })).status).toBe(403);
  });
});
