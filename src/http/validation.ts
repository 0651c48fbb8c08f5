import { Ajv, type AnySchema, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

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
