import type { RouteCase, Victim } from '../helpers/isolation.js';

const team = (v: Victim) => ({ organization_id: v.team.id });

/** Router 003 (docs/compat.md): its routes aimed at the victim, with bodies an allowed caller could send. */
export const COMPAT_003_ROUTES: Record<string, RouteCase> = {
  'GET /organization/{organization_id}': { scope: 'organization', path: team },
  'PUT /organization/{organization_id}': {
    scope: 'organization',
    path: team,
    body: () => ({ organizationName: 'Taken over', domain: 'taken.example.com' }),
  },
  'DELETE /organization/{organization_id}/member/{user_id}': {
    scope: 'member',
    path: (v) => ({ ...team(v), user_id: v.member.user.id }),
  },
  'PATCH /organization/{organization_id}/max-overages': {
    scope: 'organization',
    path: team,
    body: () => ({ maxOverage: '1000000' }),
  },
};
