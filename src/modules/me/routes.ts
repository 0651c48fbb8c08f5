import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { errors, Nullable, Uuid } from '../../http/schemas.js';
import { describeCaller } from './service.js';

export const Me = Type.Object(
  {
    principal: Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('organization')]),
    api_key_id: Uuid(),
    scopes: Type.Array(Type.String()),
    user: Nullable(Type.Ref('User')),
    organization: Nullable(Type.Ref('Organization')),
  },
  { $id: 'Me' },
);

export function meRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/me', {
      schema: {
        tags: ['me'],
        summary: 'Who the caller is',
        response: { 200: Me, ...errors(401) },
      },
      handler: (request) => describeCaller(ctx, request.principal),
    });
  };
}
