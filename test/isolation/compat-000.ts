import type { RouteCase, Victim } from '../helpers/isolation.js';

const team = (v: Victim) => ({ organization_id: v.team.id });
const rootAndTeam = (v: Victim) => ({ organization_id: v.root.id, child_organization_id: v.team.id });
const takeOver = () => ({ friendly_name: 'Taken over', description: 'Taken over' });

/** Router 000 (docs/compat.md): its routes aimed at the victim, with bodies an allowed caller could send. */
export const COMPAT_000_ROUTES: Record<string, RouteCase> = {
  'PATCH /compat/000/organizations/{organization_id}': { scope: 'organization', path: team, body: takeOver },
  'GET /compat/000/organizations/{organization_id}/costs/storage-types/{storage_type}': {
    scope: 'usage',
    path: (v) => ({ ...team(v), storage_type: 's3' }),
  },
  'GET /compat/000/organizations/{organization_id}/children': { scope: 'organization', path: team },
  'POST /compat/000/organizations/{organization_id}/children': {
    scope: 'organization',
    path: team,
    body: () => ({ name: 'Planted team' }),
  },
  'PATCH /compat/000/organizations/{organization_id}/children/{child_organization_id}': {
    scope: 'organization',
    path: rootAndTeam,
    body: takeOver,
  },
  'DELETE /compat/000/organizations/{organization_id}/children/{child_organization_id}': {
    scope: 'organization',
    path: rootAndTeam,
  },
};
