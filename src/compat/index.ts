import type { FastifyInstance } from 'fastify';
import type { CompatId } from '../config.js';
import type { AppContext } from '../context.js';
import { refuseUnknownQueryParameters } from '../http/validation.js';
import { seed000 } from './seed-000/index.js';
import { seed001 } from './seed-001/index.js';
import { seed002 } from './seed-002/index.js';
import { seed003 } from './seed-003/index.js';
import { seed004 } from './seed-004/index.js';

/**
 * A router that answers one existing product's organization API at its own paths, in its own
 * shapes, by calling the same services as `/v1`: no rule lives here twice. `docs/compat.md` maps
 * every endpoint to its native route.
 */
export interface CompatRouter {
  id: CompatId;
  /** Where its paths start; every route it registers is under this prefix. */
  prefix: string;
  /** The OpenAPI tag its operations carry, with the tag's description. */
  tag: { name: string; description: string };
  register(app: FastifyInstance, ctx: AppContext): Promise<void>;
}

/** Every compatibility router, in the order of their ids. */
export const COMPAT_ROUTERS: CompatRouter[] = [seed000, seed001, seed002, seed003, seed004];

/** The OpenAPI tags of the routers switched on. */
export function compatTags(enabled: readonly CompatId[]) {
  return COMPAT_ROUTERS.filter((router) => enabled.includes(router.id)).map((router) => router.tag);
}

/**
 * Registers the routers `ORGSTACK_COMPAT` switches on, inside an authenticated scope. Their query
 * strings are as strict as `/v1`'s; the rule is set on each router's own scope rather than by URL,
 * because a router may answer at the root (`/organization`) beside `/docs` and `/healthz`.
 */
export async function registerCompatRouters(app: FastifyInstance, ctx: AppContext) {
  for (const router of COMPAT_ROUTERS) {
    if (!ctx.config.compat.includes(router.id)) continue;
    await app.register(
      async (scope) => {
        refuseUnknownQueryParameters(scope, () => true);
        await router.register(scope, ctx);
      },
      { prefix: router.prefix },
    );
  }
}
