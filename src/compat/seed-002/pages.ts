import type { FastifyRequest } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';
import { Nullable } from '../../http/schemas.js';

/** PostHog's limit/offset pagination: 100 a page unless `limit` says otherwise. */
export const PageQuery = Type.Object(
  {
    limit: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 100,
      description: 'Number of results to return per page (1 to 100).',
    }),
    offset: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'The initial index from which to return the results.',
    }),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    count: Type.Integer({ description: 'Results over all pages.' }),
    next: Nullable(Type.String({ description: 'URL of the next page, or null on the last.' })),
    previous: Nullable(Type.String({ description: 'URL of the previous page, or null on the first.' })),
    results: Type.Array(item),
  });

/** The request's own URL with other `limit` and `offset` values, absolute as PostHog gives it. */
function linkTo(request: FastifyRequest, limit: number, offset: number): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('limit', String(limit));
  // As PostHog does, the first page is linked without an offset.
  if (offset > 0) url.searchParams.set('offset', String(offset));
  else url.searchParams.delete('offset');
  return url.toString();
}

/** A page of results in PostHog's shape: the total and links to its neighbours. */
export function pageOf<T>(
  request: FastifyRequest,
  query: PageQuery,
  results: T[],
  hasMore: boolean,
  count: number,
) {
  const { limit, offset } = query;
  return {
    count,
    next: hasMore ? linkTo(request, limit, offset + limit) : null,
    previous: offset > 0 ? linkTo(request, limit, Math.max(offset - limit, 0)) : null,
    results,
  };
}
