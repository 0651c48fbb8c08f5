import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, TEST_JWT_SECRET, type TestApp } from './helpers/app.js';
import type { RouteCase, Victim } from './helpers/isolation.js';
import { signHs256 } from './helpers/jwt.js';
import { usageRecord } from './helpers/usage.js';
import { COMPAT_ROUTES } from './isolation/compat.js';

/*
 * Tenant isolation matrix. Every route with a path parameter (read from the OpenAPI document,
 * which is generated from the route table) is called against a victim's real resources by
 * callers who must not reach them. Strangers learn nothing (404), dead or missing credentials
 * are refused (401), a key without the scope is refused (403), and nothing changes.
 * A route missing from ROUTES fails the test: a new route joins the matrix or the build breaks.
 */

const org = (v: Victim) => ({ org: v.team.id });
const rootAndTeam = (v: Victim) => ({ org: v.root.id, child: v.team.id });
const teamMember = (v: Victim) => ({ org: v.team.id, user_id: v.member.user.id });
const memberUser = (v: Victim) => ({ user_id: v.member.user.id });
const project = (v: Victim) => ({ org: v.team.id, project_id: v.projectId });
const integration = (v: Victim) => ({ org: v.team.id, integration_id: v.integrationId });
const orgPatch = () => ({
  name: 'Taken over',
  friendly_name: 'Taken over',
  public_metadata: { taken: true },
  private_metadata: { taken: true },
});
const victimLicense = (v: Victim) => ({ license_id: v.licenseId });
const teamInvitation = (v: Victim) => ({ org: v.team.id, invitation_id: v.invitationId });
const teamLink = (v: Victim) => ({ org: v.team.id, link_id: v.linkId });
const role = (v: Victim) => ({ org: v.team.id, role_id: v.roleId });

/** How to aim each route at the victim, and a body that would work for a caller allowed to use it. */
const NATIVE_ROUTES: Record<string, RouteCase> = {
  'GET /v1/users/{user_id}': { scope: 'user', path: memberUser },
  'PATCH /v1/users/{user_id}': { scope: 'user', path: memberUser, body: () => ({ name: 'Taken over' }) },
  'DELETE /v1/users/{user_id}': { scope: 'user', path: memberUser },
  'GET /v1/users/{user_id}/organizations': { scope: 'organization', path: memberUser },
  'GET /v1/users/{user_id}/memberships': { scope: 'member', path: memberUser },
  'GET /v1/organizations/{org}': { scope: 'organization', path: org },
  'PATCH /v1/organizations/{org}': { scope: 'organization', path: org, body: orgPatch },
  'DELETE /v1/organizations/{org}': { scope: 'organization', path: org },
  'POST /v1/organizations/{org}/restore': { scope: 'organization', path: org, body: () => ({}) },
  'POST /v1/organizations/{org}/move': {
    scope: 'organization',
    path: org,
    body: () => ({ parent_organization_id: null }),
  },
  'GET /v1/organizations/{org}/children': { scope: 'organization', path: org },
  'POST /v1/organizations/{org}/children': {
    scope: 'organization',
    path: org,
    body: () => ({ name: 'Planted team' }),
  },
  'GET /v1/organizations/{org}/children/{child}': { scope: 'organization', path: rootAndTeam },
  'PATCH /v1/organizations/{org}/children/{child}': {
    scope: 'organization',
    path: rootAndTeam,
    body: orgPatch,
  },
  'DELETE /v1/organizations/{org}/children/{child}': { scope: 'organization', path: rootAndTeam },
  'GET /v1/organizations/{org}/members': { scope: 'member', path: org },
  'POST /v1/organizations/{org}/members': {
    scope: 'member',
    path: org,
    body: () => ({ email: 'planted@example.com', role: 'owner' }),
  },
  'POST /v1/organizations/{org}/transfer-ownership': {
    scope: 'member',
    path: org,
    body: (v) => ({ user_id: v.member.user.id }),
  },
  'GET /v1/organizations/{org}/members/{user_id}': { scope: 'member', path: teamMember },
  'PATCH /v1/organizations/{org}/members/{user_id}': {
    scope: 'member',
    path: teamMember,
    body: () => ({ role: 'owner', private_metadata: { taken: true } }),
  },
  'DELETE /v1/organizations/{org}/members/{user_id}': { scope: 'member', path: teamMember },
  'GET /v1/organizations/{org}/audit-events': { scope: 'organization', path: org },
  'GET /v1/webhook-endpoints/{id}': { scope: 'organization', path: (v) => ({ id: v.webhookId }) },
  'PATCH /v1/webhook-endpoints/{id}': {
    scope: 'organization',
    path: (v) => ({ id: v.webhookId }),
    body: () => ({ url: 'http://93.184.216.34/planted' }),
  },
  'DELETE /v1/webhook-endpoints/{id}': { scope: 'organization', path: (v) => ({ id: v.webhookId }) },
  'GET /v1/webhook-endpoints/{id}/deliveries': { scope: 'organization', path: (v) => ({ id: v.webhookId }) },
  'POST /v1/webhook-endpoints/{id}/test': {
    scope: 'organization',
    path: (v) => ({ id: v.webhookId }),
    body: () => ({}),
  },
  'GET /v1/organizations/{org}/projects': { scope: 'organization', path: org },
  'POST /v1/organizations/{org}/projects': {
    scope: 'organization',
    path: org,
    body: () => ({ name: 'Planted' }),
  },
  'GET /v1/organizations/{org}/projects/{project_id}': { scope: 'organization', path: (v) => project(v) },
  'PATCH /v1/organizations/{org}/projects/{project_id}': {
    scope: 'organization',
    path: (v) => project(v),
    body: () => ({ name: 'Taken over' }),
  },
  'DELETE /v1/organizations/{org}/projects/{project_id}': { scope: 'organization', path: (v) => project(v) },
  'POST /v1/organizations/{org}/projects/{project_id}/restore': {
    scope: 'organization',
    path: (v) => project(v),
    body: () => ({}),
  },
  'GET /v1/licenses/{license_id}': { scope: 'organization', path: victimLicense },
  'PATCH /v1/licenses/{license_id}': {
    scope: 'organization',
    path: victimLicense,
    body: () => ({ seats: null, plan: 'taken-over' }),
  },
  'DELETE /v1/licenses/{license_id}': { scope: 'organization', path: victimLicense },
  'POST /v1/licenses/{license_id}/restore': { scope: 'organization', path: victimLicense, body: () => ({}) },
  'GET /v1/organizations/{org}/license': { scope: 'organization', path: org },
  'PUT /v1/organizations/{org}/license': {
    scope: 'organization',
    path: org,
    body: (v) => ({ license_id: v.spareLicenseId }),
  },
  'DELETE /v1/organizations/{org}/license': { scope: 'organization', path: org },
  'GET /v1/organizations/{org}/entitlements': { scope: 'organization', path: org },
  'GET /v1/organizations/{org}/deployments': { scope: 'organization', path: org },
  'POST /v1/licenses/{license_id}/deployments': {
    scope: 'organization',
    path: victimLicense,
    body: () => ({ name: 'planted', version: '6.6.6' }),
  },
  'GET /v1/licenses/{license_id}/deployments': { scope: 'organization', path: victimLicense },
  'DELETE /v1/licenses/{license_id}/deployments/{deployment_id}': {
    scope: 'organization',
    path: (v) => ({ license_id: v.licenseId, deployment_id: v.deploymentId }),
  },
  'GET /v1/organizations/{org}/integrations': { scope: 'organization_integration', path: org },
  'POST /v1/organizations/{org}/integrations': {
    scope: 'organization_integration',
    path: org,
    body: () => ({ kind: 'vercel', external_id: 'planted', secrets: { api_token: 'planted' } }),
  },
  'GET /v1/organizations/{org}/integrations/{integration_id}': {
    scope: 'organization_integration',
    path: integration,
  },
  'PATCH /v1/organizations/{org}/integrations/{integration_id}': {
    scope: 'organization_integration',
    path: integration,
    body: () => ({ display_name: 'Taken over', secrets: { api_token: 'planted' } }),
  },
  'DELETE /v1/organizations/{org}/integrations/{integration_id}': {
    scope: 'organization_integration',
    path: integration,
  },
  'PATCH /v1/organizations/{org}/integrations/{integration_id}/environment-mapping': {
    scope: 'organization_integration',
    path: integration,
    body: (v) => ({ environment_mapping: { production: v.projectId } }),
  },
  'POST /v1/organizations/{org}/usage': {
    scope: 'usage',
    path: org,
    body: () => ({ records: [usageRecord({ cost: '1' })] }),
  },
  'GET /v1/organizations/{org}/costs': { scope: 'usage', path: org },
  'GET /v1/organizations/{org}/costs/storage-types/{storage_type}': {
    scope: 'usage',
    path: (v) => ({ org: v.team.id, storage_type: 's3' }),
  },
  'GET /v1/organizations/{org}/budget': { scope: 'organization', path: org },
  'PUT /v1/organizations/{org}/budget': {
    scope: 'organization',
    path: org,
    body: () => ({ monthly_limit: '1000000' }),
  },
  'PATCH /v1/organizations/{org}/max-overages': {
    scope: 'organization',
    path: org,
    body: () => ({ max_overage: '1000000' }),
  },
  'GET /v1/organizations/{org}/invitations': { scope: 'member', path: org },
  'POST /v1/organizations/{org}/invitations': {
    scope: 'member',
    path: org,
    body: () => ({ email: 'planted@example.com', role: 'owner' }),
  },
  'POST /v1/organizations/{org}/invitations/bulk': {
    scope: 'member',
    path: org,
    body: () => ({ invitations: [{ email: 'planted@example.com' }] }),
  },
  'GET /v1/organizations/{org}/invitations/{invitation_id}': { scope: 'member', path: teamInvitation },
  'DELETE /v1/organizations/{org}/invitations/{invitation_id}': { scope: 'member', path: teamInvitation },
  'POST /v1/organizations/{org}/invitations/{invitation_id}/resend': {
    scope: 'member',
    path: teamInvitation,
    body: () => ({}),
  },
  'GET /v1/organizations/{org}/invite-links': { scope: 'member', path: org },
  'POST /v1/organizations/{org}/invite-links': { scope: 'member', path: org, body: () => ({}) },
  'GET /v1/organizations/{org}/invite-links/{link_id}': { scope: 'member', path: teamLink },
  'DELETE /v1/organizations/{org}/invite-links/{link_id}': { scope: 'member', path: teamLink },
  'POST /v1/organizations/{org}/members/bulk': {
    scope: 'member',
    path: org,
    body: () => ({ members: [{ email: 'planted@example.com', role: 'owner' }] }),
  },
  'GET /v1/organizations/{org}/roles': { scope: 'organization', path: org },
  'POST /v1/organizations/{org}/roles': {
    scope: 'organization',
    path: org,
    body: () => ({ key: 'planted', name: 'Planted', base_role: 'admin', permissions: ['member:manage'] }),
  },
  'GET /v1/organizations/{org}/roles/{role_id}': { scope: 'organization', path: role },
  'PATCH /v1/organizations/{org}/roles/{role_id}': {
    scope: 'organization',
    path: role,
    body: () => ({ base_role: 'admin', permissions: ['member:manage'] }),
  },
  'DELETE /v1/organizations/{org}/roles/{role_id}': { scope: 'organization', path: role },
  'DELETE /v1/api-keys/{key_id}': { scope: 'api_key', path: (v) => ({ key_id: v.teamKeyId }) },
  'GET /v1/organizations/{org}/api-keys': { scope: 'api_key', path: org },
  'POST /v1/organizations/{org}/api-keys': { scope: 'api_key', path: org, body: () => ({ name: 'planted' }) },
};

const ROUTES: Record<string, RouteCase> = { ...NATIVE_ROUTES, ...COMPAT_ROUTES };

interface Caller {
  name: string;
  key: string | null | ((route: RouteCase) => string);
  /** Statuses this caller may see; the first is the usual one. */
  allowed: number[];
}

async function buildVictim(t: TestApp): Promise<Victim> {
  const owner = await t.userWithKey();
  const root = await t.createOrganization(owner.key);
  const child = (name: string) =>
    t.expect(201, t.post(`/v1/organizations/${root.id}/children`, { name }, { key: owner.key }));
  const team = await child('Victim team');
  const sibling = await child('Sibling team');
  const member = await t.userWithKey();
  await t.expect(
    201,
    t.post(
      `/v1/organizations/${team.id}/members`,
      { user_id: member.user.id, role: 'admin' },
      { key: owner.key },
    ),
  );
  const teamKey = await t.expect(
    201,
    t.post(`/v1/organizations/${team.id}/api-keys`, {}, { key: owner.key }),
  );
  // Disabled, so nothing is sent anywhere during the test.
  const webhook = await t.expect(
    201,
    t.post(
      '/v1/webhook-endpoints',
      { url: 'http://93.184.216.34/hook', organization_id: team.id, enabled: false },
      { key: owner.key },
    ),
  );
  const project = await t.expect(
    201,
    t.post(`/v1/organizations/${team.id}/projects`, { name: 'Victim project' }, { key: owner.key }),
  );
  // The team holds a license an installation reports under; another license waits unassigned.
  const license = await t.expect(201, t.post('/v1/licenses', { plan: 'victim', seats: 100 }));
  await t.expect(
    200,
    t.call('PUT', `/v1/organizations/${team.id}/license`, { body: { license_id: license.id } }),
  );
  const spare = await t.expect(201, t.post('/v1/licenses', { plan: 'spare', seats: 1 }));
  const deployment = await t.expect(
    201,
    t.post(`/v1/licenses/${license.id}/deployments`, { name: 'victim', version: '1.0.0' }),
  );
  const integration = await t.expect(
    201,
    t.post(
      `/v1/organizations/${team.id}/integrations`,
      { kind: 'vercel', external_id: 'victim', secrets: { api_token: 'victim-token' } },
      { key: owner.key },
    ),
  );
  await t.expect(
    201,
    t.post(`/v1/organizations/${team.id}/usage`, { records: [usageRecord()] }, { key: owner.key }),
  );
  await t.expect(
    200,
    t.put(`/v1/organizations/${team.id}/budget`, { monthly_limit: '100' }, { key: owner.key }),
  );
  const invitation = await t.expect(
    201,
    t.post(`/v1/organizations/${team.id}/invitations`, { email: 'invitee@example.com' }, { key: owner.key }),
  );
  const link = await t.expect(
    201,
    t.post(`/v1/organizations/${team.id}/invite-links`, {}, { key: owner.key }),
  );
  const role = await t.expect(
    201,
    t.post(
      `/v1/organizations/${team.id}/roles`,
      { key: 'victim-role', name: 'Victim role', base_role: 'viewer' },
      { key: owner.key },
    ),
  );
  return {
    root,
    team,
    sibling,
    owner,
    member,
    teamKeyId: teamKey.id,
    webhookId: webhook.id,
    projectId: project.id,
    licenseId: license.id,
    spareLicenseId: spare.id,
    deploymentId: deployment.id,
    integrationId: integration.id,
    invitationId: invitation.id,
    linkId: link.id,
    roleId: role.id,
  };
}

async function buildCallers(t: TestApp, v: Victim): Promise<Caller[]> {
  const outsider = await t.userWithKey();
  await t.createOrganization(outsider.key);
  const loner = await t.userWithKey();
  const siblingKey = await t.organizationKey(v.sibling.id, v.owner.key);
  const revoked = await t.expect(201, t.post('/v1/api-keys', { user_id: v.member.user.id }));
  await t.expect(200, t.delete(`/v1/api-keys/${revoked.id}`));
  const expired = await t.expect(201, t.post('/v1/api-keys', { user_id: v.member.user.id }));
  await t.database.db.query(`update api_keys set expires_at = now() - interval '1 minute' where id = $1`, [
    expired.id,
  ]);
  // The victim's own member, with keys holding one scope family: each route gets one lacking its own.
  const keyWith = async (scope: string) =>
    (await t.expect(201, t.post('/v1/api-keys', { user_id: v.member.user.id, scopes: [scope] })))
      .secret as string;
  const apiKeysOnly = await keyWith('api_key:write');
  const organizationsOnly = await keyWith('organization:write');
  const scopeless = (route: RouteCase) => (route.scope === 'api_key' ? organizationsOnly : apiKeysOnly);
  const strangerSub = t.unique('stranger');
  const stranger = { sub: strangerSub, email: `${strangerSub}@example.com`, amr: ['pwd', 'otp'] };
  const strangerJwt = await signHs256(TEST_JWT_SECRET, stranger);
  await t.createOrganization(strangerJwt);
  const expiredJwt = await signHs256(TEST_JWT_SECRET, stranger, { expiresIn: -3600 });
  return [
    { name: 'owner of another organization', key: outsider.key, allowed: [404] },
    { name: 'personal key of a user in no organization', key: loner.key, allowed: [404] },
    { name: 'organization key of a sibling team', key: siblingKey, allowed: [404] },
    { name: 'revoked key', key: revoked.secret, allowed: [401] },
    { name: 'expired key', key: expired.secret, allowed: [401] },
    // 404 where the member has no access at all (the root), whatever the scope.
    { name: 'key without the scope', key: scopeless, allowed: [403, 404] },
    { name: 'no key', key: null, allowed: [401] },
    { name: 'JWT of a user who owns another organization', key: strangerJwt, allowed: [404] },
    { name: 'expired JWT', key: expiredJwt, allowed: [401] },
  ];
}

/** Everything a caller could have changed about the victim, read straight from the database. */
async function snapshot(t: TestApp, v: Victim) {
  const db = t.database.db;
  return {
    organizations: await db.query(
      `select id, name, slug, friendly_name, parent_id, ancestor_ids, active, settings, metadata,
              public_metadata, private_metadata, deleted_at, updated_at from organizations where root_id = $1 or id = $2 order by id`,
      [v.root.id, v.team.id],
    ),
    memberships: await db.query(
      'select * from memberships where root_id = $1 order by organization_id, user_id',
      [v.root.id],
    ),
    keys: await db.query(
      `select id, kind, name, scopes, expires_at, revoked_at, organization_id, user_id from api_keys
        where root_id = $1 or user_id = any($2::uuid[]) order by id`,
      [v.root.id, [v.owner.user.id, v.member.user.id]],
    ),
    users: await db.query('select * from users where id = any($1::uuid[]) order by id', [
      [v.owner.user.id, v.member.user.id],
    ]),
    planted: await db.query(`select id from users where email = 'planted@example.com'`),
    webhooks: await db.query(
      `select id, url, event_types, enabled, updated_at from webhook_endpoints where id = $1`,
      [v.webhookId],
    ),
    roles: await db.query('select * from roles where root_id = $1 order by id', [v.root.id]),
    deliveries: await db.query('select event_id from webhook_deliveries where endpoint_id = $1', [
      v.webhookId,
    ]),
    licenses: await db.query('select * from licenses where id = any($1::uuid[]) order by id', [
      [v.licenseId, v.spareLicenseId],
    ]),
    deployments: await db.query('select * from deployments where license_id = $1 order by id', [v.licenseId]),
    integrations: await db.query('select * from organization_integrations where root_id = $1 order by id', [
      v.root.id,
    ]),
    usage: await db.query(
      `select organization_id, storage_type, hour, billing_type, pipeline_id, bytes, cost::text, record_count
         from usage_hourly where root_id = $1 order by organization_id, storage_type, hour`,
      [v.root.id],
    ),
    usageRecords: await db.query('select count(*)::int as n from usage_records where root_id = $1', [
      v.root.id,
    ]),
    monthTotals: await db.query(
      'select organization_id, month, billable_cost::text from usage_month_totals where root_id = $1 order by 1, 2',
      [v.root.id],
    ),
    budgets: await db.query(
      'select organization_id, monthly_limit::text, max_overage::text, currency, updated_at from budgets where root_id = $1',
      [v.root.id],
    ),
    invitations: await db.query('select * from invitations where root_id = $1 order by id', [v.root.id]),
    inviteLinks: await db.query('select * from invite_links where root_id = $1 order by id', [v.root.id]),
  };
}

let doc: any;

describeEachDatabase('tenant isolation', (use) => {
  beforeAll(async () => {
    doc = (await use().get('/openapi.json', { key: null })).body;
  });

  it('lists every route with a path parameter in the matrix, and nothing else', () => {
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) =>
        path.includes('{') ? Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`) : [],
    );
    expect(routes.filter((route) => !ROUTES[route])).toEqual([]);
    expect(Object.keys(ROUTES).filter((route) => !routes.includes(route))).toEqual([]);
  });

  it('reveals and changes nothing to callers outside the victim organization', async () => {
    const t = use();
    const victim = await buildVictim(t);
    const callers = await buildCallers(t, victim);
    const before = await snapshot(t, victim);
    const wrong: string[] = [];
    for (const [route, aim] of Object.entries(ROUTES)) {
      const [method, template] = route.split(' ') as [string, string];
      const params = aim.path(victim);
      const url = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]!));
      for (const caller of callers) {
        const key = typeof caller.key === 'function' ? caller.key(aim) : caller.key;
        const reply = await t.call(method as 'GET', url, { key, body: aim.body?.(victim) });
        const leaked = JSON.stringify(reply.body).includes(victim.team.id) && reply.status >= 400;
        if (!caller.allowed.includes(reply.status) || leaked || typeof reply.body?.error?.code !== 'string') {
          wrong.push(
            `${route} as ${caller.name}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 160)}`,
          );
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(await snapshot(t, victim)).toEqual(before);
    // The victim still works for its own owner: the matrix did not just break everything.
    await t.expect(200, t.get(`/v1/organizations/${victim.team.id}`, { key: victim.owner.key }));
  });
});
