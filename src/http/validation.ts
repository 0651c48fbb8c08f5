import { Ajv, type AnySchema, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { ApiError } from './errors.js';

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
export function validatorCompiler(schemas: readonly object[]): FastifySchemaCompiler<unknown> {
  let coercing: Ajv | undefined;
  let strict: Ajv | undefined;
  const withShared = (ajv: Ajv) => {
    for (const schema of schemas) ajv.addSchema(schema as AnySchema);
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
 * Gives every API route whose URL `applies` accepts and that declares no `querystring` an empty, closed one, so
 * `DELETE /v1/organizations/x?dry_run=true` answers 400 naming `dry_run` rather than deleting.
 * Must be called before the routes are registered.
 */
export function refuseUnknownQueryParameters(app: FastifyInstance, applies: (url: string) => boolean) {
  app.addHook('onRoute', (route) => {
    if (!applies(route.url)) return;
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    if (schema.querystring !== undefined || schema.query !== undefined) return;
    route.schema = { ...schema, querystring: NO_QUERY };
  });
}

/** Text PostgreSQL can store: no NUL characters, no unpaired UTF-16 surrogates. */
const storable = (text: string) => !text.includes('\u0000') && text.isWellFormed();

/** The path to the first string (or key) that is not storable, walking without recursion. */
function findUnstorable(value: unknown, root: string): string | null {
  const pending: [unknown, string][] = [[value, root]];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (!storable(current)) return path;
    } else if (current !== null && typeof current === 'object') {
      const list = Array.isArray(current);
      for (const [key, child] of Object.entries(current)) {
        const childPath = list ? `${path}[${key}]` : path ? `${path}.${key}` : key;
        if (!storable(key)) return childPath;
        pending.push([child, childPath]);
      }
    }
  }
  return null;
}

/**
 * PostgreSQL cannot store NUL characters or unpaired surrogates in text or JSON. Such input is
 * refused up front, naming the field, instead of failing inside a statement.
 */
export function refuseUnstorableText(app: FastifyInstance) {
  app.addHook('preValidation', async (request) => {
    for (const part of [request.params, request.query, request.body]) {
      const field = findUnstorable(part, '');
      if (field !== null) {
        throw new ApiError(
          'invalid_request',
          'Text must be valid Unicode without NUL (\\u0000) characters.',
          field || null,
        );
      }
    }
  });
}
