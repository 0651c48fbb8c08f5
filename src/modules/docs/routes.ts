import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';

/**
 * The interactive reference bundles a large browser script (~36 MB of memory once loaded), so it
 * is loaded on the first visit to /docs, in its own small Fastify instance, not at start.
 */
async function loadReference(): Promise<FastifyInstance> {
  const { default: scalar } = await import('@scalar/fastify-api-reference');
  const inner = Fastify({ logger: false });
  await inner.register(scalar, {
    routePrefix: '/docs',
    configuration: { url: '/openapi.json', pageTitle: 'orgstack API reference' },
  });
  await inner.ready();
  return inner;
}

const RELAYED_HEADERS = ['content-type', 'location', 'cache-control', 'etag', 'last-modified'];

export const docsRoutes: FastifyPluginAsync = async (app) => {
  let reference: Promise<FastifyInstance> | undefined;
  const schema = { hide: true };
  for (const path of ['/docs', '/docs/*']) {
    app.get(path, { schema }, async (request, reply) => {
      reference ??= loadReference();
      const answer = await (await reference).inject({ method: 'GET', url: request.url });
      if (answer.statusCode === 404) return reply.callNotFound();
      for (const name of RELAYED_HEADERS) {
        const value = answer.headers[name];
        if (value !== undefined) reply.header(name, value);
      }
      return reply.code(answer.statusCode).send(answer.rawPayload);
    });
  }
  app.addHook('onClose', async () => {
    if (reference) await (await reference).close();
  });
};
