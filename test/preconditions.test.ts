import { expect, it } from 'vitest';
import { describeEachDatabase } from './helpers/app.js';
import { member } from './helpers/members.js';

describeEachDatabase('ETag and If-Match', (use) => {
  it('tags each version of an organization and refuses a write made against an older one', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const read = await t.get(`/v1/organizations/${org.id}`, { key: owner.key });
    const tag = read.headers.etag as string;
    expect(tag).toMatch(/^"[\w-]+"$/);
    // Reading again without a change gives the same tag; by slug too.
    expect((await t.get(`/v1/organizations/${org.slug}`, { key: owner.key })).headers.etag).toBe(tag);

    const updated = await t.patch(
      `/v1/organizations/${org.id}`,
      { name: 'First' },
      {
        key: owner.key,
        headers: { 'if-match': tag },
      },
    );
    expect(updated.status).toBe(200);
    expect(updated.headers.etag).not.toBe(tag);

    const stale = await t.patch(
      `/v1/organizations/${org.id}`,
      { name: 'Second' },
      {
        key: owner.key,
        headers: { 'if-match': tag },
      },
    );
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'precondition_failed', param: 'If-Match' });
    expect((await t.get(`/v1/organizations/${org.id}`, { key: owner.key })).body.name).toBe('First');

    // Two quick writes never share a tag, so the second one's tag cannot pass for the first's.
    const a = await t.patch(`/v1/organizations/${org.id}`, { friendly_name: 'a' }, { key: owner.key });
    const b = await t.patch(`/v1/organizations/${org.id}`, { friendly_name: 'b' }, { key: owner.key });
    expect(a.headers.etag).not.toBe(b.headers.etag);
    const staleDelete = await t.delete(`/v1/organizations/${org.id}`, {
      key: owner.key,
      headers: { 'if-match': a.headers.etag as string },
    });
    expect(staleDelete.status).toBe(412);
    const deleted = await t.delete(`/v1/organizations/${org.id}`, {
      key: owner.key,
      headers: { 'if-match': `"other", ${b.headers.etag}` },
    });
    expect(deleted.status).toBe(204);
  });

  it('guards member and user writes the same way, and refuses a malformed If-Match', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const joiner = await t.userWithKey();
    const added = await t.post(
      `/v1/organizations/${org.id}/members`,
      { user_id: joiner.user.id, role: 'member' },
      {
        key: owner.key,
      },
    );
    const memberTag = added.headers.etag as string;
    expect(memberTag).toBeTruthy();
    await t.expect(200, t.patch(member(org.id, joiner.user.id), { role: 'viewer' }, { key: owner.key }));
    const stale = await t.patch(
      member(org.id, joiner.user.id),
      { role: 'admin' },
      {
        key: owner.key,
        headers: { 'if-match': memberTag },
      },
    );
    expect(stale.status).toBe(412);
    expect((await t.get(member(org.id, joiner.user.id), { key: owner.key })).body.role).toBe('viewer');

    const user = await t.get(`/v1/users/${joiner.user.id}`);
    const renamed = await t.patch(
      `/v1/users/${joiner.user.id}`,
      { name: 'New' },
      {
        headers: { 'if-match': user.headers.etag as string },
      },
    );
    expect(renamed.status).toBe(200);
    const staleUser = await t.patch(
      `/v1/users/${joiner.user.id}`,
      { name: 'Newer' },
      {
        headers: { 'if-match': user.headers.etag as string },
      },
    );
    expect(staleUser.status).toBe(412);

    const malformed = await t.patch(
      `/v1/users/${joiner.user.id}`,
      { name: 'x' },
      { headers: { 'if-match': 'abc' } },
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.param).toBe('If-Match');
  });

  it('guards webhook endpoint writes too', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const created = await t.post(
      '/v1/webhook-endpoints',
      { url: 'http://93.184.216.34/hook', organization_id: org.id, enabled: false },
      { key: owner.key },
    );
    const tag = created.headers.etag as string;
    const url = `/v1/webhook-endpoints/${created.body.id}`;
    await t.expect(
      200,
      t.patch(url, { description: 'one' }, { key: owner.key, headers: { 'if-match': tag } }),
    );
    const stale = await t.delete(url, { key: owner.key, headers: { 'if-match': tag } });
    expect(stale.status).toBe(412);
    expect((await t.get(url, { key: owner.key })).body.description).toBe('one');
  });

  it('lets exactly one of many writers holding the same tag win', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const tag = (await t.get(`/v1/organizations/${org.id}`, { key: owner.key })).headers.etag as string;
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.patch(
          `/v1/organizations/${org.id}`,
          { name: `Writer ${i}` },
          { key: owner.key, headers: { 'if-match': tag } },
        ),
      ),
    );
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(1);
    expect(replies.filter((reply) => reply.status === 412)).toHaveLength(9);
  });
});
