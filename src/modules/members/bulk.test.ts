import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { auditActions, refusal } from '../../../test/helpers/invitations.js';
import { allMembers, members } from '../../../test/helpers/members.js';

const bulk = (org: string) => `/v1/organizations/${org}/members/bulk`;
const GHOST = '01900000-0000-7000-8000-000000000000';

async function usersWithEmail(t: TestApp, email: string) {
  return (await t.expect(200, t.get('/v1/users', { query: { email } }))).data;
}

/** The results reduced to what each entry came to: [status, error code, param]. */
const outcomes = (answer: any) =>
  answer.results.map((r: any) => [r.index, r.status, r.error?.code ?? null, r.error?.param ?? null]);

/** Makes the database fail an admission for one user, after the membership row is written. */
async function failAdmissionOf(t: TestApp, userId: string, raise: string) {
  await t.database.db.query(
    `create or replace function fail_admission() returns trigger language plpgsql as $$
     begin
       if new.user_id = '${userId}' then ${raise}; end if;
       return new;
     end $$`,
  );
  await t.database.db.query(
    `create trigger fail_admission before insert on user_organizations
       for each row execute function fail_admission()`,
  );
}

async function stopFailing(t: TestApp) {
  await t.database.db.query('drop trigger if exists fail_admission on user_organizations');
}

describeEachDatabase('bulk member adds', (use) => {
  it('answers one result per entry, in order, and adds each person once', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const admin = await t.userWithKey();
    await t.expect(201, t.post(members(org.id), { user_id: admin.user.id, role: 'admin' }));
    const existing = await t.createUser();
    const byEmail = await t.createUser();
    const already = await t.createUser();
    await t.expect(201, t.post(members(org.id), { user_id: already.id, role: 'viewer' }));
    const fresh = `${t.unique('fresh')}@example.com`;
    const unused = `${t.unique('unused')}@example.com`;
    const aboveRole = `${t.unique('above')}@example.com`;
    const answer = await t.expect(
      200,
      t.post(
        bulk(org.slug),
        {
          members: [
            { email: fresh, role: 'admin' },
            { user_id: existing.id },
            { email: already.email },
            { email: 'not-an-email' },
            { email: fresh.toUpperCase() },
            { user_id: existing.id.toUpperCase(), role: 'viewer' },
            { email: unused, user_id: existing.id },
            {},
            { user_id: GHOST },
            { user_id: 'nope' },
            { email: unused, role: 'god' },
            { email: byEmail.email.toUpperCase(), role: 'viewer' },
            { user_id: byEmail.id },
            { email: aboveRole, role: 'owner' },
          ],
        },
        { key: admin.key },
      ),
    );
    expect(outcomes(answer)).toEqual([
      [0, 'created', null, null],
      [1, 'created', null, null],
      [2, 'already_member', 'already_member', 'members[2].email'],
      [3, 'invalid', 'invalid_request', 'members[3].email'],
      [4, 'duplicate', 'duplicate_entry', 'members[4].email'],
      [5, 'duplicate', 'duplicate_entry', 'members[5].user_id'],
      [6, 'invalid', 'invalid_request', 'members[6].user_id'],
      [7, 'invalid', 'invalid_request', 'members[7].email'],
      [8, 'invalid', 'not_found', 'members[8].user_id'],
      [9, 'invalid', 'invalid_request', 'members[9].user_id'],
      [10, 'invalid', 'unknown_role', 'members[10].role'],
      [11, 'created', null, null],
      [12, 'duplicate', 'duplicate_entry', 'members[12].user_id'],
      [13, 'invalid', 'forbidden', 'members[13].role'],
    ]);
    expect(answer).toMatchObject({ created: 3, refused: 11 });
    const [freshUser] = await usersWithEmail(t, fresh);
    expect(answer.results[0].member).toMatchObject({ user_id: freshUser.id, email: fresh, role: 'admin' });
    expect(answer.results[11].member).toMatchObject({ user_id: byEmail.id, role: 'viewer' });
    expect(answer.results[2].member).toBeNull();

    const roles = Object.fromEntries((await allMembers(t, org.id)).map((m) => [m.user_id, m.role]));
    expect(roles).toEqual({
      [owner.user.id]: 'owner',
      [admin.user.id]: 'admin',
      [already.id]: 'viewer',
      [freshUser.id]: 'admin',
      [existing.id]: 'member',
      [byEmail.id]: 'viewer',
    });
    // No user was made for entries that were refused.
    expect(await usersWithEmail(t, unused)).toEqual([]);
    expect(await usersWithEmail(t, aboveRole)).toEqual([]);
    expect(await auditActions(t, org.id, 'member.added')).toHaveLength(2 + 3);
  });

  it('leaves nothing of the request behind when the database fails half-way', async () => {
    const t = use();
    const org = await t.createOrganization((await t.userWithKey()).key);
    const [a, b] = [await t.createUser(), await t.createUser()];
    const ids = async () => (await allMembers(t, org.id)).map((m) => m.user_id);
    const before = await ids();
    const events = await auditActions(t, org.id, 'member.');
    const newcomer = `${t.unique('n')}@example.com`;
    // The memberships are written, then extending b's reach fails: a fault, not a refusal.
    await failAdmissionOf(t, b.id, `raise exception 'disk on fire'`);
    try {
      const failed = await t.post(bulk(org.id), {
        members: [{ email: newcomer }, { user_id: a.id }, { user_id: b.id }],
      });
      expect(failed.status).toBe(500);
      expect(failed.body.error.code).toBe('internal_error');
      expect(JSON.stringify(failed.body)).not.toContain('disk on fire');
    } finally {
      await stopFailing(t);
    }
    expect(await ids()).toEqual(before);
    expect(await usersWithEmail(t, newcomer)).toEqual([]);
    expect(await auditActions(t, org.id, 'member.')).toEqual(events);
    const ok = await t.expect(200, t.post(bulk(org.id), { members: [{ user_id: a.id }, { user_id: b.id }] }));
    expect(ok.created).toBe(2);
  });

  it('adds 1,000 members by email in one request, quickly', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const emails = Array.from(
      { length: 1000 },
      (_, i) => `bulk-${i}-${'x'.repeat(60)}@${t.unique('d')}.example.com`,
    );
    const body = { members: emails.map((email, i) => ({ email, role: i % 2 ? 'member' : 'viewer' })) };
    expect(JSON.stringify(body).length).toBeLessThan(t.config.http.bodyLimitBytes);
    const answer = await t.expect(200, t.post(bulk(org.id), body, { key: owner.key }));
    expect(answer).toMatchObject({ created: 1000, refused: 0 });
    expect(answer.results.map((r: any) => r.member.email)).toEqual(emails);
    expect(await allMembers(t, org.id)).toHaveLength(1001);
    const [event] = (
      await t.expect(
        200,
        t.get(`/v1/organizations/${org.id}/audit-events`, { query: { action: 'member.added', limit: 1 } }),
      )
    ).data;
    expect(event.actor.user_id).toBe(owner.user.id);
    expect(await auditActions(t, org.id, 'member.added')).toHaveLength(1000);
    // The same again: every entry is already a member, and nothing is written.
    const again = await t.expect(200, t.post(bulk(org.id), body, { key: owner.key }));
    expect(again).toMatchObject({ created: 0, refused: 1000 });
    expect(new Set(again.results.map((r: any) => r.status))).toEqual(new Set(['already_member']));
  }, 60_000);

  it('adds each person once when two bulk requests with the same people race', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const emails = Array.from({ length: 20 }, () => `${t.unique('race')}@example.com`);
    const replies = await Promise.all([
      t.post(bulk(org.id), { members: emails.map((email) => ({ email })) }),
      t.post(bulk(org.id), {
        members: [...emails].reverse().map((email) => ({ email: email.toUpperCase() })),
      }),
    ]);
    for (const reply of replies) expect(reply.status).toBe(200);
    const statuses = replies.flatMap((reply) => reply.body.results.map((r: any) => r.status));
    expect(statuses.filter((s) => s === 'created')).toHaveLength(20);
    expect(statuses.filter((s) => s === 'already_member')).toHaveLength(20);
    const added = (await allMembers(t, org.id)).filter((m) => m.user_id !== owner.user.id);
    expect(added.map((m) => m.email.toLowerCase()).sort()).toEqual([...emails].sort());
    for (const email of emails.slice(0, 3)) expect(await usersWithEmail(t, email)).toHaveLength(1);
  });

  it('takes the largest body its schema allows within the default body limit', async () => {
    const t = use();
    const org = await t.createOrganization((await t.userWithKey()).key);
    const entry = { email: `@${'e'.repeat(511)}`, user_id: 'u'.repeat(64), role: 'r'.repeat(64) };
    const body = { members: Array.from({ length: 1000 }, () => entry) };
    expect(JSON.stringify(body).length).toBeLessThan(1_048_576);
    expect(t.config.http.bodyLimitBytes).toBe(1_048_576);
    const answer = await t.expect(200, t.post(bulk(org.id), body));
    expect(answer).toMatchObject({ created: 0, refused: 1000 });
    expect(answer.results[999].error).toMatchObject({
      code: 'invalid_request',
      param: 'members[999].user_id',
    });
  });

  it('refuses the whole request when it cannot run, changing nothing', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const org = await t.createOrganization(owner.key);
    const plain = await t.userWithKey();
    await t.expect(201, t.post(members(org.id), { user_id: plain.user.id, role: 'member' }));
    const email = `${t.unique('never')}@example.com`;
    const stranger = await t.userWithKey();
    expect(
      (await refusal(404, t.post(bulk(org.id), { members: [{ email }] }, { key: stranger.key }))).code,
    ).toBe('not_found');
    expect(
      (await refusal(403, t.post(bulk(org.id), { members: [{ email }] }, { key: plain.key }))).code,
    ).toBe('forbidden');
    const many = { members: Array.from({ length: 1001 }, (_, i) => ({ email: `m${i}@example.com` })) };
    expect((await refusal(400, t.post(bulk(org.id), many))).param).toBe('members');
    expect((await refusal(400, t.post(bulk(org.id), { members: [] }))).param).toBe('members');
    expect((await refusal(400, t.post(bulk(org.id), { members: [{ email, admin: true }] }))).param).toBe(
      'members[0].admin',
    );
    expect((await refusal(400, t.post(bulk(org.id), { members: [{ email: 5 }] }))).param).toBe(
      'members[0].email',
    );
    expect(await usersWithEmail(t, email)).toEqual([]);
    expect(await usersWithEmail(t, 'm0@example.com')).toEqual([]);
    expect(await allMembers(t, org.id)).toHaveLength(2);
  });
});
