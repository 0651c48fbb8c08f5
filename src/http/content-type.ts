import type { FastifyInstance } from 'fastify';

/**
 * The API speaks JSON only. Fastify also parses `text/plain` by default, which would hand a
 * string to the body schema and answer a confusing 400; without that parser any other media
 * type answers 415 `unsupported_media_type`.
 */
export function acceptOnlyJson(app: FastifyInstance) {
  app.removeContentTypeParser('text/plain');
}
