import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import type { Queryable } from '../../db/client.js';
import type { MetadataFilter } from '../../http/metadata.js';
import type { PageRequest } from '../../http/pagination.js';
import { listOrganizations } from './queries.js';

/** A user owning four organizations whose metadata differ; `tag` keeps other tests' rows out. */
async function catalogue(t: TestApp) {
  const owner = await t.userWithKey();
  const tag = t.unique('tag');
  const make = (name: string, metadata: object, publicMetadata: object = {}) =>
    t.createOrganization(owner.key, {
      name,
      metadata: { tag, ...metadata },
      public_metadata: { tag, ...publicMetadata },
    });
  const orgs = {
    pro: await make('Pro', { plan: 'pro', seats: 10, beta: true }, { region: 'eu' }),
    free: await make('Free', { plan: 'free', seats: '10', beta: 'true' }, { region: 'us' }),
    pro2: await make('Pro two', { plan: 'pro', seats: 25, beta: false, nested: { plan: 'pro' } }),
    other: await make('Other', { plan: 'pro ', seats: null, beta: null }),
  };
  return { owner, tag, orgs };
}

/** The names a list answers, for `query` given as a raw query string. */
async function names(t: TestApp, key: string, query: string, url = '/v1/organizations') {
  const page = await t.expect(200, t.get(`${url}?limit=100&${query}`, { key }));
  return page.data.map((o: any) => o.name).sort();
}

describeEachDatabase('organization metadata filters', (use) => {
  it('keeps organizations whose top-level key holds the value, as text', async () => {
    const t = use();
    const { owner, tag } = await catalogue(t);
    const find = (query: string) => names(t, owner.key, `metadata[tag]=${tag}&${query}`);
    expect(await find('metadata[plan]=pro')).toEqual(['Pro', 'Pro two']);
    expect(await find('metadata[plan]=enterprise')).toEqual([]);
    expect(await find('metadata[plan]=pro%20')).toEqual(['Other']);
    // A value that spells a number or boolean matches it and the same string.
    expect(await find('metadata[seats]=10')).toEqual(['Free', 'Pro']);
    expect(await find('metadata[beta]=true')).toEqual(['Free', 'Pro']);
    expect(await find('metadata[beta]=false')).toEqual(['Pro two']);
    expect(await find('metadata[seats]=null')).toEqual([]);
    // Only top-level keys: the nested plan is not a match on its own.
    expect(await find('metadata[nested]=pro')).toEqual([]);
    // Several conditions must all hold, over both objects.
    expect(await find('metadata[plan]=pro&metadata[seats]=25')).toEqual(['Pro two']);
    expect(await find('metadata[plan]=pro&public_metadata[region]=eu')).toEqual(['Pro']);
    expect(await find('public_metadata[region]=us')).toEqual(['Free']);
    // The key is matched in its own object only.
    expect(await find('public_metadata[plan]=pro')).toEqual([]);
    expect(await find('metadata%5Bplan%5D=free')).toEqual(['Free']);
  });

  it('compares numbers by value, 10.0 stored matching 10', async () => {
    const t = use();
    const { owner, tag, orgs } = await catalogue(t);
    await t.database.db.query(
      `update organizations set metadata = metadata || '{"seats": 10.0}' where id = $1`,
      [orgs.pro2.id],
    );
    expect(await names(t, owner.key, `metadata[tag]=${tag}&metadata[seats]=10`)).toEqual([
      'Free',
      'Pro',
      'Pro two',
    ]);
    expect(await names(t, owner.key, `metadata[tag]=${tag}&metadata[seats]=10.00`)).toEqual([
      'Pro',
      'Pro two',
    ]);
    expect(await names(t, owner.key, `metadata[tag]=${tag}&metadata[seats]=1e1`)).toEqual([]);
  });

  it('filters a user’s organization list, the teams list and admin-key lists, and pages through matches', async () => {
    const t = use();
    const { owner, tag, orgs } = await catalogue(t);
    const forUser = `/v1/users/${owner.user.id}/organizations`;
    expect(await names(t, owner.key, `metadata[tag]=${tag}&metadata[plan]=pro`, forUser)).toEqual([
      'Pro',
      'Pro two',
    ]);
    const admin = await t.expect(200, t.get(`/v1/organizations?metadata[tag]=${tag}&metadata[plan]=free`));
    expect(admin.data.map((o: any) => o.id)).toEqual([orgs.free.id]);

    for (const plan of ['pro', 'free']) {
      await t.expect(
        201,
        t.post(
          `/v1/organizations/${orgs.pro.id}/children`,
          { name: `Team ${plan}`, metadata: { plan } },
          { key: owner.key },
        ),
      );
    }
    const teams = `/v1/organizations/${orgs.pro.id}/children`;
    expect(await names(t, owner.key, 'metadata[plan]=free', teams)).toEqual(['Team free']);

    const first = await t.expect(
      200,
      t.get(`/v1/organizations?limit=1&metadata[tag]=${tag}&metadata[plan]=pro`, { key: owner.key }),
    );
    expect(first.data.map((o: any) => o.name)).toEqual(['Pro']);
    expect(first.pagination.has_more).toBe(true);
    const second = await t.expect(
      200,
      t.get(
        `/v1/organizations?limit=1&metadata[tag]=${tag}&metadata[plan]=pro&cursor=${first.pagination.next_cursor}`,
        {
          key: owner.key,
        },
      ),
    );
    expect(second.data.map((o: any) => o.name)).toEqual(['Pro two']);
    expect(second.pagination.has_more).toBe(false);
  });

  it('answers malformed filters with 400 naming the parameter as sent', async () => {
    const t = use();
    const { owner } = await catalogue(t);
    const cases: [string, string][] = [
      ['metadata=pro', 'metadata'],
      ['public_metadata=pro', 'public_metadata'],
      ['metadata[]=pro', 'metadata[]'],
      ['metadata[a][b]=pro', 'metadata[a][b]'],
      ['metadata[a=pro', 'metadata[a'],
      ['metadata[a]b=pro', 'metadata[a]b'],
      ['metadata[plan]=a&metadata[plan]=b', 'metadata[plan]'],
      [`metadata[${'k'.repeat(101)}]=x`, `metadata[${'k'.repeat(101)}]`],
      [`metadata[plan]=${'v'.repeat(501)}`, 'metadata[plan]'],
      [
        'metadata[a]=1&metadata[b]=1&metadata[c]=1&public_metadata[d]=1&public_metadata[e]=1&metadata[f]=1',
        'metadata[f]',
      ],
      ['private_metadata[plan]=pro', 'private_metadata[plan]'],
      ['metadatas[plan]=pro', 'metadatas[plan]'],
      ['metadata[pl%00an]=pro', 'metadata[pl\u0000an]'],
    ];
    for (const url of ['/v1/organizations', `/v1/users/${owner.user.id}/organizations`]) {
      for (const [query, param] of cases) {
        const reply = await t.get(`${url}?${query}`, { key: owner.key });
        expect(reply.status, query).toBe(400);
        expect(reply.body.error, query).toMatchObject({ code: 'invalid_request', param });
      }
    }
    const fine = await t.get(
      '/v1/organizations?metadata[a]=1&metadata[b]=1&metadata[c]=1&public_metadata[d]=1&public_metadata[e]=',
      { key: owner.key },
    );
    expect(fine.status).toBe(200);
    // The filter is a list parameter only.
    const single = await t.get(`/v1/organizations/${owner.user.id}?metadata[plan]=pro`, { key: owner.key });
    expect(single.status).toBe(400);
  });

  it('is answered through the GIN indexes: each condition is a containment probe the planner can use', async () => {
    const t = use();
    const page: PageRequest = { limit: 20, offset: 0 };
    const planOf = (filter: MetadataFilter) =>
      t.database.db.transaction(async (tx) => {
        // Only bitmap scans remain, and GIN indexes are the ones that can answer the condition.
        await tx.query('set local enable_seqscan = off');
        await tx.query('set local enable_indexscan = off');
        const explaining: Queryable = {
          query: async (text, params) => (await tx.query(`explain ${text}`, params)) as never[],
        };
        const rows = await listOrganizations(
          explaining,
          { activeOnly: false, includeDeleted: true, metadata: [filter] },
          page,
        );
        return (rows as unknown as Record<string, string>[]).map((row) => Object.values(row)[0]).join('\n');
      });
    expect(await planOf({ column: 'metadata', key: 'plan', value: 'pro' })).toContain(
      'organizations_metadata_idx',
    );
    expect(await planOf({ column: 'public_metadata', key: 'seats', value: '10' })).toContain(
      'organizations_public_metadata_idx',
    );
  });
});
