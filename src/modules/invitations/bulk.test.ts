import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import { accept, auditActions, invitations, refusal } from '../../../test/helpers/invitations.js';
import { allMembers, members } from '../../../test/helpers/members.js';

const bulk = (org: string) => `/v1/organizations/${org}/invitations/bulk`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const outcomes = (answer: any) =>
  answer.results.map((r: any) => [r.index, r.status, r.error?.code ?? null, r.error?.param ?? null]);

describeEachDatabase('bulk invitations', (use) => {
  it('answers one result per entry, in order, each created one with its own token', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const admin = await t.userWithKey();
    await t.expect(201, t.post(members(org.id), { user_id: admin.user.id, role: 'admin' }));
    const memberUser = await t.createUser();
    await t.expect(201, t.post(members(org.id), { user_id: memberUser.id }));
    const pendingEmail = `${t.unique('pending')}@example.com`;
    await t.expect(201, t.post(invitations(org.id), { email: pendingEmail }));
    const [fresh, other, third] = [1, 2, 3].map(() => `${t.unique('fresh')}@example.com`);
    const answer = await t.expect(
      200,
      t.post(
        bulk(org.id),
        {
          invitations: [
            { email: fresh!, role: 'admin', expires_in: 3600 },
            { email: memberUser.email.toUpperCase() },
            { email: pendingEmail },
            { email: fresh!.toUpperCase() },
            { email: 'nobody' },
            { email: other!, role: 'god' },
            { email: other!, expires_in: 60 },
            { email: other!, role: 'owner' },
            { email: third!, role: 'viewer' },
          ],
        },
        { key: admin.key },
      ),
    );
    expect(outcomes(answer)).toEqual([
      [0, 'created', null, null],
      [1, 'already_member', 'already_member', 'invitations[1].email'],
      [2, 'already_invited', 'already_invited', 'invitations[2].email'],
      [3, 'duplicate', 'duplicate_entry', 'invitations[3].email'],
      [4, 'invalid', 'invalid_request', 'invitations[4].email'],
      [5, 'invalid', 'unknown_role', 'invitations[5].role'],
      [6, 'invalid', 'invalid_request', 'invitations[6].expires_in'],
      [7, 'invalid', 'forbidden', 'invitations[7].role'],
      [8, 'created', null, null],
    ]);
    expect(answer).toMatchObject({ created: 2, refused: 7 });
    const [first, last] = [answer.results[0].invitation, answer.results[8].invitation];
    expect(first).toMatchObject({ email: fresh, role: 'admin', status: 'pending' });
    expect(Math.abs(Date.parse(first.expires_at) - Date.now() - 3600_000)).toBeLessThan(60_000);
    expect(last).toMatchObject({ email: third, role: 'viewer' });
    expect(first.token).not.toBe(last.token);
    const rows = await t.database.db.query<{ id: string; token_hash: string }>(
      'select id, token_hash from invitations where id = any($1::uuid[]) order by id',
      [[first.id, last.id]],
    );
    expect(rows.map((row) => row.token_hash)).toEqual([sha256(first.token), sha256(last.token)]);
    const listed = await t.expect(200, t.get(invitations(org.id), { query: { limit: 100 } }));
    expect(listed.data).toHaveLength(3);
    expect(JSON.stringify(listed)).not.toContain(first.token);
    expect(await auditActions(t, org.id, 'invitation.created')).toHaveLength(3);
    // Every token works like a single invitation's.
    const invitee = await t.userWithKey();
    await t.expect(200, t.patch(`/v1/users/${invitee.user.id}`, { email: third }));
    expect((await t.expect(201, accept(t, last.token, invitee.key))).role).toBe('viewer');
  });

  it('invites 1,000 emails in one request, quickly', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const domain = `${t.unique('d')}.example.com`;
    const entries = Array.from({ length: 1000 }, (_, i) => ({ email: `invitee-${i}@${domain}` }));
    const answer = await t.expect(200, t.post(bulk(org.id), { invitations: entries }, { key: owner.key }));
    expect(answer).toMatchObject({ created: 1000, refused: 0 });
    expect(answer.results.map((r: any) => r.invitation.email)).toEqual(entries.map((e) => e.email));
    expect(new Set(answer.results.map((r: any) => r.invitation.token)).size).toBe(1000);
    expect(await auditActions(t, org.id, 'invitation.created')).toHaveLength(1000);
    const again = await t.expect(200, t.post(bulk(org.id), { invitations: entries }, { key: owner.key }));
    expect(new Set(again.results.map((r: any) => r.status))).toEqual(new Set(['already_invited']));
  }, 60_000);

  it('refuses the whole request when it cannot run, changing nothing', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const email = `${t.unique('never')}@example.com`;
    const stranger = await t.userWithKey();
    const plain = await t.userWithKey();
    await t.expect(201, t.post(members(org.id), { user_id: plain.user.id }));
    const body = { invitations: [{ email }] };
    expect((await refusal(404, t.post(bulk(org.id), body, { key: stranger.key }))).code).toBe('not_found');
    expect((await refusal(403, t.post(bulk(org.id), body, { key: plain.key }))).code).toBe('forbidden');
    const many = { invitations: Array.from({ length: 1001 }, (_, i) => ({ email: `i${i}@example.com` })) };
    expect((await refusal(400, t.post(bulk(org.id), many))).param).toBe('invitations');
    expect((await refusal(400, t.post(bulk(org.id), { invitations: [{ email, token: 'x' }] }))).param).toBe(
      'invitations[0].token',
    );
    expect((await t.expect(200, t.get(invitations(org.id)))).data).toEqual([]);
    expect(await allMembers(t, org.id)).toHaveLength(2);
  });
});
