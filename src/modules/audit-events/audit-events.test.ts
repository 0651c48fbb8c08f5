import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';

const trail = (org: string) => `/v1/organizations/${org}/audit-events`;

async function allEvents(
  t: TestApp,
  url: string,
  key: string | undefined,
  query: Record<string, string> = {},
) {
  const page = await t.expect(200, t.get(url, { key, query: { limit: 100, ...query } }));
  return page.data as any[];
}

describeEachDatabase('audit events', (use) => {
  it('records every change with actor, request, changed fields, in order', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const joiner = await t.userWithKey();
    const renamed = await t.patch(
      `/v1/organizations/${org.id}`,
      { name: 'Renamed' },
      {
        key: owner.key,
        headers: { 'user-agent': 'audit-test/1.0' },
      },
    );
    expect(renamed.status).toBe(200);
    await t.expect(
      201,
      t.post(members(org.id), { user_id: joiner.user.id, role: 'member' }, { key: owner.key }),
    );
    await t.expect(200, t.patch(member(org.id, joiner.user.id), { role: 'admin' }, { key: owner.key }));
    await t.expect(204, t.delete(member(org.id, joiner.user.id), { key: owner.key }));
    const key = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/api-keys`, { name: 'ci' }, { key: owner.key }),
    );
    await t.expect(200, t.delete(`/v1/api-keys/${key.id}`, { key: owner.key }));

    const events = await allEvents(t, trail(org.id), owner.key);
    expect(events.map((e) => e.action)).toEqual([
      'organization.created',
      'organization.updated',
      'member.added',
      'member.updated',
      'member.removed',
      'api_key.created',
      'api_key.revoked',
    ]);
    const update = events[1];
    expect(update.actor).toEqual({ kind: 'user', user_id: owner.user.id, key_id: owner.keyId });
    expect(update.target).toEqual({ type: 'organization', id: org.id });
    expect(update.changes.name).toEqual({ before: org.name, after: 'Renamed' });
    expect(update.changes.slug).toBeUndefined();
    expect(update.request_id).toBe(renamed.headers['x-request-id']);
    expect(update.user_agent).toBe('audit-test/1.0');
    expect(update.ip).toBeTruthy();
    expect(events[3].changes.role).toEqual({ before: 'member', after: 'admin' });
    // The secret shown once at creation never reaches the trail.
    expect(JSON.stringify(events)).not.toContain(key.secret);
  });

  it('lets admins read the trail, filters it, and includes teams on request', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: owner.key }),
    );
    await t.expect(200, t.patch(`/v1/organizations/${team.id}`, { friendly_name: 'T1' }, { key: owner.key }));

    expect((await t.get(trail(org.id), { key: viewer.key })).status).toBe(403);
    const stranger = await t.userWithKey();
    expect((await t.get(trail(org.id), { key: stranger.key })).status).toBe(404);

    const own = await allEvents(t, trail(org.id), owner.key);
    expect(own.every((e) => e.organization_id === org.id)).toBe(true);
    const withTeams = await allEvents(t, trail(org.id), owner.key, { include_descendants: 'true' });
    expect(withTeams.some((e) => e.organization_id === team.id && e.action === 'organization.updated')).toBe(
      true,
    );

    const memberEvents = await allEvents(t, trail(org.id), owner.key, { action: 'member.' });
    expect(memberEvents.map((e) => e.action)).toEqual(['member.added']);
    const byActor = await allEvents(t, trail(org.id), owner.key, { actor: owner.user.id });
    expect(byActor.length).toBe(own.length);
    const future = await allEvents(t, trail(org.id), owner.key, {
      since: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(future).toEqual([]);
    const past = await allEvents(t, trail(org.id), owner.key, {
      until: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(past.length).toBe(own.length);

    // The instance-wide trail is for admin keys only.
    expect((await t.get('/v1/audit-events', { key: owner.key })).status).toBe(403);
    const users = await allEvents(t, '/v1/audit-events', undefined, { target_id: viewer.user.id });
    expect(users.map((e) => e.action)).toEqual(['user.created']);
  });

  it('writes nothing for a change that failed, and offers no way to alter an event', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const other = await t.createOrganization(owner.key);
    const before = await allEvents(t, trail(org.id), owner.key);
    const clash = await t.patch(`/v1/organizations/${org.id}`, { slug: other.slug }, { key: owner.key });
    expect(clash.status).toBe(409);
    expect(await allEvents(t, trail(org.id), owner.key)).toEqual(before);

    const event = before[0];
    for (const method of ['PATCH', 'DELETE', 'PUT'] as const) {
      const reply = await t.call(method, `/v1/audit-events/${event.id}`, { body: {} });
      expect(reply.status).toBe(404);
    }
  });
});
