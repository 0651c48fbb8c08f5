import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { KEY_PREFIX } from '../modules/api-keys/secrets.js';
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

/** Three base64url parts; the last is empty for an unsigned token, which verification then names. */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** Every route registered inside `app` after this call requires a valid credential. */
export function requireCredential(app: FastifyInstance, ctx: AppContext) {
  app.decorateRequest('principal', null as unknown as Principal);
  const { credentials, jwt } = ctx;
  app.addHook('onRequest', async (request) => {
    const credential = bearerToken(request);
    const origin = {
      requestId: request.id,
      ip: request.ip ?? null,
      userAgent: (request.headers['user-agent'] as string | undefined)?.slice(0, 512) ?? null,
    };
    // API keys start with the key prefix and are looked up first: the key path pays one string test.
    const principal =
      jwt && !credential.startsWith(KEY_PREFIX) && JWT_SHAPE.test(credential)
        ? await jwt.authenticate(credential, origin)
        : await credentials.authenticate(credential);
    // A copy per request: the credential cache shares one principal between requests.
    request.principal = { ...principal, origin };
  });
}
