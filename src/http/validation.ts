import { Ajv, type AnySchema, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
type AddFormats = (ajv: Ajv) => Ajv;
const formatsExport = addFormatsModule as unknown as AddFormats & { default?: AddFormats };
const addFormats: AddFormats = formatsExport.default ?? formatsExport;

const shared: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false };

function newAjv(coerceTypes: Options['coerceTypes']) {
  const ajv = new Ajv({ ...shared, coerceTypes });
  addFormats(ajv);
  return ajv;
}

/**
 * Query strings and path parameters arrive as text, so they are coerced (`limit=5` is a number);
 * JSON bodies are not: `{"name": 123}` is a wrong type and answers 400, never the string "123".
 */
export function validatorCompiler(schemas: () => Record<string, unknown>[]): FastifySchemaCompiler<unknown> {
  let coercing: Ajv | undefined;
  let strict: Ajv | undefined;
  const withShared = (ajv: Ajv) => {
    for (const schema of schemas()) ajv.addSchema(schema);
    return ajv;
  };
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') {
      strict ??= withShared(newAjv(false));
      return strict.compile(schema as AnySchema);
    }
    coercing ??= withShared(newAjv('array'));
    return coercing.compile(schema as AnySchema);
  };
}

/** Routes that declare no query parameters still refuse unknown ones instead of ignoring them. */
const NO_QUERY = { type: 'object', properties: {}, additionalProperties: false } as const;

/**
 * Gives every API route under `prefix` that declares no `querystring` an empty, closed one, so
 * `DELETE /v1/organizations/x?dry_run=true` answers 400 naming `dry_run` rather than deleting.
 * Must be called before the routes are registered.
 */
export function refuseUnknownQueryParameters(app: FastifyInstance, prefix: string) {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(prefix)) return;
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    if (schema.querystring !== undefined || schema.query !== undefined) return;
    route.schema = { ...schema, querystring: NO_QUERY };
  });
}
