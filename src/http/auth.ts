import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { ApiError } from './errors.js';
import type { Principal } from './principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw new ApiError('unauthenticated', 'Send an API key as `Authorization: Bearer <key>`.');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError('unauthenticated', 'The Authorization header must be `Bearer <key>`.');
  return match[1]!;
}

/** Every route registered inside `app` after this call requires a valid credential. */
export function requireCredential(app: FastifyInstance, ctx: AppContext) {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    const principal = await ctx.credentials.authenticate(bearerToken(request));
    // A copy per request: the credential cache shares one principal between requests.
    request.principal = {
      ...principal,
      origin: {
        requestId: request.id,
        ip: request.ip ?? null,
        userAgent: (request.headers['user-agent'] as string | undefined)?.slice(0, 512) ?? null,
      },
    };
  });
}
