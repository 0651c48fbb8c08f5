import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/app.js';
import {
  actionsOn,
  assign,
  createLicense,
  deployments,
  licensed,
  orgLicense,
} from '../../../test/helpers/licenses.js';
import { members } from '../../../test/helpers/members.js';

const orgDeployments = (org: string) => `/v1/organizations/${org}/deployments`;
const ids = (page: { data: { id: string }[] }) => page.data.map((row) => row.id);

describeEachDatabase('deployments', (use) => {
  it('registers with 201, heartbeats with 200, and lists under the organization', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    const orgKey = await t.organizationKey(org.id, owner.key);
    const first = await t.expect(
      201,
      t.post(
        deployments(held.id),
        { name: 'eu-1', version: '1.0.0', hostname: 'eu-1.acme.internal', metadata: { region: 'eu' } },
        { key: orgKey },
      ),
    );
    expect(first).toMatchObject({
      license_id: held.id,
      organization_id: org.id,
      name: 'eu-1',
      version: '1.0.0',
      hostname: 'eu-1.acme.internal',
      metadata: { region: 'eu' },
      deleted_at: null,
    });
    const beat = await t.expect(
      200,
      t.post(deployments(held.id), { name: 'eu-1', version: '1.0.0' }, { key: orgKey }),
    );
    expect(beat.id).toBe(first.id);
    // Omitted hostname and metadata stay as they were.
    expect(beat).toMatchObject({ hostname: 'eu-1.acme.internal', metadata: { region: 'eu' } });
    expect(Date.parse(beat.last_seen_at)).toBeGreaterThanOrEqual(Date.parse(first.last_seen_at));
    const upgraded = await t.expect(
      200,
      t.post(deployments(held.id), { name: 'eu-1', version: '1.1.0', hostname: null }, { key: orgKey }),
    );
    expect(upgraded).toMatchObject({ id: first.id, version: '1.1.0', hostname: null });
    const second = await t.expect(201, t.post(deployments(held.id), { name: 'us-1', version: '1.1.0' }));

    const page = await t.expect(200, t.get(orgDeployments(org.slug), { key: owner.key }));
    expect(ids(page)).toEqual([first.id, second.id]);
    expect(page.data[0]).toMatchObject({ version: '1.1.0', last_seen_at: upgraded.last_seen_at });
    const paged = await t.expect(200, t.get(orgDeployments(org.id), { query: { limit: 1 } }));
    expect(ids(paged)).toEqual([first.id]);
    const next = await t.expect(
      200,
      t.get(orgDeployments(org.id), { query: { limit: 1, cursor: paged.pagination.next_cursor } }),
    );
    expect(ids(next)).toEqual([second.id]);
    // A plain heartbeat is not an audit event; registration and an upgrade are.
    expect(await actionsOn(t, first.id, org.id)).toEqual(['deployment.registered', 'deployment.updated']);
  });

  it('filters by last_seen_at', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    const stale = await t.expect(201, t.post(deployments(held.id), { name: 'old', version: '1' }));
    const fresh = await t.expect(201, t.post(deployments(held.id), { name: 'new', version: '1' }));
    await t.database.db.query(
      `update deployments set last_seen_at = now() - interval '2 days' where id = $1`,
      [stale.id],
    );
    const day = new Date(Date.now() - 86_400_000).toISOString();
    expect(ids(await t.expect(200, t.get(orgDeployments(org.id), { query: { seen_since: day } })))).toEqual([
      fresh.id,
    ]);
    expect(
      ids(await t.expect(200, t.get(orgDeployments(org.id), { query: { not_seen_since: day } }))),
    ).toEqual([stale.id]);
    const bad = await t.get(orgDeployments(org.id), { query: { seen_since: 'yesterday' } });
    expect(bad.body.error.param).toBe('seen_since');
  });

  it('lets admin keys and the holding organization report; everyone else gets 404', async () => {
    const t = use();
    const { owner, org, team } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    const teamKey = await t.organizationKey(team.id, owner.key);
    const other = await t.ownerWithTeam();
    const otherKey = await t.organizationKey(other.org.id, other.owner.key);
    const body = { name: 'x', version: '1' };
    for (const key of [owner.key, teamKey, otherKey, other.owner.key]) {
      const reply = await t.post(deployments(held.id), body, { key });
      expect(reply.status).toBe(404);
      expect(reply.body.error).toMatchObject({ code: 'not_found', param: 'license_id' });
    }
    const readOnly = await t.organizationKey(org.id, owner.key, ['organization:read']);
    expect((await t.post(deployments(held.id), body, { key: readOnly })).status).toBe(403);
    expect((await t.get(orgDeployments(org.id), { key: readOnly })).status).toBe(200);
    expect((await t.expect(200, t.get(deployments(held.id)))).data).toEqual([]);

    // Once the license goes elsewhere, the old holder's key may no longer report under it.
    const orgKey = await t.organizationKey(org.id, owner.key);
    await t.expect(201, t.post(deployments(held.id), body, { key: orgKey }));
    await t.expect(204, t.delete(orgLicense(org.id)));
    expect((await t.post(deployments(held.id), body, { key: orgKey })).status).toBe(404);
    // Admins still may, for an unassigned license.
    const beat = await t.expect(200, t.post(deployments(held.id), body));
    expect(beat.organization_id).toBeNull();
  });

  it('shows a new holder none of the previous holder’s deployments', async () => {
    const t = use();
    const a = await t.ownerWithTeam();
    const b = await t.ownerWithTeam();
    const held = await licensed(t, a.org.id);
    const aKey = await t.organizationKey(a.org.id, a.owner.key);
    const aDeployment = await t.expect(
      201,
      t.post(deployments(held.id), { name: 'a', version: '1' }, { key: aKey }),
    );
    expect(ids(await t.expect(200, t.get(orgDeployments(a.org.id))))).toEqual([aDeployment.id]);
    await t.expect(204, t.delete(orgLicense(a.org.id)));
    await t.expect(200, assign(t, b.org.id, held.id));
    expect((await t.expect(200, t.get(orgDeployments(b.org.id), { key: b.owner.key }))).data).toEqual([]);
    // Without a license the list is empty rather than an error.
    expect((await t.expect(200, t.get(orgDeployments(a.org.id)))).data).toEqual([]);
    // Admins see every deployment of the license.
    expect(ids(await t.expect(200, t.get(deployments(held.id))))).toEqual([aDeployment.id]);
  });

  it('accepts heartbeats under an expired license, refuses them under a deleted one', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id, { expires_at: new Date(Date.now() - 1000).toISOString() });
    await t.expect(201, t.post(deployments(held.id), { name: 'late', version: '1' }));
    await t.expect(200, t.post(deployments(held.id), { name: 'late', version: '1' }));
    await t.expect(204, t.delete(`/v1/licenses/${held.id}`));
    expect((await t.post(deployments(held.id), { name: 'late', version: '1' })).status).toBe(404);
  });

  it('deletes a deployment (admins, soft); a later report registers it again', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    const created = await t.post(deployments(held.id), { name: 'gone', version: '1' });
    const path = `${deployments(held.id)}/${created.body.id}`;
    const orgKey = await t.organizationKey(org.id, owner.key);
    expect((await t.delete(path, { key: orgKey })).status).toBe(404);
    expect((await t.delete(path, { key: owner.key })).status).toBe(404);
    await t.expect(200, t.post(deployments(held.id), { name: 'gone', version: '2' }));
    expect((await t.delete(path, { headers: { 'if-match': created.headers.etag as string } })).status).toBe(
      412,
    );
    await t.expect(204, t.delete(path));
    expect((await t.delete(path)).status).toBe(404);
    expect((await t.expect(200, t.get(orgDeployments(org.id)))).data).toEqual([]);
    const withDeleted = await t.expect(
      200,
      t.get(orgDeployments(org.id), { query: { include_deleted: true } }),
    );
    expect(ids(withDeleted)).toEqual([created.body.id]);
    const again = await t.expect(201, t.post(deployments(held.id), { name: 'gone', version: '3' }));
    expect(again.id).not.toBe(created.body.id);
    expect(await actionsOn(t, created.body.id, org.id)).toEqual([
      'deployment.registered',
      'deployment.updated',
      'deployment.deleted',
    ]);
  });

  it('registers one deployment when 20 first reports race', async () => {
    const t = use();
    const { org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.post(deployments(held.id), { name: 'race', version: `1.${i}` })),
    );
    expect(replies.map((reply) => reply.status).sort()).toEqual([...Array(19).fill(200), 201]);
    expect(new Set(replies.map((reply) => reply.body.id)).size).toBe(1);
    expect((await t.expect(200, t.get(orgDeployments(org.id)))).data).toHaveLength(1);
  });

  it('needs organization:read and a role to list, and validates reports', async () => {
    const t = use();
    const { owner, org } = await t.ownerWithTeam();
    const held = await licensed(t, org.id);
    const viewer = await t.userWithKey();
    await t.expect(
      201,
      t.post(members(org.id), { user_id: viewer.user.id, role: 'viewer' }, { key: owner.key }),
    );
    await t.expect(200, t.get(orgDeployments(org.id), { key: viewer.key }));
    const stranger = await t.userWithKey();
    expect((await t.get(orgDeployments(org.id), { key: stranger.key })).status).toBe(404);
    for (const [body, param] of [
      [{ version: '1' }, 'name'],
      [{ name: 'x' }, 'version'],
      [{ name: '', version: '1' }, 'name'],
      [{ name: 'x', version: '1', extra: true }, 'extra'],
      [{ name: 'x', version: '1', hostname: 7 }, 'hostname'],
    ] as const) {
      const reply = await t.post(deployments(held.id), body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.param).toContain(param);
    }
    const spare = await createLicense(t);
    expect((await t.get(deployments(spare.id), { key: owner.key })).status).toBe(404);
  });
});
