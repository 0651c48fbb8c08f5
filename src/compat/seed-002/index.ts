import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { CompatRouter } from '../index.js';
import { integrationRoutes } from './integrations.js';
import { organizationRoutes } from './organizations.js';

const tag = 'compat 002';

async function register(app: FastifyInstance, ctx: AppContext) {
  await organizationRoutes([tag])(app, ctx);
  await integrationRoutes([tag])(app, ctx);
}

/** PostHog's organizations API: settings as flat fields, limit/offset pages, organization integrations. */
export const seed002: CompatRouter = {
  id: '002',
  prefix: '/api',
  tag: {
    name: tag,
    description:
      "PostHog's organizations and organization integrations API: `{count, next, previous, results}` pages, scopes `organization:*` and `organization_integration:*`, `@current` for an organization key's own organization. See docs/compat.md.",
  },
  register,
};
