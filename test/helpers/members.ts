import type { TestApp } from './app.js';

export const members = (org: string) => `/v1/organizations/${org}/members`;
export const member = (org: string, userId: string) => `/v1/organizations/${org}/members/${userId}`;

/** Every member of `org` read page by page (direct only, or with inherited access). */
export async function allMembers(t: TestApp, org: string, includeInherited = false) {
  const rows: any[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const page: any = await t.expect(
      200,
      t.get(members(org), {
        query: { limit: 100, include_inherited: includeInherited, ...(cursor ? { cursor } : {}) },
      }),
    );
    rows.push(...page.data);
    cursor = page.pagination.next_cursor;
    if (!page.pagination.has_more) return rows;
  }
  throw new Error('too many pages');
}
