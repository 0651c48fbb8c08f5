import type { CallOptions, TestApp } from './app.js';

export const license = (id: string) => `/v1/licenses/${id}`;
export const orgLicense = (org: string) => `/v1/organizations/${org}/license`;
export const entitlements = (org: string) => `/v1/organizations/${org}/entitlements`;
export const deployments = (licenseId: string) => `/v1/licenses/${licenseId}/deployments`;

/** A license made with the admin key; seats default to unlimited. */
export async function createLicense(t: TestApp, body: Record<string, unknown> = {}) {
  return t.expect(201, t.post('/v1/licenses', { plan: 'pro', seats: null, ...body }));
}

export function assign(t: TestApp, org: string, licenseId: string, options: CallOptions = {}) {
  return t.call('PUT', orgLicense(org), { ...options, body: { license_id: licenseId } });
}

/** A license assigned to `org` with the admin key. */
export async function licensed(t: TestApp, org: string, body: Record<string, unknown> = {}) {
  const created = await createLicense(t, body);
  await t.expect(200, assign(t, org, created.id));
  return created;
}

/** The actions of the instance trail (or one organization's) about a target, oldest first. */
export async function actionsOn(t: TestApp, targetId: string, org?: string) {
  const url = org ? `/v1/organizations/${org}/audit-events` : '/v1/audit-events';
  const page = await t.expect(200, t.get(url, { query: { target_id: targetId, limit: 100 } }));
  return page.data.map((event: any) => event.action as string);
}
