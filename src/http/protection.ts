import { timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpConfig } from '../config.js';
import { ApiError } from './errors.js';

/** Routes for probes and scrapers: never limited, so an orchestrator never sees a 429. */
const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics']);
const WINDOW_MS = 60_000;

export interface Limiters {
  /** Limits by API key; add as an `onRequest` hook after authentication. */
  perKey: ((request: FastifyRequest) => Promise<void>) | null;
}

/**
 * Security headers, CORS and rate limits. Limits count in process, or in Redis when `redisUrl` is
 * set so that every instance enforces one limit; if Redis stops answering, requests are let
 * through (and logged) rather than refused: an outage of the limiter must not become an outage
 * of the API.
 */
export async function protect(
  app: FastifyInstance,
  config: HttpConfig,
  redisUrl?: string,
): Promise<Limiters> {
  securityHeaders(app);
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match', 'x-request-id'],
      exposedHeaders: [
        'etag',
        'x-request-id',
        'retry-after',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
      ],
      maxAge: 600,
    });
  }
  if (config.rateLimitPerKey === 0 && config.rateLimitPerIp === 0) return { perKey: null };

  // Loaded only when configured: most single-instance servers never pay for the client.
  const redis = redisUrl
    ? new (await import('ioredis')).Redis(redisUrl, {
        connectTimeout: 1000,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
      })
    : undefined;
  redis?.on('error', (error) => app.log.warn({ err: error }, 'rate limit store unavailable'));
  // Commands fail at once while Redis is away (no offline queue), so start counting only once it
  // answers; if it does not within a second, the limits stay open until it does.
  if (redis) await Promise.race([once(redis, 'ready'), sleep(1000)]).catch(() => {});
  if (redis) app.addHook('onClose', async () => void redis.disconnect());
  await app.register(rateLimit, {
    global: false,
    timeWindow: WINDOW_MS,
    redis,
    nameSpace: 'orgstack-rate-',
    skipOnError: true,
    enableDraftSpec: true,
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        'rate_limited',
        `Too many requests: at most ${context.max} a minute. Retry in ${context.after}.`,
      ),
  });
  if (config.rateLimitPerIp > 0) {
    app.addHook(
      'onRequest',
      app.rateLimit({
        max: config.rateLimitPerIp,
        keyGenerator: (request) => `ip:${request.ip}`,
        allowList: (request) => UNLIMITED.has(request.url.split('?')[0]!),
      }),
    );
  }
  const perKey =
    config.rateLimitPerKey > 0
      ? app.rateLimit({
          max: config.rateLimitPerKey,
          // JWT callers present no key: they are counted per user.
          keyGenerator: ({ principal }) =>
            principal.keyId ? `key:${principal.keyId}` : `user:${principal.userId}`,
        })
      : null;
  return { perKey: perKey as Limiters['perKey'] };
}

/**
 * The headers OWASP's REST security guidance asks of a JSON API, set once per answer by one
 * synchronous hook: a general-purpose middleware setting a dozen browser-page headers cost about
 * a seventh of the throughput of a simple read.
 */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

function securityHeaders(app: FastifyInstance) {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
}

/** Compares two secrets in time that does not depend on where they differ. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
