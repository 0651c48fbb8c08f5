import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { errors, Nullable, Uuid } from '../../http/schemas.js';
import { describeCaller } from './service.js';

export const Me = Type.Object(
  {
    principal: Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('organization')]),
    api_key_id: Nullable(Uuid(), 'The API key used; null for a JWT caller.'),
    scopes: Type.Array(Type.String()),
    authentication: Type.Object({
      method: Type.Union([Type.Literal('api_key'), Type.Literal('jwt')], {
        description: 'How the caller proved who it is.',
      }),
      amr: Type.Array(Type.String(), {
        description: "The JWT's `amr` claim (RFC 8176): how the user signed in. Empty for API keys.",
      }),
      second_factor: Type.Boolean({
        description:
          '`amr` shows a second factor, as organizations with `enforce_2fa` require of JWT callers.',
      }),
    }),
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
