import type { RouteCase, Victim } from '../helpers/isolation.js';

const team = (v: Victim) => ({ slug: v.team.slug });

/** Seed 001's routes in the isolation matrix, aimed at the victim team by its slug. */
export const COMPAT_001_ROUTES: Record<string, RouteCase> = {
  'GET /admin/v1/organizations/{slug}': { scope: 'organization', path: team },
  'PATCH /admin/v1/organizations/{slug}': {
    scope: 'organization',
    path: team,
    body: () => ({ name: 'Taken over' }),
  },
  'DELETE /admin/v1/organizations/{slug}': { scope: 'organization', path: team },
};
