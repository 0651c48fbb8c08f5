import type { RouteCase, Victim } from '../helpers/isolation.js';

const team = (v: Victim) => ({ org_id: v.team.id });
const teamMember = (v: Victim) => ({ org_id: v.team.id, user_id: v.member.user.id });

/** Seed 004: organizations, members, the license and deployments at the root paths. */
export const COMPAT_004_ROUTES: Record<string, RouteCase> = {
  'GET /organizations/{org_id}': { scope: 'organization', path: team },
  'PUT /organizations/{org_id}': {
    scope: 'organization',
    path: team,
    body: () => ({ name: 'Taken over', description: 'Taken over', active: false }),
  },
  'DELETE /organizations/{org_id}': { scope: 'organization', path: team },
  'GET /organizations/{org_id}/members': { scope: 'member', path: team },
  'POST /organizations/{org_id}/members': {
    scope: 'member',
    path: team,
    body: () => ({ email: 'planted@example.com' }),
  },
  'DELETE /organizations/{org_id}/members/{user_id}': { scope: 'member', path: teamMember },
  'GET /organizations/{org_id}/license': { scope: 'organization', path: team },
  'PUT /organizations/{org_id}/license': {
    scope: 'organization',
    path: team,
    body: (v) => ({ license_id: v.spareLicenseId }),
  },
  'DELETE /organizations/{org_id}/license': { scope: 'organization', path: team },
  'GET /organizations/{org_id}/deployments': { scope: 'organization', path: team },
};
