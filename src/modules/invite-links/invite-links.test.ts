import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { accept, auditActions, inviteLink, inviteLinks, refusal } from '../../../test/helpers/invitations.js';
import { allMembers, members } from '../../../test/helpers/members.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function createLink(t: TestApp, org: string, body: Record<string, unknown> = {}, key?: string) {
  return t.expect(201, t.post(inviteLinks(org), body, key ? { key } : undefined));
}

/** `count` users with personal keys, made one after the other. */
async function users(t: TestApp, count: number) {
  const made = [];
  for (let i = 0; i < count; i++) made.push(await t.userWithKey());
  return made;
}

describeEachDatabase('invite links', (use) => {
  it('admits any user who is not yet a member with the link role, counting uses', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const before = Date.now();
    const link = await createLink(t, org.slug, { max_uses: 3 }, owner.key);
    expect(link).toMatchObject({
      organization_id: org.id,
      role: 'member',
      status: 'active',
      max_uses: 3,
      uses: 0,
      revoked_at: null,
      created_by: { type: 'user', id: owner.user.id },
    });
    expect(link.token).toMatch(/^osl_[0-9A-Za-z]{40}$/);
    expect(Math.abs(Date.parse(link.expires_at) - before - 7 * 86400_000)).toBeLessThan(60_000);
    const [row] = await t.database.db.query<Record<string, unknown>>(
      'select * from invite_links where id = $1',
      [link.id],
    );
    expect(row!.token_hash).toBe(sha256(link.token));
    expect(JSON.stringify(row)).not.toContain(link.token);
    const { token, ...shown } = link;
    const fetched = await t.get(inviteLink(org.id, link.id), { key: owner.key });
    expect(fetched.body).toEqual(shown);
    expect(fetched.headers.etag).toBeDefined();
    expect(JSON.stringify((await t.get(inviteLinks(org.id))).body)).not.toContain(token);

    const [a, b, c, d] = await users(t, 4);
    for (const user of [a!, b!]) {
      const joined = await t.expect(201, accept(t, token, user.key));
      expect(joined).toMatchObject({ organization_id: org.id, user_id: user.user.id, role: 'member' });
    }
    // A member cannot use the link again, and that costs no use.
    expect((await refusal(409, accept(t, token, a!.key))).code).toBe('already_member');
    expect((await t.expect(200, t.get(inviteLink(org.id, link.id)))).uses).toBe(2);
    await t.expect(201, accept(t, token, c!.key));
    const full = await t.expect(200, t.get(inviteLink(org.id, link.id)));
    expect(full).toMatchObject({ uses: 3, status: 'exhausted' });
    expect((await refusal(410, accept(t, token, d!.key))).code).toBe('invite_link_exhausted');
    expect((await t.get(`/v1/organizations/${org.id}`, { key: d!.key })).status).toBe(404);
    expect(await auditActions(t, org.id, 'invite_link.')).toEqual([
      'invite_link.created',
      'invite_link.accepted',
      'invite_link.accepted',
      'invite_link.accepted',
    ]);
    expect(await auditActions(t, org.id, 'member.added')).toHaveLength(3);
  });

  it('grants at most the member role, and only admins make links', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    for (const role of ['admin', 'owner']) {
      const error = await refusal(400, t.post(inviteLinks(org.id), { role }, { key: owner.key }));
      expect(error).toMatchObject({ code: 'invalid_request', param: 'role' });
    }
    const viewerLink = await createLink(t, org.id, { role: 'viewer', max_uses: null, expires_in: 3600 });
    expect(viewerLink).toMatchObject({ role: 'viewer', max_uses: null, created_by: { type: 'api_key' } });
    const [joiner] = await users(t, 1);
    expect((await t.expect(201, accept(t, viewerLink.token, joiner!.key))).role).toBe('viewer');
    for (const [body, param] of [
      [{ max_uses: 0 }, 'max_uses'],
      [{ expires_in: 60 }, 'expires_in'],
      [{ role: 'god' }, 'role'],
      [{ uses: 3 }, 'uses'],
    ] as const) {
      expect((await refusal(400, t.post(inviteLinks(org.id), body))).param).toBe(param);
    }
    const plain = await t.userWithKey();
    await t.expect(201, t.post(members(org.id), { user_id: plain.user.id, role: 'member' }));
    expect((await refusal(403, t.post(inviteLinks(org.id), {}, { key: plain.key }))).code).toBe('forbidden');
    expect((await refusal(403, t.get(inviteLinks(org.id), { key: plain.key }))).code).toBe('forbidden');
    const stranger = await t.userWithKey();
    expect((await refusal(404, t.get(inviteLink(org.id, viewerLink.id), { key: stranger.key }))).code).toBe(
      'not_found',
    );
    const list = await t.expect(200, t.get(inviteLinks(org.id)));
    expect(list.data.map((l: any) => l.id)).toEqual([viewerLink.id]);
  });

  it('refuses revoked, expired and unknown links with their own codes and changes nothing', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const [user] = await users(t, 1);
    const revoked = await createLink(t, org.id);
    const gone = await t.expect(200, t.delete(inviteLink(org.id, revoked.id), { key: owner.key }));
    expect(gone.status).toBe('revoked');
    expect(await t.expect(200, t.delete(inviteLink(org.id, revoked.id)))).toEqual(gone);
    expect((await refusal(410, accept(t, revoked.token, user!.key))).code).toBe('invitation_revoked');

    const expired = await createLink(t, org.id);
    await t.database.db.query(
      `update invite_links set expires_at = now() - interval '1 second' where id = $1`,
      [expired.id],
    );
    expect((await t.expect(200, t.get(inviteLink(org.id, expired.id)))).status).toBe('expired');
    expect((await refusal(410, accept(t, expired.token, user!.key))).code).toBe('invitation_expired');
    expect((await refusal(404, accept(t, `${revoked.token}x`, user!.key))).code).toBe('invitation_not_found');

    const byStatus = async (status: string) =>
      (await t.expect(200, t.get(inviteLinks(org.id), { query: { status } }))).data.map((l: any) => l.id);
    const active = await createLink(t, org.id, { max_uses: 1 });
    expect(await byStatus('revoked')).toEqual([revoked.id]);
    expect(await byStatus('expired')).toEqual([expired.id]);
    expect(await byStatus('active')).toEqual([active.id]);
    await t.expect(201, accept(t, active.token, user!.key));
    expect(await byStatus('exhausted')).toEqual([active.id]);
    expect(await byStatus('active')).toEqual([]);
    // A stale If-Match refuses the revoke.
    const tagged = await t.get(inviteLink(org.id, active.id));
    await t.expect(200, t.delete(inviteLink(org.id, active.id)));
    const stale = await t.delete(inviteLink(org.id, active.id), {
      headers: { 'if-match': tagged.headers.etag as string },
    });
    expect(stale.status).toBe(412);
    expect((await allMembers(t, org.id)).map((m) => m.user_id).sort()).toEqual(
      [owner.user.id, user!.user.id].sort(),
    );
  });

  it('admits exactly max_uses users when 50 race for a link with five uses', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const link = await createLink(t, org.id, { max_uses: 5 }, owner.key);
    const racers = await users(t, 50);
    const replies = await Promise.all(racers.map((racer) => accept(t, link.token, racer.key)));
    const admitted = replies.filter((reply) => reply.status === 201);
    expect(admitted).toHaveLength(5);
    expect(
      new Set(replies.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body.error.code}`)),
    ).toEqual(new Set(['410 invite_link_exhausted']));
    expect((await t.expect(200, t.get(inviteLink(org.id, link.id)))).uses).toBe(5);
    const joined = (await allMembers(t, org.id)).filter((m) => m.user_id !== owner.user.id);
    expect(joined.map((m) => m.user_id).sort()).toEqual(admitted.map((r) => r.body.user_id).sort());

    // Without a cap, all fifty join, each once, and every use is counted.
    const open = await createLink(t, org.id, {}, owner.key);
    const others = await users(t, 50);
    const all = await Promise.all(others.map((other) => accept(t, open.token, other.key)));
    expect(all.filter((reply) => reply.status === 201)).toHaveLength(50);
    expect((await t.expect(200, t.get(inviteLink(org.id, open.id)))).uses).toBe(50);
    expect(await allMembers(t, org.id)).toHaveLength(1 + 5 + 50);
  });
});
