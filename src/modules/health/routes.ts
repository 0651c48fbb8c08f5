import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ApiError } from '../../http/errors.js';
import { errors } from '../../http/schemas.js';

const Status = Type.Object({ status: Type.String() });

export function healthRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', {
      schema: { tags: ['health'], summary: 'The process is up', security: [], response: { 200: Status } },
      handler: async () => ({ status: 'ok' }),
    });
    app.get('/readyz', {
      schema: {
        tags: ['health'],
        summary: 'The database answers',
        security: [],
        response: { 200: Status, ...errors(503) },
      },
      handler: async (request) => {
        try {
          await ctx.db.ping();
          return { status: 'ready' };
        } catch (error) {
          request.log.warn({ err: error }, 'readiness check failed');
          throw new ApiError('service_unavailable', 'The database does not answer.');
        }
      },
    });
  };
}
