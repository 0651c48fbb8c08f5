import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { ApiError } from './errors.js';
import { sameSecret } from './protection.js';

/**
 * Prometheus metrics at `/metrics`. One registry per app, so several apps in one process (tests)
 * do not collide. Requests are labelled by route pattern, never by raw URL, to bound cardinality.
 */
export function serveMetrics(app: FastifyInstance, ctx: AppContext): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'orgstack_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'orgstack_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'orgstack_db_statements_in_flight',
    help: 'Database statements running now.',
    registers: [registry],
    collect() {
      this.set(ctx.db.busy.statements);
    },
  });
  new Gauge({
    name: 'orgstack_db_pool_size',
    help: 'Connections the database pool may open (statements in flight beyond it wait for one).',
    registers: [registry],
    collect() {
      this.set(ctx.db.kind === 'postgres' ? ctx.config.dbPoolSize : 1);
    },
  });
  new Gauge({
    name: 'orgstack_db_transactions_in_flight',
    help: 'Database transactions open now.',
    registers: [registry],
    collect() {
      this.set(ctx.db.busy.transactions);
    },
  });
  new Gauge({
    name: 'orgstack_webhook_deliveries',
    help: 'Webhook deliveries by status (pending is the outbox depth).',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await ctx.db.query<{ status: string; n: number }>(
        'select status, count(*)::int as n from webhook_deliveries group by status',
      );
      this.reset();
      for (const status of ['pending', 'succeeded', 'failed']) {
        this.set({ status }, rows.find((row) => row.status === status)?.n ?? 0);
      }
    },
  });
  new Gauge({
    name: 'orgstack_webhook_endpoints_disabled',
    help: 'Webhook endpoints turned off after failing too often.',
    registers: [registry],
    async collect() {
      const rows = await ctx.db.query<{ n: number }>(
        'select count(*)::int as n from webhook_endpoints where not enabled and disabled_reason is not null',
      );
      this.set(rows[0]?.n ?? 0);
    },
  });

  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
    done();
  });

  const token = ctx.config.http.metricsToken;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token) {
      const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!sameSecret(given, token))
        throw new ApiError('unauthenticated', 'Send the metrics token as a Bearer token.');
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return registry;
}
