import type { preValidationHookHandler } from 'fastify';
import { Type } from 'typebox';
import { ApiError } from './errors.js';

const MAX_BYTES = 16 * 1024;
const MAX_DEPTH = 32;

/**
 * Free-form metadata is bounded in size and nesting. Depth is measured without recursion, before
 * anything recursive (serializing, the database's JSON parser) sees a hostile document.
 */
export function checkMetadata(metadata: unknown, param = 'metadata'): void {
  if (metadata === undefined || metadata === null) return;
  const pending: [unknown, number][] = [[metadata, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) {
      throw new ApiError('invalid_request', `${param} may nest at most ${MAX_DEPTH} levels deep.`, param);
    }
    for (const child of Object.values(value)) pending.push([child, depth + 1]);
  }
  if (JSON.stringify(metadata).length > MAX_BYTES) {
    throw new ApiError('invalid_request', `${param} must be at most 16 KB of JSON.`, param);
  }
}

/** The metadata objects an organization list may filter on, as query parameter names. */
const FILTERABLE = ['metadata', 'public_metadata'] as const;
type Filterable = (typeof FILTERABLE)[number];

const MAX_FILTERS = 5;
const MAX_KEY_LENGTH = 100;
const MAX_VALUE_LENGTH = 500;
const BRACKETED = /^(metadata|public_metadata)\[([^[\]]*)\]$/;

/** One `metadata[key]=value` condition: the top-level `key` of `column` holds `value` (see the description). */
export interface MetadataFilter {
  column: Filterable;
  key: string;
  value: string;
}

const filterObject = (column: Filterable) =>
  Type.Record(
    Type.String({ minLength: 1, maxLength: MAX_KEY_LENGTH }),
    Type.String({ maxLength: MAX_VALUE_LENGTH }),
    {
      maxProperties: MAX_FILTERS,
      // Lifted onto the OpenAPI parameter by `liftParameterStyles`: sent as `${column}[plan]=pro`.
      style: 'deepObject',
      explode: true,
      description:
        `Only organizations whose \`${column}\` has this top-level key with this value: ` +
        `\`${column}[plan]=pro\`. The value matches the same string exactly (case and spaces count) and, ` +
        `when it spells a number or a boolean, that number or boolean too: \`${column}[seats]=10\` matches ` +
        `10, 10.0 and "10"; \`${column}[beta]=true\` matches true and "true". null, objects and arrays ` +
        'never match. At most 5 conditions over `metadata` and `public_metadata` together, all of ' +
        'which must hold; keys up to 100 characters, values up to 500.',
    },
  );

/** The query fields of the filters, for list query schemas; `parseMetadataFilters` fills them. */
export const MetadataFilterQuery = {
  metadata: Type.Optional(filterObject('metadata')),
  public_metadata: Type.Optional(filterObject('public_metadata')),
};

export interface MetadataFilterInput {
  metadata?: Record<string, string>;
  public_metadata?: Record<string, string>;
}

const badFilter = (param: string, message: string) => new ApiError('invalid_request', message, param);

/**
 * Fastify's query parser leaves `metadata[plan]=pro` as the key `metadata[plan]`. This hook (a
 * route's `preValidation`, before its query schema runs) gathers those keys into `metadata:
 * {plan: 'pro'}`, and answers malformed ones with a 400 naming the parameter as it was sent.
 */
export const parseMetadataFilters: preValidationHookHandler = (request, _reply, done) => {
  const query = request.query as Record<string, unknown>;
  const found: Partial<Record<Filterable, Record<string, string>>> = {};
  let count = 0;
  for (const param of Object.keys(query)) {
    if ((FILTERABLE as readonly string[]).includes(param)) {
      return done(badFilter(param, `Filter with \`${param}[key]=value\`, one key per parameter.`));
    }
    if (!FILTERABLE.some((column) => param.startsWith(`${column}[`))) continue;
    const match = BRACKETED.exec(param);
    const key = match?.[2];
    if (!match || !key || key.length > MAX_KEY_LENGTH) {
      return done(
        badFilter(
          param,
          `\`${param}\` is not a filter: use \`${match?.[1] ?? param.split('[')[0]}[key]=value\` with one top-level key of 1 to ${MAX_KEY_LENGTH} characters.`,
        ),
      );
    }
    const value = query[param];
    if (typeof value !== 'string') return done(badFilter(param, `\`${param}\` may be given once.`));
    if (value.length > MAX_VALUE_LENGTH) {
      return done(badFilter(param, `\`${param}\` is longer than ${MAX_VALUE_LENGTH} characters.`));
    }
    if (++count > MAX_FILTERS) {
      return done(badFilter(param, `No more than ${MAX_FILTERS} metadata filters may be combined.`));
    }
    const column = match[1] as Filterable;
    // No prototype: a key such as `__proto__` is stored as a key like any other.
    found[column] ??= Object.create(null) as Record<string, string>;
    found[column]![key] = value;
    delete query[param];
  }
  Object.assign(query, found);
  done();
};

/** The filters of a list query, in a stable order. */
export function metadataFilters(input: MetadataFilterInput): MetadataFilter[] {
  return FILTERABLE.flatMap((column) =>
    Object.entries(input[column] ?? {}).map(([key, value]) => ({ column, key, value })),
  );
}
