import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyReply } from 'fastify';
import type { PageResult } from './pagination.js';

type SerializerFactory = ReturnType<typeof SerializerSelector>;
type Serializer = ReturnType<ReturnType<SerializerFactory>>;

/**
 * Fastify compiles a serializer for every response schema of every route (over 500), and most
 * are the same few schemas: the error envelope alone is declared about five times per route. Each
 * distinct schema is compiled once here and shared, which takes a third off the heap at start
 * (37 to 23 MB) and about 30 MB off the resident size.
 */
export function sharedSerializers(): SerializerFactory {
  const select = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = select(externalSchemas, options);
    const compiled = new Map<string, Serializer>();
    return (route) => {
      const key = JSON.stringify(route.schema);
      let serialize = compiled.get(key);
      if (!serialize) {
        serialize = compile(route);
        compiled.set(key, serialize);
      }
      return serialize;
    };
  };
}

/**
 * Answers JSON the handler has already written (lists joined from kept renderings): Fastify sends
 * a string with a JSON content type as it is, past the route's serializer. The route still
 * declares its response schema, which the document shows and the tests hold the answer to.
 */
export function sendJson(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

/** The JSON of a page whose items are JSON already: what the `Page` schema would serialize. */
export function pageJson(page: PageResult<string>): string {
  return `{"data":[${page.data.join(',')}],"pagination":${JSON.stringify(page.pagination)}}`;
}
