import type { CompatRouter } from '../index.js';
import { organizationRoutes } from './organizations.js';
import { teamRoutes } from './teams.js';

const tag = {
  name: 'compat 000',
  description:
    'Organizations, child organizations (teams) and storage cost summaries, offset-paginated, in the ' +
    'field names of seed 000. See docs/compat.md.',
};

export const seed000: CompatRouter = {
  id: '000',
  prefix: '/compat/000',
  tag,
  async register(app, ctx) {
    await app.register(organizationRoutes(ctx, [tag.name]));
    await app.register(teamRoutes(ctx, [tag.name]));
  },
};
