import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase } from '../../../test/helpers/app.js';
import { members } from '../../../test/helpers/members.js';
import { hoursAgo, storageCosts, storedUsage, usage, usageRecord } from '../../../test/helpers/usage.js';
import { MIGRATIONS_FOLDER } from '../../db/migrate.js';
import { quoteDecimalNumbers } from './decimals.js';

const json = { 'content-type': 'application/json' };

describeEachDatabase('usage ingestion', (use) => {
  it('adds decimal costs exactly, as strings or as JSON numbers read digit for digit', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    // 0.1 + 0.2 a thousand times: 300 exactly, where doubles would drift.
    const records = Array.from({ length: 2000 }, (_, i) => usageRecord({ cost: i % 2 ? '0.2' : '0.1' }));
    const batch = await t.expect(201, t.post(usage(org.id), { records }, { key: owner.key }));
    expect(batch).toMatchObject({ accepted: 2000, total_cost: '300', total_bytes: 200_000 });
    expect(batch.batch_id).toMatch(/^[0-9a-f-]{36}$/);

    // Numbers: written as text so the exact literals reach the server.
    const literal = `{"records": [
      {"storage_type": "s3", "billing_type": "billable", "bytes": 1, "cost": 0.1, "occurred_at": "${hoursAgo(0.5)}"},
      {"storage_type": "s3", "billing_type": "billable", "bytes": 1, "cost": 0.2, "occurred_at": "${hoursAgo(0.5)}"},
      {"storage_type": "s3", "billing_type": "billable", "bytes": 1, "cost": 1e-7, "occurred_at": "${hoursAgo(0.5)}"},
      {"storage_type": "s3", "billing_type": "billable", "bytes": 1, "cost": 0.10000000000000000555, "occurred_at": "${hoursAgo(0.5)}"}
    ]}`;
    const numbers = await t.expect(201, t.post(usage(org.id), literal, { key: owner.key, headers: json }));
    expect(numbers.total_cost).toBe('0.40000010000000000555');

    const tiny = Array.from({ length: 10 }, () => usageRecord({ cost: '0.00000000000000000001' }));
    const small = await t.expect(201, t.post(usage(org.id), { records: tiny }, { key: owner.key }));
    expect(small.total_cost).toBe('0.0000000000000000001');

    const summary = await t.expect(200, t.get(storageCosts(org.id), { key: owner.key }));
    expect(summary.total_cost).toBe('300.40000010000000000565');
    expect(summary.record_count).toBe(2014);
  });

  it('accepts 10,000 records in one batch and refuses 10,001', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const records = Array.from({ length: 10_000 }, (_, i) =>
      usageRecord({
        pipeline_id: `pipe-${i % 7}`,
        bytes: i,
        cost: '0.001',
        occurred_at: hoursAgo((i % 5) + 0.5),
      }),
    );
    const batch = await t.expect(201, t.post(usage(org.id), { records }, { key: owner.key }));
    expect(batch).toMatchObject({ accepted: 10_000, total_cost: '10', total_bytes: 49_995_000 });
    expect(await storedUsage(t, org.id)).toMatchObject({ records: '10000', rollups: '35', batches: '1' });

    const tooMany = await t.post(usage(org.id), { records: [...records, usageRecord()] }, { key: owner.key });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.param).toBe('records');
    const none = await t.post(usage(org.id), { records: [] }, { key: owner.key });
    expect(none.body.error.param).toBe('records');
    expect(await storedUsage(t, org.id)).toMatchObject({ records: '10000', batches: '1' });
  });

  it('refuses a whole batch for one bad record, naming it, and stores nothing', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const good = Array.from({ length: 10 }, () => usageRecord());
    const cases: [Record<string, unknown>, string][] = [
      [{ billing_type: 'free' }, 'billing_type'],
      [{ bytes: -1 }, 'bytes'],
      [{ bytes: 1.5 }, 'bytes'],
      [{ bytes: 2 ** 53 }, 'bytes'],
      [{ cost: '-0.1' }, 'cost'],
      [{ cost: 'ten' }, 'cost'],
      [{ cost: '1,5' }, 'cost'],
      [{ occurred_at: 'yesterday' }, 'occurred_at'],
      [{ occurred_at: '2026-02-30T00:00:00Z' }, 'occurred_at'],
      [{ occurred_at: '2026-06-30T23:59:60Z' }, 'occurred_at'],
      [{ occurred_at: '1969-12-31T23:59:59Z' }, 'occurred_at'],
      [{ occurred_at: hoursAgo(-2) }, 'occurred_at'],
      [{ storage_type: 'S3 Bucket' }, 'storage_type'],
      [{ pipeline_id: '' }, 'pipeline_id'],
      [{ extra: true }, 'extra'],
    ];
    for (const [fields, field] of cases) {
      const records = [...good];
      records[7] = usageRecord(fields);
      const reply = await t.post(usage(org.id), { records }, { key: owner.key });
      expect(reply.status, JSON.stringify(fields)).toBe(400);
      expect(reply.body.error).toMatchObject({ code: 'invalid_request', param: `records[7].${field}` });
    }
    const missing = await t.post(
      usage(org.id),
      { records: [usageRecord(), { storage_type: 's3', billing_type: 'billable', bytes: 1, cost: '1' }] },
      { key: owner.key },
    );
    expect(missing.body.error.param).toBe('records[1].occurred_at');
    expect(await storedUsage(t, org.id)).toMatchObject({ records: '0', rollups: '0', batches: '0' });
  });

  it('answers a repeated Idempotency-Key with the first batch and counts it once', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const orgKey = await t.organizationKey(org.id, owner.key);
    const records = [
      usageRecord({ cost: '2.5' }),
      usageRecord({ cost: '0.5', billing_type: 'non_billable' }),
    ];
    const headers = { 'idempotency-key': 'batch-0001' };
    const first = await t.post(usage(org.id), { records }, { key: owner.key, headers });
    expect(first.status).toBe(201);
    const again = await t.post(usage(org.id), { records }, { key: owner.key, headers });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    // Another caller of the same organization: past the per-caller answers, the batch's own key holds.
    const otherCaller = await t.post(usage(org.id), { records }, { key: orgKey, headers });
    expect(otherCaller.status).toBe(201);
    expect(otherCaller.body).toEqual(first.body);
    // The process died after the commit, before the answer was kept: the batch still answers.
    await t.database.db.query('delete from idempotency_keys');
    const afterCrash = await t.post(usage(org.id), { records }, { key: owner.key, headers });
    expect(afterCrash.body).toEqual(first.body);
    expect(afterCrash.headers['idempotent-replayed']).toBe('true');

    const reused = await t.post(usage(org.id), { records: [usageRecord()] }, { key: orgKey, headers });
    expect(reused.status).toBe(422);
    expect(reused.body.error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key' });

    const summary = await t.expect(200, t.get(storageCosts(org.id), { key: owner.key }));
    expect(summary).toMatchObject({ total_cost: '3', record_count: 2 });
    expect(await storedUsage(t, org.id)).toMatchObject({ records: '2', batches: '1', billable: '2.5' });

    // The same key in another organization is another batch.
    const other = await t.createOrganization(owner.key);
    const elsewhere = await t.expect(201, t.post(usage(other.id), { records }, { key: ADMIN_KEY, headers }));
    expect(elsewhere.batch_id).not.toBe(first.body.batch_id);
  });

  it('stores one batch when retries with one key race from several callers', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const callers = [owner.key, ADMIN_KEY, await t.organizationKey(org.id, owner.key)];
    const records = [usageRecord({ cost: '1' })];
    const replies = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        t.post(usage(org.id), { records }, { key: callers[i % 3]!, headers: { 'idempotency-key': 'race' } }),
      ),
    );
    // The same caller's duplicates may be told the first is still running (409); none stores twice.
    for (const reply of replies) expect([201, 409]).toContain(reply.status);
    const ids = new Set(replies.filter((r) => r.status === 201).map((r) => r.body.batch_id));
    expect(ids.size).toBe(1);
    expect(await storedUsage(t, org.id)).toMatchObject({ records: '1', batches: '1', billable: '1' });
  });

  it('lets admins, admin keys and organization keys of the organization or above ingest; no one else', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const viewer = await t.userWithKey();
    const admin = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: owner.key }),
    );
    await t.expect(
      201,
      t.post(members(org.id), { user_id: admin.user.id, role: 'admin' }, { key: owner.key }),
    );
    const rootKey = await t.organizationKey(org.id, owner.key);
    const teamKey = await t.organizationKey(team.id, owner.key);
    const readOnly = await t.organizationKey(org.id, owner.key, ['usage:read']);
    const stranger = await t.userWithKey();
    const body = { records: [usageRecord()] };

    for (const key of [admin.key, ADMIN_KEY, rootKey])
      await t.expect(201, t.post(usage(team.id), body, { key }));
    await t.expect(201, t.post(usage(team.id), body, { key: teamKey }));
    expect((await t.post(usage(org.id), body, { key: teamKey })).status).toBe(404);
    expect((await t.post(usage(org.id), body, { key: viewer.key })).status).toBe(403);
    const scoped = await t.post(usage(org.id), body, { key: readOnly });
    expect(scoped.body.error.code).toBe('insufficient_scope');
    expect((await t.post(usage(org.id), body, { key: stranger.key })).status).toBe(404);
    // Readers: the viewer reads, the read-only key reads.
    await t.expect(200, t.get(storageCosts(team.id), { key: viewer.key }));
    await t.expect(200, t.get(storageCosts(org.id), { key: readOnly }));
    expect((await t.get(storageCosts(org.id), { key: stranger.key })).status).toBe(404);
    expect(await storedUsage(t, org.id)).toMatchObject({ records: '0' });
    expect(await storedUsage(t, team.id)).toMatchObject({ records: '4', batches: '4' });
  });

  it('records one audit event per batch, not per record', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const records = Array.from({ length: 50 }, () => usageRecord({ cost: '0.02' }));
    const batch = await t.expect(201, t.post(usage(org.id), { records }, { key: owner.key }));
    const trail = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, { key: owner.key, query: { action: 'usage.' } }),
    );
    expect(trail.data).toHaveLength(1);
    expect(trail.data[0]).toMatchObject({
      action: 'usage.ingested',
      target: { type: 'usage_batch', id: batch.batch_id },
      changes: { accepted: { before: null, after: 50 }, total_cost: { before: null, after: '1' } },
    });
  });

  it('takes batches of up to ORGSTACK_USAGE_BODY_LIMIT_BYTES, larger than the general body limit', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const records = Array.from({ length: 10_000 }, (_, i) =>
      usageRecord({ pipeline_id: `a-rather-long-pipeline-identifier-${i}`, cost: '123.456789' }),
    );
    const text = JSON.stringify({ records });
    expect(text.length).toBeGreaterThan(t.config.http.bodyLimitBytes);
    await t.expect(201, t.post(usage(org.id), text, { key: owner.key, headers: json }));
    const huge = `{"records": [], "padding": "${'x'.repeat(t.config.http.usageBodyLimitBytes)}"}`;
    const refused = await t.post(usage(org.id), huge, { key: owner.key, headers: json });
    expect(refused.status).toBe(413);
  });
});

it('quotes the numbers of decimal fields only, as written', () => {
  expect(quoteDecimalNumbers('{"cost": 0.1, "bytes": 5}')).toBe('{"cost": "0.1", "bytes": 5}');
  expect(quoteDecimalNumbers('{"a":[{"cost":-1e-7}],"cost":"2"}')).toBe(
    '{"a":[{"cost":"-1e-7"}],"cost":"2"}',
  );
  expect(quoteDecimalNumbers('{"co\\u0073t": 3, "note": "cost: 4"}')).toBe(
    '{"co\\u0073t": "3", "note": "cost: 4"}',
  );
  expect(quoteDecimalNumbers('{"x\\"cost": 1}')).toBe('{"x\\"cost": 1}');
  expect(quoteDecimalNumbers('{"monthly_limit": 10, "max_overage": 0.5}')).toBe(
    '{"monthly_limit": "10", "max_overage": "0.5"}',
  );
  expect(quoteDecimalNumbers('{"cost": [1]}')).toBe('{"cost": [1]}');
  expect(quoteDecimalNumbers('{"cost": 1')).toBe('{"cost": "1"');
});

describeEachDatabase('usage scopes on existing keys', (use) => {
  it('gives keys made with every earlier scope the usage scopes, and leaves narrower keys alone', async () => {
    const t = use();
    const { keyId: everythingId } = await t.userWithKey();
    const { keyId: narrowId } = await t.userWithKey(['organization:read', 'member:write']);
    const earlier = [
      'organization:read',
      'organization:write',
      'member:read',
      'member:write',
      'user:read',
      'user:write',
      'api_key:read',
      'api_key:write',
      'organization_integration:read',
      'organization_integration:write',
    ];
    // As keys made before the usage scopes existed were stored.
    await t.database.db.query('update api_keys set scopes = $1::text[] where id = $2', [
      earlier,
      everythingId,
    ]);
    const migration = readFileSync(join(MIGRATIONS_FOLDER, '0010_usage_scopes.sql'), 'utf8');
    await t.database.db.query(migration);
    await t.database.db.query(migration);
    const rows = await t.database.db.query<{ id: string; scopes: string[] }>(
      'select id, scopes from api_keys where id = any($1::uuid[])',
      [[everythingId, narrowId]],
    );
    const scopes = Object.fromEntries(rows.map((row) => [row.id, [...row.scopes].sort()]));
    expect(scopes[everythingId]).toEqual([...earlier, 'usage:read', 'usage:write'].sort());
    expect(scopes[narrowId]).toEqual(['member:write', 'organization:read']);
  });
});
