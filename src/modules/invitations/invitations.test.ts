import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { accept, auditActions, invitation, invitations, refusal } from '../../../test/helpers/invitations.js';
import { allMembers, member, members } from '../../../test/helpers/members.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** An owner with an organization, and an invitee: a user with a personal key and no membership. */
async function setup(t: TestApp) {
  const owner = await t.userWithKey();
  const org = await t.createOrganization(owner.key);
  const invitee = await t.userWithKey();
  return { owner, org, invitee };
}

async function invite(t: TestApp, org: string, body: Record<string, unknown>, key?: string) {
  return t.expect(201, t.post(invitations(org), body, key ? { key } : undefined));
}

/** Moves an invitation's expiry into the past, as time passing would. */
async function expire(t: TestApp, id: string) {
  await t.database.db.query(`update invitations set expires_at = now() - interval '1 second' where id = $1`, [
    id,
  ]);
}

describeEachDatabase('invitations', (use) => {
  it('shows the token once, stores only its hash, and admits the invitee with the role', async () => {
    const t = use();
    const { owner, org, invitee } = await setup(t);
    const before = Date.now();
    const created = await invite(t, org.slug, { email: invitee.user.email.toUpperCase() }, owner.key);
    expect(created).toMatchObject({
      organization_id: org.id,
      email: invitee.user.email.toUpperCase(),
      role: 'member',
      status: 'pending',
      accepted_at: null,
      accepted_by_user_id: null,
      revoked_at: null,
      invited_by: { type: 'user', id: owner.user.id },
    });
    expect(created.token).toMatch(/^osi_[0-9A-Za-z]{40}$/);
    const week = Date.parse(created.expires_at) - before;
    expect(week).toBeGreaterThan(7 * 86400_000 - 60_000);
    expect(week).toBeLessThan(7 * 86400_000 + 60_000);

    // Only the hash is stored; no read answers the token again.
    const [row] = await t.database.db.query<Record<string, unknown>>(
      'select * from invitations where id = $1',
      [created.id],
    );
    expect(row!.token_hash).toBe(sha256(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);
    const fetched = await t.get(invitation(org.id, created.id), { key: owner.key });
    expect(fetched.status).toBe(200);
    expect(fetched.body.token).toBeUndefined();
    expect(fetched.headers.etag).toBeDefined();
    const { token, ...shown } = created;
    expect(fetched.body).toEqual(shown);
    const list = await t.expect(200, t.get(invitations(org.id), { key: owner.key }));
    expect(list.data).toEqual([shown]);
    expect(JSON.stringify(list)).not.toContain(token);

    const joined = await t.expect(201, accept(t, token, invitee.key));
    expect(joined).toMatchObject({
      organization_id: org.id,
      user_id: invitee.user.id,
      role: 'member',
      inherited: false,
    });
    expect((await t.expect(200, t.get(member(org.id, invitee.user.id)))).role).toBe('member');
    const done = await t.expect(200, t.get(invitation(org.id, created.id)));
    expect(done).toMatchObject({ status: 'accepted', accepted_by_user_id: invitee.user.id });
    expect(Date.parse(done.accepted_at)).not.toBeNaN();
    // The invitee now reaches the organization.
    await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: invitee.key }));

    expect(await auditActions(t, org.id, 'invitation.')).toEqual([
      'invitation.created',
      'invitation.accepted',
    ]);
    const trail = await t.expect(
      200,
      t.get(`/v1/organizations/${org.id}/audit-events`, { query: { limit: 100 } }),
    );
    expect(JSON.stringify(trail)).not.toContain(token);
    const added = trail.data.find(
      (event: any) => event.action === 'member.added' && event.actor.user_id === invitee.user.id,
    );
    expect(added).toBeDefined();
  });

  it('invites with a role and expiry, and refuses bad bodies naming the field', async () => {
    const t = use();
    const { owner, org } = await setup(t);
    const email = `${t.unique('v')}@example.com`;
    const before = Date.now();
    const viewer = await invite(t, org.id, { email, role: 'admin', expires_in: 3600 }, owner.key);
    expect(viewer.role).toBe('admin');
    expect(Math.abs(Date.parse(viewer.expires_at) - before - 3600_000)).toBeLessThan(60_000);
    const bad: [Record<string, unknown>, string, string][] = [
      [{ email: 'not-an-email' }, 'email', 'invalid_request'],
      [{}, 'email', 'invalid_request'],
      [{ email, role: 'god' }, 'role', 'unknown_role'],
      [{ email, expires_in: 3599 }, 'expires_in', 'invalid_request'],
      [{ email, expires_in: 30 * 86400 + 1 }, 'expires_in', 'invalid_request'],
      [{ email, expires_in: '3600' }, 'expires_in', 'invalid_request'],
      [{ email, extra: 1 }, 'extra', 'invalid_request'],
    ];
    for (const [body, param, code] of bad) {
      const error = await refusal(400, t.post(invitations(org.id), body, { key: owner.key }));
      expect(error).toMatchObject({ code, param });
    }
    const list = await t.expect(200, t.get(invitations(org.id)));
    expect(list.data.map((i: any) => i.id)).toEqual([viewer.id]);
  });

  it('refuses each kind of unusable token with its own code and changes nothing', async () => {
    const t = use();
    const { owner, org, invitee } = await setup(t);
    const stranger = await t.userWithKey();
    const created = await invite(t, org.id, { email: invitee.user.email, role: 'admin' }, owner.key);
    const snapshot = async () => ({
      members: await allMembers(t, org.id),
      invitation: await t.expect(200, t.get(invitation(org.id, created.id))),
    });
    const start = await snapshot();

    const unknown = await refusal(404, accept(t, `osi_${'a'.repeat(40)}`, invitee.key));
    expect(unknown).toMatchObject({ code: 'invitation_not_found', param: 'token' });
    expect((await refusal(404, accept(t, 'whatever', invitee.key))).code).toBe('invitation_not_found');
    expect((await refusal(404, accept(t, `osl_${'a'.repeat(40)}`, invitee.key))).code).toBe(
      'invitation_not_found',
    );
    // An invitation token is not an API key, and an API key is not an invitation token.
    expect((await t.get('/v1/me', { key: created.token })).status).toBe(401);
    expect((await refusal(404, accept(t, invitee.key, invitee.key))).code).toBe('invitation_not_found');

    // Someone else holding the token learns nothing about who was invited, or where.
    const wrong = await t.post('/v1/invitations/accept', { token: created.token }, { key: stranger.key });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('invitation_email_mismatch');
    for (const secret of [org.id, org.slug, org.name, invitee.user.email, owner.user.id, created.id]) {
      expect(JSON.stringify(wrong.body)).not.toContain(secret);
    }
    // Keys that are not a user cannot accept, nor can a user key without `member:write`.
    for (const key of [undefined, await t.organizationKey(org.id)]) {
      const error = await refusal(403, t.post('/v1/invitations/accept', { token: created.token }, { key }));
      expect(error.code).toBe('forbidden');
    }
    const readOnly = await t.expect(
      201,
      t.post('/v1/api-keys', { user_id: invitee.user.id, scopes: ['member:read'] }),
    );
    expect((await refusal(403, accept(t, created.token, readOnly.secret))).code).toBe('insufficient_scope');
    expect((await refusal(400, t.post('/v1/invitations/accept', {}, { key: invitee.key }))).param).toBe(
      'token',
    );
    expect(await snapshot()).toEqual(start);

    await expire(t, created.id);
    const expiredRead = await t.expect(200, t.get(invitation(org.id, created.id)));
    expect(expiredRead.status).toBe('expired');
    expect((await refusal(410, accept(t, created.token, invitee.key))).code).toBe('invitation_expired');
    // Past its expiry the wrong user still only hears that it is not theirs.
    expect((await refusal(403, accept(t, created.token, stranger.key))).code).toBe(
      'invitation_email_mismatch',
    );

    const second = await invite(t, org.id, { email: invitee.user.email }, owner.key);
    expect((await t.expect(200, t.get(invitation(org.id, created.id)))).status).toBe('expired');
    await t.expect(200, t.delete(invitation(org.id, second.id), { key: owner.key }));
    expect((await refusal(410, accept(t, second.token, invitee.key))).code).toBe('invitation_revoked');

    const third = await invite(t, org.id, { email: invitee.user.email }, owner.key);
    await t.expect(201, accept(t, third.token, invitee.key));
    expect((await refusal(409, accept(t, third.token, invitee.key))).code).toBe(
      'invitation_already_accepted',
    );
    const joined = (await allMembers(t, org.id)).filter((m) => m.user_id === invitee.user.id);
    expect(joined.map((m) => m.role)).toEqual(['member']);
    expect(await auditActions(t, org.id, 'invitation.')).toEqual([
      'invitation.created',
      'invitation.created',
      'invitation.revoked',
      'invitation.created',
      'invitation.accepted',
    ]);
  });

  it('refuses accepting when already a member, or when the organization is gone', async () => {
    const t = use();
    const { owner, org, invitee } = await setup(t);
    const pending = await invite(t, org.id, { email: invitee.user.email, role: 'viewer' }, owner.key);
    await t.expect(201, t.post(members(org.id), { user_id: invitee.user.id, role: 'admin' }));
    expect((await refusal(409, accept(t, pending.token, invitee.key))).code).toBe('already_member');
    expect((await t.expect(200, t.get(invitation(org.id, pending.id)))).status).toBe('pending');
    expect((await t.expect(200, t.get(member(org.id, invitee.user.id)))).role).toBe('admin');
    // Inviting a member, or resending to one, is refused, and changes nothing: not even the lapsed
    // invitation a new one would have replaced.
    await expire(t, pending.id);
    const lapsed = await t.expect(200, t.get(invitation(org.id, pending.id)));
    expect(
      (await refusal(409, t.post(invitations(org.id), { email: invitee.user.email.toUpperCase() }))).code,
    ).toBe('already_member');
    expect(await t.expect(200, t.get(invitation(org.id, pending.id)))).toEqual(lapsed);
    const [stored] = await t.database.db.query<{ status: string }>(
      'select status from invitations where id = $1',
      [pending.id],
    );
    expect(stored!.status).toBe('pending');
    expect((await refusal(409, t.post(`${invitation(org.id, pending.id)}/resend`, {}))).code).toBe(
      'already_member',
    );

    const other = await t.userWithKey();
    const doomed = await t.createOrganization(owner.key);
    const sent = await invite(t, doomed.id, { email: other.user.email }, owner.key);
    await t.expect(204, t.delete(`/v1/organizations/${doomed.id}`, { key: owner.key }));
    expect((await refusal(404, accept(t, sent.token, other.key))).code).toBe('invitation_not_found');
    expect((await t.expect(200, t.get('/v1/me/invitations', { key: other.key }))).data).toEqual([]);
  });

  it('resends with a new token and expiry; the old token stops working', async () => {
    const t = use();
    const { owner, org, invitee } = await setup(t);
    const created = await invite(t, org.id, { email: invitee.user.email, expires_in: 3600 }, owner.key);
    await expire(t, created.id);
    const stale = await t.get(invitation(org.id, created.id));
    const resent = await t.expect(
      200,
      t.post(`${invitation(org.id, created.id)}/resend`, { expires_in: 7200 }, { key: owner.key }),
    );
    expect(resent.id).toBe(created.id);
    expect(resent.status).toBe('pending');
    expect(resent.token).toMatch(/^osi_/);
    expect(resent.token).not.toBe(created.token);
    expect(Date.parse(resent.expires_at) - Date.now()).toBeGreaterThan(7100_000);
    const [row] = await t.database.db.query<{ token_hash: string }>(
      'select token_hash from invitations where id = $1',
      [created.id],
    );
    expect(row!.token_hash).toBe(sha256(resent.token));
    // A write holding the tag of the version before the resend is stale.
    const late = await t.delete(invitation(org.id, created.id), {
      key: owner.key,
      headers: { 'if-match': stale.headers.etag as string },
    });
    expect(late.status).toBe(412);

    expect((await refusal(404, accept(t, created.token, invitee.key))).code).toBe('invitation_not_found');
    // A resend without a body renews for the default week.
    const again = await t.expect(200, t.post(`${invitation(org.id, created.id)}/resend`, undefined));
    expect(Date.parse(again.expires_at) - Date.now()).toBeGreaterThan(7 * 86400_000 - 60_000);
    expect((await refusal(404, accept(t, resent.token, invitee.key))).code).toBe('invitation_not_found');
    await t.expect(201, accept(t, again.token, invitee.key));
    expect((await refusal(409, t.post(`${invitation(org.id, created.id)}/resend`, {}))).code).toBe(
      'invitation_already_accepted',
    );
    expect((await refusal(409, t.delete(invitation(org.id, created.id)))).code).toBe(
      'invitation_already_accepted',
    );

    const revoked = await invite(t, org.id, { email: `${t.unique('r')}@example.com` }, owner.key);
    const gone = await t.expect(200, t.delete(invitation(org.id, revoked.id)));
    expect(gone).toMatchObject({ status: 'revoked' });
    expect(Date.parse(gone.revoked_at)).not.toBeNaN();
    // Revoking again changes nothing.
    expect(await t.expect(200, t.delete(invitation(org.id, revoked.id)))).toEqual(gone);
    expect((await refusal(410, t.post(`${invitation(org.id, revoked.id)}/resend`, {}))).code).toBe(
      'invitation_revoked',
    );
    expect(await auditActions(t, org.id, 'invitation.')).toEqual([
      'invitation.created',
      'invitation.resent',
      'invitation.resent',
      'invitation.accepted',
      'invitation.created',
      'invitation.revoked',
    ]);
  });

  it('keeps one pending invitation per email and organization, also under a burst', async () => {
    const t = use();
    const { owner, org } = await setup(t);
    const other = await t.createOrganization(owner.key);
    const email = `${t.unique('one')}@example.com`;
    const first = await invite(t, org.id, { email }, owner.key);
    const twice = await refusal(409, t.post(invitations(org.id), { email: email.toUpperCase() }));
    expect(twice).toMatchObject({ code: 'already_invited', param: 'email' });
    // Another organization may invite the same email.
    await invite(t, other.id, { email }, owner.key);
    // Once revoked, or expired, the email may be invited again; an expired one stays expired.
    await t.expect(200, t.delete(invitation(org.id, first.id)));
    const second = await invite(t, org.id, { email }, owner.key);
    await expire(t, second.id);
    const third = await invite(t, org.id, { email }, owner.key);
    expect((await t.expect(200, t.get(invitation(org.id, second.id)))).status).toBe('expired');
    // Resending the expired one while another is pending would make two.
    expect((await refusal(409, t.post(`${invitation(org.id, second.id)}/resend`, {}))).code).toBe(
      'already_invited',
    );
    await t.expect(200, t.delete(invitation(org.id, third.id)));

    const burstEmail = `${t.unique('burst')}@example.com`;
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.post(invitations(org.id), { email: i % 2 ? burstEmail : burstEmail.toUpperCase() }),
      ),
    );
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    for (const reply of replies.filter((r) => r.status !== 201)) {
      expect(reply.status).toBe(409);
      expect(reply.body.error.code).toBe('already_invited');
    }
    const pending = await t.expect(
      200,
      t.get(invitations(org.id), { query: { email: burstEmail, status: 'pending' } }),
    );
    expect(pending.data).toHaveLength(1);
  });

  it('lets admins invite up to their own role, members only read nothing, strangers see nothing', async () => {
    const t = use();
    const { owner, org } = await setup(t);
    const admin = await t.userWithKey();
    const plain = await t.userWithKey();
    await t.expect(201, t.post(members(org.id), { user_id: admin.user.id, role: 'admin' }));
    await t.expect(201, t.post(members(org.id), { user_id: plain.user.id, role: 'member' }));
    const email = () => `${t.unique('p')}@example.com`;

    const above = await refusal(
      403,
      t.post(invitations(org.id), { email: email(), role: 'owner' }, { key: admin.key }),
    );
    expect(above).toMatchObject({ code: 'forbidden', param: 'role' });
    const byAdmin = await invite(t, org.id, { email: email(), role: 'admin' }, admin.key);
    const ownerInvite = await invite(t, org.id, { email: email(), role: 'owner' }, owner.key);
    // An admin may not revoke or resend an owner's invitation: that is managing the owner role.
    expect((await refusal(403, t.delete(invitation(org.id, ownerInvite.id), { key: admin.key }))).code).toBe(
      'forbidden',
    );
    expect(
      (await refusal(403, t.post(`${invitation(org.id, ownerInvite.id)}/resend`, {}, { key: admin.key })))
        .code,
    ).toBe('forbidden');
    const orgKey = await t.organizationKey(org.id);
    const byKey = await invite(t, org.id, { email: email() }, orgKey);
    expect(byKey.invited_by.type).toBe('api_key');
    const byAdminKey = await invite(t, org.id, { email: email(), role: 'owner' });
    expect(byAdminKey.invited_by.type).toBe('api_key');

    for (const call of [
      t.post(invitations(org.id), { email: email() }, { key: plain.key }),
      t.get(invitations(org.id), { key: plain.key }),
      t.get(invitation(org.id, byAdmin.id), { key: plain.key }),
      t.delete(invitation(org.id, byAdmin.id), { key: plain.key }),
      t.post(`${invitation(org.id, byAdmin.id)}/resend`, {}, { key: plain.key }),
    ]) {
      expect((await refusal(403, call)).code).toBe('forbidden');
    }
    const readOnly = (
      await t.expect(201, t.post('/v1/api-keys', { user_id: owner.user.id, scopes: ['member:read'] }))
    ).secret;
    await t.expect(200, t.get(invitations(org.id), { key: readOnly }));
    expect(
      (await refusal(403, t.post(invitations(org.id), { email: email() }, { key: readOnly }))).code,
    ).toBe('insufficient_scope');
    const stranger = await t.userWithKey();
    for (const call of [
      t.post(invitations(org.id), { email: email() }, { key: stranger.key }),
      t.get(invitations(org.slug), { key: stranger.key }),
      t.get(invitation(org.id, byAdmin.id), { key: stranger.key }),
    ]) {
      expect((await refusal(404, call)).code).toBe('not_found');
    }
    // An invitation is found only through its own organization.
    const elsewhere = await t.createOrganization(stranger.key);
    expect(
      (await refusal(404, t.get(invitation(elsewhere.id, byAdmin.id), { key: stranger.key }))).code,
    ).toBe('not_found');
    const all = await t.expect(200, t.get(invitations(org.id), { query: { limit: 100 } }));
    expect(all.data).toHaveLength(4);
  });

  it('invites to a team, and the invitee joins the team only', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const invitee = await t.userWithKey();
    const sent = await invite(t, team.id, { email: invitee.user.email, role: 'admin' }, owner.key);
    expect(sent.organization_id).toBe(team.id);
    const joined = await t.expect(201, accept(t, sent.token, invitee.key));
    expect(joined).toMatchObject({ organization_id: team.id, role: 'admin' });
    await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: invitee.key }));
    expect((await t.get(`/v1/organizations/${org.id}`, { key: invitee.key })).status).toBe(404);
    // A member of the parent reaches the team without a membership there, so may be invited to it.
    const parentMember = await t.createUser();
    await t.expect(201, t.post(members(org.id), { user_id: parentMember.id, role: 'viewer' }));
    const toTeam = await invite(t, team.id, { email: parentMember.email, role: 'admin' }, owner.key);
    expect(toTeam.status).toBe('pending');
    expect((await refusal(409, t.post(invitations(org.id), { email: parentMember.email }))).code).toBe(
      'already_member',
    );
  });

  it('keeps the tenant of invitations and links when their team moves to another tree', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const other = await t.createOrganization(owner.key);
    const sent = await invite(t, team.id, { email: `${t.unique('m')}@example.com` }, owner.key);
    const link = await t.expect(
      201,
      t.post(`/v1/organizations/${team.id}/invite-links`, {}, { key: owner.key }),
    );
    await t.expect(200, t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: other.id }));
    for (const [table, id] of [
      ['invitations', sent.id],
      ['invite_links', link.id],
    ]) {
      const rows = await t.database.db.query<{ root_id: string }>(
        `select root_id from ${table} where id = $1`,
        [id],
      );
      expect(rows[0]!.root_id, table).toBe(other.id);
    }
    expect(org.id).not.toBe(other.id);
  });

  it('lists with status and email filters and keyset pages', async () => {
    const t = use();
    const { owner, org } = await setup(t);
    const sent = [];
    for (let i = 0; i < 12; i++)
      sent.push(await invite(t, org.id, { email: `${t.unique('l')}@example.com` }, owner.key));
    await t.expect(200, t.delete(invitation(org.id, sent[0].id)));
    await expire(t, sent[1].id);
    const byStatus = async (status: string) =>
      (await t.expect(200, t.get(invitations(org.id), { query: { status, limit: 100 } }))).data.map(
        (i: any) => i.id,
      );
    expect(await byStatus('revoked')).toEqual([sent[0].id]);
    expect(await byStatus('expired')).toEqual([sent[1].id]);
    expect(await byStatus('pending')).toEqual(sent.slice(2).map((i) => i.id));
    expect(await byStatus('accepted')).toEqual([]);
    const one = await t.expect(
      200,
      t.get(invitations(org.id), { query: { email: sent[5].email.toUpperCase() } }),
    );
    expect(one.data.map((i: any) => i.id)).toEqual([sent[5].id]);

    const pages: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await t.expect(
        200,
        t.get(invitations(org.id), { query: { limit: 5, ...(cursor ? { cursor } : {}) } }),
      );
      pages.push(...page.data.map((i: any) => i.id));
      if (!page.pagination.has_more) break;
      cursor = page.pagination.next_cursor;
    }
    expect(pages).toEqual(sent.map((i) => i.id));
    expect((await refusal(400, t.get(invitations(org.id), { query: { status: 'lost' } }))).param).toBe(
      'status',
    );
  });

  it("lists the calling user's pending invitations from every organization", async () => {
    const t = use();
    const { owner, org, invitee } = await setup(t);
    const other = await t.createOrganization(owner.key);
    const a = await invite(t, org.id, { email: invitee.user.email }, owner.key);
    const b = await invite(
      t,
      other.id,
      { email: invitee.user.email.toUpperCase(), role: 'viewer' },
      owner.key,
    );
    await invite(t, org.id, { email: `${t.unique('x')}@example.com` }, owner.key);
    const mine = await t.expect(200, t.get('/v1/me/invitations', { key: invitee.key }));
    expect(mine.data.map((i: any) => i.id)).toEqual([a.id, b.id]);
    expect(JSON.stringify(mine)).not.toContain(a.token);
    await t.expect(201, accept(t, b.token, invitee.key));
    const left = await t.expect(200, t.get('/v1/me/invitations', { key: invitee.key }));
    expect(left.data.map((i: any) => i.id)).toEqual([a.id]);
    expect((await refusal(403, t.get('/v1/me/invitations'))).code).toBe('forbidden');
    expect((await t.expect(200, t.get('/v1/me/invitations', { key: owner.key }))).data).toEqual([]);
  });

  it('admits once when 50 accepts of one token race', async () => {
    const t = use();
    const { owner, org, invitee } = await setup(t);
    const sent = await invite(t, org.id, { email: invitee.user.email, role: 'admin' }, owner.key);
    const replies = await Promise.all(Array.from({ length: 50 }, () => accept(t, sent.token, invitee.key)));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = replies.filter((r) => r.status !== 201);
    expect(new Set(refused.map((r) => `${r.status} ${r.body.error.code}`))).toEqual(
      new Set(['409 invitation_already_accepted']),
    );
    const rows = (await allMembers(t, org.id)).filter((m) => m.user_id === invitee.user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0].role).toBe('admin');
    expect((await auditActions(t, org.id, 'member.added')).length).toBe(1);
  });

  it('lets exactly one of a revoke and an accept racing on one invitation win', async () => {
    const t = use();
    const { owner, org } = await setup(t);
    for (let round = 0; round < 5; round++) {
      const invitee = await t.userWithKey();
      const sent = await invite(t, org.id, { email: invitee.user.email }, owner.key);
      const [accepted, revoked] = await Promise.all([
        accept(t, sent.token, invitee.key),
        t.delete(invitation(org.id, sent.id), { key: owner.key }),
      ]);
      const state = (await t.expect(200, t.get(invitation(org.id, sent.id)))).status;
      const joined = (await t.get(member(org.id, invitee.user.id))).status === 200;
      if (accepted.status === 201) {
        expect(revoked.status).toBe(409);
        expect([state, joined]).toEqual(['accepted', true]);
      } else {
        expect([accepted.status, accepted.body.error.code, revoked.status]).toEqual([
          410,
          'invitation_revoked',
          200,
        ]);
        expect([state, joined]).toEqual(['revoked', false]);
      }
    }
  });
});
