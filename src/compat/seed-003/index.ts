import type { CompatRouter } from '../index.js';
import { overageRoutes } from './overages.js';
import { organizationRoutes } from './routes.js';

const tag = {
  name: 'compat 003',
  description:
    'Organizations, member removal and the maximum overage at `/organization`, in camelCase, as ' +
    'seed 003 spells them. See docs/compat.md.',
};

export const seed003: CompatRouter = {
  id: '003',
  prefix: '',
  tag,
  async register(app, ctx) {
    await app.register(organizationRoutes(ctx, [tag.name]));
    await app.register(overageRoutes(ctx, [tag.name]));
  },
};
