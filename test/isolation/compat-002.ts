import type { RouteCase, Victim } from '../helpers/isolation.js';

const team = (v: Victim) => ({ id: v.team.id });
const teamIntegrations = (v: Victim) => ({ organization_id: v.team.id });
const integration = (v: Victim) => ({ organization_id: v.team.id, id: v.integrationId });

/** Seed 002's routes in the isolation matrix, aimed at the victim team and its integration. */
export const COMPAT_002_ROUTES: Record<string, RouteCase> = {
  'GET /api/organizations/{id}': { scope: 'organization', path: team },
  'PATCH /api/organizations/{id}': {
    scope: 'organization',
    path: team,
    body: () => ({ name: 'Taken over', members_can_use_personal_api_keys: false }),
  },
  'DELETE /api/organizations/{id}': { scope: 'organization', path: team },
  'GET /api/organizations/{organization_id}/integrations': {
    scope: 'organization_integration',
    path: teamIntegrations,
  },
  'GET /api/organizations/{organization_id}/integrations/{id}': {
    scope: 'organization_integration',
    path: integration,
  },
  'DELETE /api/organizations/{organization_id}/integrations/{id}': {
    scope: 'organization_integration',
    path: integration,
  },
  'PATCH /api/organizations/{organization_id}/integrations/{id}/environment-mapping': {
    scope: 'organization_integration',
    path: integration,
    body: (v) => ({ production: v.projectId }),
  },
};
