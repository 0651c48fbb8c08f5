/**
 * @fastify/swagger copies a query property's schema into its parameter but takes `style` and
 * `explode` only from the whole query schema. A property that declares them (an object sent as
 * `name[key]=value`, OpenAPI's `deepObject`) gets them moved onto its own parameter here.
 */
interface Parameter {
  in?: string;
  style?: unknown;
  explode?: unknown;
  schema?: Record<string, unknown>;
}

export function liftParameterStyles<T>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, { parameters?: Parameter[] }>> }).paths;
  for (const operations of Object.values(paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        const schema = parameter.schema;
        if (parameter.in !== 'query' || !schema?.style) continue;
        parameter.style = schema.style;
        parameter.explode = schema.explode ?? true;
        delete schema.style;
        delete schema.explode;
      }
    }
  }
  return document;
}
