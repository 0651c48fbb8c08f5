import type { CompatRouter } from '../index.js';
import { licenseRoutes } from './licenses.js';
import { memberRoutes } from './members.js';
import { organizationRoutes } from './organizations.js';

const tag = {
  name: 'compat 004',
  description:
    'Organizations with an active flag, members added by email, one license per organization and its deployments: plain JSON arrays and objects at the root paths. See docs/compat.md.',
};

export const seed004: CompatRouter = {
  id: '004',
  prefix: '',
  tag,
  async register(app, ctx) {
    const tags = [tag.name];
    await organizationRoutes(app, ctx, tags);
    await memberRoutes(app, ctx, tags);
    await licenseRoutes(app, ctx, tags);
  },
};
