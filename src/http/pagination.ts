import { type Static, type TSchema, Type } from 'typebox';
import { ApiError } from './errors.js';
import { Nullable } from './schemas.js';

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Page size (1 to 100).' }),
  offset: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Rows to skip; not with `cursor`.' }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'Opaque keyset cursor from a previous page.' }),
  ),
  direction: Type.Union([Type.Literal('forward'), Type.Literal('backward')], {
    default: 'forward',
    description: 'Read the page after (`forward`) or before (`backward`) the cursor.',
  }),
};

export type PageQueryInput = {
  limit: number;
  offset?: number;
  cursor?: string;
  direction: 'forward' | 'backward';
};

export const Pagination = Type.Object({
  has_more: Type.Boolean(),
  limit: Type.Integer(),
  next_cursor: Nullable(Type.String()),
  prev_cursor: Nullable(Type.String()),
});

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), pagination: Pagination });

export type PageResult<T> = { data: T[]; pagination: Static<typeof Pagination> };

/** What a query needs to read one page: never both a key and an offset. */
export interface PageRequest {
  limit: number;
  offset: number;
  after?: string;
  before?: string;
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, validKey: (key: string) => boolean): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!validKey(key))
    throw new ApiError('invalid_cursor', 'The cursor is not one this list gave out.', 'cursor');
  return key;
}

export function pageRequest(query: PageQueryInput, validKey: (key: string) => boolean): PageRequest {
  if (query.cursor !== undefined && query.offset !== undefined) {
    throw new ApiError('invalid_request', 'Use either `cursor` or `offset`, not both.', 'offset');
  }
  if (query.cursor === undefined) return { limit: query.limit, offset: query.offset ?? 0 };
  const key = decodeCursor(query.cursor, validKey);
  return query.direction === 'backward'
    ? { limit: query.limit, offset: 0, before: key }
    : { limit: query.limit, offset: 0, after: key };
}

/**
 * Shapes rows read with `limit + 1` into a page. Backward pages arrive in descending key order
 * and are turned around so every page reads in the same order.
 */
export function toPage<Row, Item>(
  rows: Row[],
  page: PageRequest,
  keyOf: (row: Row) => string,
  present: (row: Row) => Item,
): PageResult<Item> {
  const hasMore = rows.length > page.limit;
  const slice = rows.slice(0, page.limit);
  const backward = page.before !== undefined;
  if (backward) slice.reverse();
  const first = slice[0];
  const last = slice[slice.length - 1];
  const earlier = backward ? hasMore : page.after !== undefined || page.offset > 0;
  const later = backward ? true : hasMore;
  return {
    data: slice.map(present),
    pagination: {
      has_more: hasMore,
      limit: page.limit,
      next_cursor: later && last ? encodeCursor(keyOf(last)) : null,
      prev_cursor: earlier && first ? encodeCursor(keyOf(first)) : null,
    },
  };
}
