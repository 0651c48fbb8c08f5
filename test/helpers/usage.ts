import type { TestApp } from './app.js';

export const usage = (org: string) => `/v1/organizations/${org}/usage`;
export const costs = (org: string) => `/v1/organizations/${org}/costs`;
export const storageCosts = (org: string, type = 's3') =>
  `/v1/organizations/${org}/costs/storage-types/${type}`;
export const budget = (org: string) => `/v1/organizations/${org}/budget`;
export const maxOverages = (org: string) => `/v1/organizations/${org}/max-overages`;

const HOUR = 3_600_000;

/** An RFC 3339 time `hours` hours ago (fractions allowed). */
export const hoursAgo = (hours: number) => new Date(Date.now() - hours * HOUR).toISOString();

/** A valid usage record: 100 billable bytes of s3 costing 0.1, half an hour ago. */
export const usageRecord = (fields: Record<string, unknown> = {}) => ({
  storage_type: 's3',
  billing_type: 'billable',
  bytes: 100,
  cost: '0.1',
  occurred_at: hoursAgo(0.5),
  ...fields,
});

/** What the database holds for an organization's usage: raw rows, rollups, batches, totals. */
export async function storedUsage(t: TestApp, organizationId: string) {
  const [row] = await t.database.db.query<Record<string, string>>(
    `select (select count(*) from usage_records where organization_id = $1)::text as records,
            (select count(*) from usage_hourly where organization_id = $1)::text as rollups,
            (select count(*) from usage_batches where organization_id = $1)::text as batches,
            (select coalesce(sum(billable_cost), 0)::text from usage_month_totals where organization_id = $1) as billable`,
    [organizationId],
  );
  return row!;
}
