import type { PageRequest } from '../http/pagination.js';

/** SQL for the keyset part of a list ordered by one unique column; `params` gets the values pushed. */
export function keysetSql(column: string, page: PageRequest, params: unknown[]) {
  let where = 'true';
  let order = `${column} asc`;
  if (page.after !== undefined) {
    params.push(page.after);
    where = `${column} > $${params.length}`;
  } else if (page.before !== undefined) {
    params.push(page.before);
    where = `${column} < $${params.length}`;
    order = `${column} desc`;
  }
  params.push(page.limit + 1);
  let tail = `limit $${params.length}`;
  if (page.offset > 0) {
    params.push(page.offset);
    tail += ` offset $${params.length}`;
  }
  return { where, order, tail };
}
