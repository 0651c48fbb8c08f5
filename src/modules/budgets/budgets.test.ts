import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import { members } from '../../../test/helpers/members.js';
import {
  budget,
  maxOverages,
  storageCosts,
  storedUsage,
  usage,
  usageRecord,
} from '../../../test/helpers/usage.js';

const thisPeriod = () => new Date().toISOString().slice(0, 7);

/** A time in the current month, safely in the past (the month's first instant if that is close). */
function earlierThisMonth() {
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  return new Date(Math.max(monthStart, now.getTime() - 60_000)).toISOString();
}

const charge = (cost: string, fields: Record<string, unknown> = {}) => ({
  records: [usageRecord({ cost, occurred_at: earlierThisMonth(), ...fields })],
});

describeEachDatabase('budgets and maximum overages', (use) => {
  it('has no limit until one is set, then refuses billable usage past it with 402 and stores nothing', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const unset = await t.expect(200, t.get(budget(org.id), { key: owner.key }));
    expect(unset).toEqual({
      organization_id: org.id,
      monthly_limit: null,
      currency: 'USD',
      max_overage: '0',
      ceiling: null,
      period: thisPeriod(),
      period_cost: '0',
      updated_at: null,
    });
    await t.expect(201, t.post(usage(org.id), charge('1000'), { key: owner.key }));

    const set = await t.expect(
      200,
      t.put(budget(org.id), { monthly_limit: '1010.50', currency: 'EUR' }, { key: owner.key }),
    );
    expect(set).toMatchObject({
      monthly_limit: '1010.5',
      currency: 'EUR',
      max_overage: '0',
      ceiling: '1010.5',
      period_cost: '1000',
    });
    expect(set.updated_at).not.toBeNull();
    // Up to the limit exactly is fine; non-billable usage never counts.
    await t.expect(201, t.post(usage(org.id), charge('10.5'), { key: owner.key }));
    await t.expect(
      201,
      t.post(usage(org.id), charge('500', { billing_type: 'non_billable' }), { key: owner.key }),
    );
    const before = await storedUsage(t, org.id);
    const refused = await t.post(usage(org.id), charge('0.01'), { key: owner.key });
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'budget_exceeded',
      param: null,
    });
    expect(refused.body.error.message).toContain(`Budget limit exceeded for monthly period ${thisPeriod()}`);
    expect(await storedUsage(t, org.id)).toEqual(before);
    const trail = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, { key: owner.key, query: { action: 'usage.' } }),
    );
    expect(trail.data).toHaveLength(3);
    const summary = await t.expect(
      200,
      t.get(storageCosts(org.id), { key: owner.key, query: { start: earlierThisMonth() } }),
    );
    expect(summary.record_count).toBe(3);

    // Removing the limit lets it through.
    await t.expect(200, t.put(budget(org.id), { monthly_limit: null }, { key: owner.key }));
    await t.expect(201, t.post(usage(org.id), charge('0.01'), { key: owner.key }));
  });

  it('raises the ceiling by the maximum overage', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    await t.expect(200, t.put(budget(org.id), { monthly_limit: '100' }, { key: owner.key }));
    await t.expect(201, t.post(usage(org.id), charge('100'), { key: owner.key }));
    expect((await t.post(usage(org.id), charge('20'), { key: owner.key })).status).toBe(402);
    const raised = await t.expect(
      200,
      t.patch(maxOverages(org.id), { max_overage: '25' }, { key: owner.key }),
    );
    expect(raised).toMatchObject({
      monthly_limit: '100',
      max_overage: '25',
      ceiling: '125',
      period_cost: '100',
    });
    await t.expect(201, t.post(usage(org.id), charge('20'), { key: owner.key }));
    expect((await t.post(usage(org.id), charge('5.000001'), { key: owner.key })).status).toBe(402);
    await t.expect(201, t.post(usage(org.id), charge('5'), { key: owner.key }));
    // A JSON number is read as written too.
    const numeric = await t.expect(
      200,
      t.patch(maxOverages(org.id), '{"max_overage": 25.000000000000000001}', {
        key: owner.key,
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(numeric.ceiling).toBe('125.000000000000000001');
    // The overage survives a new limit.
    const replaced = await t.expect(200, t.put(budget(org.id), { monthly_limit: '200' }, { key: owner.key }));
    expect(replaced).toMatchObject({ max_overage: '25.000000000000000001', currency: 'USD' });

    // An overage without a limit is kept but enforces nothing.
    const other = await t.createOrganization(owner.key);
    const alone = await t.expect(
      200,
      t.patch(maxOverages(other.id), { max_overage: '1' }, { key: owner.key }),
    );
    expect(alone).toMatchObject({ monthly_limit: null, max_overage: '1', ceiling: null });
    await t.expect(201, t.post(usage(other.id), charge('1000'), { key: owner.key }));

    const trail = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, { key: owner.key, query: { action: 'budget.' } }),
    );
    expect(trail.data.map((e: any) => e.action)).toEqual([
      'budget.updated',
      'budget.updated',
      'budget.updated',
      'budget.updated',
    ]);
    expect(trail.data[1].changes).toEqual({ max_overage: { before: '0', after: '25' } });
  });

  it("holds teams to every budget above them, and counts the teams' usage in each", async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const sibling = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/children`, { name: 'Sibling' }, { key: owner.key }),
    );
    const teamKey = await t.organizationKey(team.id, owner.key);
    await t.expect(200, t.put(budget(org.id), { monthly_limit: '10' }, { key: owner.key }));
    await t.expect(200, t.put(budget(team.id), { monthly_limit: '8' }, { key: owner.key }));
    await t.expect(201, t.post(usage(sibling.id), charge('3'), { key: owner.key }));
    await t.expect(201, t.post(usage(team.id), charge('6'), { key: teamKey }));
    // The team's own budget allows 2 more, the parent's only 1 (3 + 6 spent of 10).
    const overParent = await t.post(usage(team.id), charge('1.5'), { key: teamKey });
    expect(overParent.status).toBe(402);
    expect(overParent.body.error.message).toContain('an organization above it');
    await t.expect(201, t.post(usage(team.id), charge('1'), { key: teamKey }));
    const overOwn = await t.post(usage(team.id), charge('1.5'), { key: owner.key });
    expect(overOwn.status).toBe(402);

    const parent = await t.expect(200, t.get(budget(org.id), { key: owner.key }));
    expect(parent.period_cost).toBe('10');
    const own = await t.expect(200, t.get(budget(team.id), { key: owner.key }));
    expect(own.period_cost).toBe('7');
    // A team key may read the team's budget, not change the parent's.
    expect((await t.put(budget(org.id), { monthly_limit: '1000' }, { key: teamKey })).status).toBe(404);
  });

  it('checks each month a batch touches on its own', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    await t.expect(200, t.put(budget(org.id), { monthly_limit: '10' }, { key: owner.key }));
    const now = new Date();
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15)).toISOString();
    const twoAgo = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 15));
    const twoAgoPeriod = twoAgo.toISOString().slice(0, 7);
    // 8 in each of three months: 24 in all, but no month past 10.
    const spread = [lastMonth, twoAgo.toISOString(), earlierThisMonth()].map((occurred_at) =>
      usageRecord({ cost: '8', occurred_at }),
    );
    await t.expect(201, t.post(usage(org.id), { records: spread }, { key: owner.key }));
    const refused = await t.post(
      usage(org.id),
      {
        records: [
          usageRecord({ cost: '1', occurred_at: lastMonth }),
          usageRecord({ cost: '3', occurred_at: twoAgo.toISOString() }),
        ],
      },
      { key: owner.key },
    );
    expect(refused.status).toBe(402);
    expect(refused.body.error.message).toContain(`monthly period ${twoAgoPeriod}`);
    const before = await storedUsage(t, org.id);
    expect(before).toMatchObject({ records: '3', billable: '24' });
  });

  it('admits only what fits when concurrent batches race to the limit', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const rootKey = await t.organizationKey(org.id, owner.key);
    await t.expect(200, t.put(budget(org.id), { monthly_limit: '9.5' }, { key: owner.key }));
    await t.expect(200, t.patch(maxOverages(org.id), { max_overage: '0.5' }, { key: owner.key }));
    // 24 batches of 1, half for the organization and half for its team: exactly 10 fit.
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        t.post(usage(i % 2 ? team.id : org.id), charge('1'), { key: rootKey }),
      ),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 402)).toHaveLength(14);
    const view = await t.expect(200, t.get(budget(org.id), { key: owner.key }));
    expect(view.period_cost).toBe('10');
    const [stored] = await t.database.db.query<{ records: string }>(
      'select count(*)::text as records from usage_records where root_id = $1',
      [org.id],
    );
    expect(stored?.records).toBe('10');
  });

  it('lets viewers read and admins with organization:write change budgets; validates amounts', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: owner.key }),
    );
    const ingestOnly = await t.organizationKey(org.id, owner.key, ['usage:write']);
    const stranger = await t.userWithKey();

    await t.expect(200, t.get(budget(org.id), { key: viewer.key }));
    expect((await t.put(budget(org.id), { monthly_limit: '5' }, { key: viewer.key })).status).toBe(403);
    const scoped = await t.patch(maxOverages(org.id), { max_overage: '5' }, { key: ingestOnly });
    expect(scoped.status).toBe(403);
    expect(scoped.body.error.code).toBe('insufficient_scope');
    expect((await t.get(budget(org.id), { key: stranger.key })).status).toBe(404);
    expect((await t.patch(maxOverages(org.id), { max_overage: '5' }, { key: stranger.key })).status).toBe(
      404,
    );

    const bad: [string, 'put' | 'patch', unknown, string][] = [
      [budget(org.id), 'put', { monthly_limit: '-5' }, 'monthly_limit'],
      [budget(org.id), 'put', { monthly_limit: 'lots' }, 'monthly_limit'],
      [budget(org.id), 'put', {}, 'monthly_limit'],
      [budget(org.id), 'put', { monthly_limit: '5', currency: 'usd' }, 'currency'],
      [budget(org.id), 'put', { monthly_limit: '5', max_overage: '1' }, 'max_overage'],
      [maxOverages(org.id), 'patch', { max_overage: '-1' }, 'max_overage'],
      [maxOverages(org.id), 'patch', {}, 'max_overage'],
    ];
    for (const [url, method, body, param] of bad) {
      const reply = await t[method](url, body, { key: owner.key });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.param, JSON.stringify(body)).toBe(param);
    }
    const unchanged = await t.expect(200, t.get(budget(org.id), { key: owner.key }));
    expect(unchanged.updated_at).toBeNull();
  });
});

describeEachDatabase('budget versions', (use) => {
  it('tags a budget with the version of its terms, and refuses a stale If-Match with 412 changing nothing', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const unset = await t.get(budget(org.id), { key: owner.key });
    expect(unset.headers.etag).toBeUndefined();
    // `*` needs a budget to exist.
    const none = await t.put(budget(org.id), { monthly_limit: '10' }, { headers: { 'if-match': '*' } });
    expect(none.status).toBe(412);
    expect(none.body.error).toMatchObject({ code: 'precondition_failed', param: 'If-Match' });

    const first = await t.put(budget(org.id), { monthly_limit: '10' }, { key: owner.key });
    expect(first.status).toBe(200);
    const tag = first.headers.etag as string;
    expect(tag).toMatch(/^"[\w-]+"$/);
    const read = await t.get(budget(org.id), { key: owner.key });
    expect(read.headers.etag).toBe(tag);
    // Usage moves period_cost, not the terms' version.
    await t.expect(201, t.post(usage(org.id), charge('1'), { key: owner.key }));
    expect((await t.get(budget(org.id), { key: owner.key })).headers.etag).toBe(tag);

    const raised = await t.call('PATCH', maxOverages(org.id), {
      key: owner.key,
      body: { max_overage: '5' },
      headers: { 'if-match': tag },
    });
    expect(raised.status).toBe(200);
    expect(raised.headers.etag).not.toBe(tag);
    const stale = await t.put(
      budget(org.id),
      { monthly_limit: '1000' },
      { key: owner.key, headers: { 'if-match': tag } },
    );
    expect(stale.status).toBe(412);
    const after = await t.expect(200, t.get(budget(org.id), { key: owner.key }));
    expect(after).toMatchObject({ monthly_limit: '10', max_overage: '5' });
  });
});
