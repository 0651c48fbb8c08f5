import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { costs, storageCosts, usage, usageRecord } from '../../../test/helpers/usage.js';

const HOUR = 3_600_000;
/** The start of the hour `n` hours before the current one, plus `minutes`. */
const hourMark = (n: number, minutes = 0) =>
  new Date(Math.floor(Date.now() / HOUR) * HOUR - n * HOUR + minutes * 60_000).toISOString();

async function ingest(t: TestApp, org: string, key: string, records: Record<string, unknown>[]) {
  return t.expect(201, t.post(usage(org), { records: records.map(usageRecord) }, { key }));
}

describeEachDatabase('cost summaries', (use) => {
  it('totals one storage type with breakdowns by pipeline and by hour, and filters', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    await ingest(t, org.id, owner.key, [
      { occurred_at: hourMark(3, 10), pipeline_id: 'etl', cost: '1.25', bytes: 10 },
      { occurred_at: hourMark(3, 50), pipeline_id: 'etl', cost: '0.75', bytes: 20 },
      {
        occurred_at: hourMark(2, 5),
        pipeline_id: 'ingest',
        cost: '2',
        bytes: 30,
        billing_type: 'non_billable',
      },
      { occurred_at: hourMark(2, 6), cost: '0.5', bytes: 40 },
      { occurred_at: hourMark(2, 7), storage_type: 'bigquery', cost: '100', bytes: 1000 },
    ]);
    const start = hourMark(4);
    const end = hourMark(0);
    const summary = await t.expect(
      200,
      t.get(storageCosts(org.slug), { key: owner.key, query: { start, end } }),
    );
    expect(summary).toEqual({
      organization_id: org.id,
      organization_name: org.name,
      storage_type: 's3',
      start_at: start,
      end_at: end,
      include_children: false,
      billing_type: null,
      pipeline_id: null,
      total_cost: '4.5',
      total_bytes: 100,
      record_count: 4,
      by_pipeline: [
        { pipeline_id: null, total_cost: '0.5', total_bytes: 40, record_count: 1 },
        { pipeline_id: 'etl', total_cost: '2', total_bytes: 30, record_count: 2 },
        { pipeline_id: 'ingest', total_cost: '2', total_bytes: 30, record_count: 1 },
      ],
      by_hour: [
        { hour: hourMark(3), total_cost: '2', total_bytes: 30, record_count: 2 },
        { hour: hourMark(2), total_cost: '2.5', total_bytes: 70, record_count: 2 },
      ],
    });

    const billable = await t.expect(
      200,
      t.get(storageCosts(org.id), { key: owner.key, query: { start, end, billing_type: 'billable' } }),
    );
    expect(billable).toMatchObject({ billing_type: 'billable', total_cost: '2.5', record_count: 3 });
    const etl = await t.expect(
      200,
      t.get(storageCosts(org.id), { key: owner.key, query: { start, end, pipeline_id: 'etl' } }),
    );
    expect(etl).toMatchObject({ pipeline_id: 'etl', total_cost: '2', record_count: 2 });
    expect(etl.by_pipeline).toHaveLength(1);

    const none = await t.expect(
      200,
      t.get(storageCosts(org.id, 'dev-null'), { key: owner.key, query: { start, end } }),
    );
    expect(none).toMatchObject({
      total_cost: '0',
      total_bytes: 0,
      record_count: 0,
      by_pipeline: [],
      by_hour: [],
    });

    const all = await t.expect(200, t.get(costs(org.id), { key: owner.key, query: { start, end } }));
    expect(all).toMatchObject({ total_cost: '104.5', total_bytes: 1100, record_count: 5 });
    expect(all.by_storage_type).toEqual([
      { storage_type: 'bigquery', total_cost: '100', total_bytes: 1000, record_count: 1 },
      { storage_type: 's3', total_cost: '4.5', total_bytes: 100, record_count: 4 },
    ]);
  });

  it('counts whole hours: start rounds down, end rounds up, and the answer says which', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    await ingest(t, org.id, owner.key, [
      { occurred_at: hourMark(5, 1), cost: '1' },
      { occurred_at: hourMark(4, 59), cost: '2' },
      { occurred_at: hourMark(3, 0), cost: '4' },
      { occurred_at: hourMark(2, 30), cost: '8' },
    ]);
    const cut = await t.expect(
      200,
      t.get(storageCosts(org.id), { key: owner.key, query: { start: hourMark(4, 30), end: hourMark(3, 0) } }),
    );
    // 4:30 rounds down to 4:00; an end on the hour stays there, so the 3:00 record is not counted.
    expect(cut).toMatchObject({ start_at: hourMark(4), end_at: hourMark(3), total_cost: '2' });
    const past = await t.expect(
      200,
      t.get(storageCosts(org.id), {
        key: owner.key,
        query: { start: hourMark(4, 30), end: hourMark(3, 0.001) },
      }),
    );
    expect(past).toMatchObject({ start_at: hourMark(4), end_at: hourMark(2), total_cost: '6' });
  });

  it('defaults to the last six hours, the current one included', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    await ingest(t, org.id, owner.key, [
      { occurred_at: new Date(Date.now() - 60_000).toISOString(), cost: '1' },
      { occurred_at: new Date(Date.now() - 5.5 * HOUR).toISOString(), cost: '2' },
      { occurred_at: new Date(Date.now() - 8 * HOUR).toISOString(), cost: '4' },
    ]);
    const before = Date.now();
    const summary = await t.expect(200, t.get(storageCosts(org.id), { key: owner.key }));
    const after = Date.now();
    expect(summary.total_cost).toBe('3');
    const startAt = Date.parse(summary.start_at);
    const endAt = Date.parse(summary.end_at);
    expect(startAt % HOUR).toBe(0);
    expect(endAt % HOUR).toBe(0);
    expect(startAt).toBeGreaterThan(before - 7 * HOUR);
    expect(startAt).toBeLessThanOrEqual(after - 6 * HOUR);
    expect(endAt).toBeGreaterThanOrEqual(before);
    expect(endAt).toBeLessThanOrEqual(after + HOUR);
    // Only `end`: the six hours before it.
    const earlier = await t.expect(
      200,
      t.get(storageCosts(org.id), { key: owner.key, query: { end: hourMark(3) } }),
    );
    expect(earlier).toMatchObject({ start_at: hourMark(9), end_at: hourMark(3), total_cost: '6' });
  });

  it("adds the teams' usage with include_children", async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const grandchild = await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/children`, { name: 'Deep' }, { key: owner.key }),
    );
    const other = await t.createOrganization(owner.key);
    await ingest(t, org.id, owner.key, [{ cost: '1' }]);
    await ingest(t, team.id, owner.key, [{ cost: '2', pipeline_id: 'team-pipe' }]);
    await ingest(t, grandchild.id, owner.key, [{ cost: '4' }]);
    await ingest(t, other.id, owner.key, [{ cost: '8' }]);
    const own = await t.expect(200, t.get(storageCosts(org.id), { key: owner.key }));
    expect(own).toMatchObject({ include_children: false, total_cost: '1', record_count: 1 });
    const tree = await t.expect(
      200,
      t.get(storageCosts(org.id), { key: owner.key, query: { include_children: true } }),
    );
    expect(tree).toMatchObject({ include_children: true, total_cost: '7', record_count: 3 });
    expect(tree.by_pipeline.map((p: any) => [p.pipeline_id, p.total_cost])).toEqual([
      [null, '5'],
      ['team-pipe', '2'],
    ]);
    const teamTree = await t.expect(
      200,
      t.get(costs(team.id), { key: owner.key, query: { include_children: true } }),
    );
    expect(teamTree.total_cost).toBe('6');
  });

  it('agrees with the records over whole days, partial days and single hours alike', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const pipelines = ['a', 'b', null];
    // 240 records over the last five days, in every hour-of-day, three pipelines, both billing types.
    const records = Array.from({ length: 240 }, (_, i) => ({
      occurred_at: new Date(Date.now() - 60_000 - i * 29 * 60_000).toISOString(),
      pipeline_id: pipelines[i % 3],
      billing_type: i % 4 === 0 ? 'non_billable' : 'billable',
      cost: String(1 + (i % 17)),
      bytes: i,
    }));
    await ingest(t, org.id, owner.key, records);
    const ranges = [
      [hourMark(120), hourMark(0)],
      [hourMark(100, 30), hourMark(3, 10)],
      [hourMark(50), hourMark(49)],
      [hourMark(30, 1), hourMark(29, 59)],
      [hourMark(72), hourMark(24)],
    ];
    for (const [start, end] of ranges) {
      const filters: Record<string, string>[] = [{}, { pipeline_id: 'a' }, { billing_type: 'non_billable' }];
      for (const filter of filters) {
        const query = { start: start!, end: end!, ...filter };
        const summary = await t.expect(200, t.get(storageCosts(org.id), { key: owner.key, query }));
        const from = Date.parse(summary.start_at);
        const to = Date.parse(summary.end_at);
        const counted = records.filter(
          (r) =>
            Date.parse(r.occurred_at) >= from &&
            Date.parse(r.occurred_at) < to &&
            (!('pipeline_id' in filter) || r.pipeline_id === filter.pipeline_id) &&
            (!('billing_type' in filter) || r.billing_type === filter.billing_type),
        );
        const total = (rows: typeof records) => String(rows.reduce((sum, r) => sum + Number(r.cost), 0));
        const where = JSON.stringify(query);
        expect(summary.total_cost, where).toBe(total(counted));
        expect(summary.record_count, where).toBe(counted.length);
        const byPipeline = Object.fromEntries(
          summary.by_pipeline.map((p: any) => [String(p.pipeline_id), [p.total_cost, p.record_count]]),
        );
        const expected = Object.fromEntries(
          [...new Set(counted.map((r) => String(r.pipeline_id)))].map((p) => {
            const rows = counted.filter((r) => String(r.pipeline_id) === p);
            return [p, [total(rows), rows.length]];
          }),
        );
        expect(byPipeline, where).toEqual(expected);
        const hours = summary.by_hour.reduce((sum: number, h: any) => sum + h.record_count, 0);
        expect(hours, where).toBe(counted.length);
      }
    }
    const all = await t.expect(
      200,
      t.get(costs(org.id), { key: owner.key, query: { start: hourMark(120), end: hourMark(0, 59) } }),
    );
    expect(all.record_count).toBe(240);
  });

  it('refuses bad ranges and filters with 400 naming the field', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const cases: [string, Record<string, string>, string][] = [
      [storageCosts(org.id), { start: 'yesterday' }, 'start'],
      [storageCosts(org.id), { end: '2026-13-01T00:00:00Z' }, 'end'],
      [storageCosts(org.id), { start: '2026-06-30T23:59:60Z', end: '2026-07-01T01:00:00Z' }, 'start'],
      [storageCosts(org.id), { start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' }, 'start'],
      [storageCosts(org.id), { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' }, 'start'],
      [storageCosts(org.id), { start: '2024-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' }, 'start'],
      [storageCosts(org.id), { billing_type: 'free' }, 'billing_type'],
      [storageCosts(org.id), { pipeline_id: 'a b' }, 'pipeline_id'],
      [storageCosts(org.id), { include_children: 'maybe' }, 'include_children'],
      [storageCosts(org.id), { granularity: 'day' }, 'granularity'],
      [storageCosts(org.id, 'S3%20Bucket'), {}, 'storage_type'],
      [costs(org.id), { start: '2026-01-01' }, 'start'],
    ];
    for (const [url, query, param] of cases) {
      const reply = await t.get(url, { key: owner.key, query });
      expect(reply.status, `${url} ${JSON.stringify(query)}`).toBe(400);
      expect(reply.body.error.param, `${url} ${JSON.stringify(query)}`).toBe(param);
    }
    // 400 days is the longest range.
    await t.expect(
      200,
      t.get(costs(org.id), {
        key: owner.key,
        query: { start: '2025-01-01T00:00:00Z', end: '2026-02-05T00:00:00Z' },
      }),
    );
  });
});
