import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { PageQueryInput, PageResult } from '../../http/pagination.js';

/** At most this many items per answer: enough for almost every list, bounded for the largest. */
export const LIST_MAX = 1000;

/**
 * Lists answer a plain JSON array, as the product does. Past `LIST_MAX` items a client pages with
 * `offset`, and a `Link: <...>; rel="next"` header says there is more.
 */
export const ListQuery = {
  limit: Type.Integer({
    minimum: 1,
    maximum: LIST_MAX,
    default: LIST_MAX,
    description: `Most items to answer (1 to ${LIST_MAX}).`,
  }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'Items to skip.' }),
};
const ListQuerySchema = Type.Object(ListQuery);
export type ListQuery = Static<typeof ListQuerySchema>;

export const pageOf = (query: ListQuery): PageQueryInput => ({
  limit: query.limit,
  offset: query.offset,
  direction: 'forward',
});

/** The page's items, with a `Link` to the next page when there is one. */
export function itemsOf<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  query: ListQuery,
  page: PageResult<T>,
) {
  if (page.pagination.has_more) {
    const next = new URL(request.url, 'http://orgstack.invalid');
    next.searchParams.set('offset', String(query.offset + query.limit));
    next.searchParams.set('limit', String(query.limit));
    reply.header('link', `<${next.pathname}${next.search}>; rel="next"`);
  }
  return page.data;
}
