import { expect, it } from 'vitest';
import { describeEachDatabase, type Reply, type TestApp } from '../../../test/helpers/app.js';
import { member, members } from '../../../test/helpers/members.js';

const roles = (org: string) => `/v1/organizations/${org}/roles`;

async function failure(status: number, reply: Promise<Reply>) {
  const result = await reply;
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  return result.body.error as { code: string; param: string | null; message: string };
}

/** A custom role on `org`, made with the admin key. */
async function role(t: TestApp, org: string, key: string, base_role: string, permissions: string[] = []) {
  return t.expect(201, t.post(roles(org), { key, name: key, base_role, permissions }));
}

/** A user with a personal key holding `roleRef` (built-in or custom) on `org`. */
async function holder(t: TestApp, org: string, roleRef: string) {
  const created = await t.userWithKey();
  await t.expect(201, t.post(members(org), { user_id: created.user.id, role: roleRef }));
  return created;
}

describeEachDatabase(
  'members holding custom roles',
  (use) => {
    it('grants a custom role by key or id, shows it on the member and keeps the rank in base_role', async () => {
      const t = use();
      const { owner, org, team } = await t.ownerWithTeam();
      const auditor = await role(t, org.id, 'auditor', 'viewer', ['audit:read']);
      const user = await t.createUser();
      const added = await t.expect(
        201,
        t.post(members(team.id), { user_id: user.id, role: 'auditor' }, { key: owner.key }),
      );
      expect(added).toMatchObject({
        role: 'auditor',
        role_id: auditor.id,
        base_role: 'viewer',
        inherited: false,
      });
      const other = await t.createUser();
      const byId = await t.expect(
        201,
        t.post(members(org.id), { user_id: other.id, role: auditor.id }, { key: owner.key }),
      );
      expect(byId).toMatchObject({ role: 'auditor', role_id: auditor.id, base_role: 'viewer' });
      const builtin = await t.expect(200, t.get(member(org.id, owner.user.id), { key: owner.key }));
      expect(builtin).toMatchObject({ role: 'owner', role_id: 'owner', base_role: 'owner' });

      // The owner made the team, so it owns the team directly too.
      const list = await t.expect(200, t.get(members(team.id), { key: owner.key }));
      expect(list.data.map((m: any) => [m.user_id, m.role, m.role_id, m.base_role]).sort()).toEqual(
        [
          [owner.user.id, 'owner', 'owner', 'owner'],
          [user.id, 'auditor', auditor.id, 'viewer'],
        ].sort(),
      );
      const inherited = await t.expect(
        200,
        t.get(members(team.id), { key: owner.key, query: { include_inherited: true, limit: 100 } }),
      );
      expect(inherited.data.find((m: any) => m.user_id === other.id)).toMatchObject({
        role: 'auditor',
        inherited: true,
        via_organization_id: org.id,
      });
      // `role` filters by base role.
      const viewers = await t.expect(
        200,
        t.get(members(org.id), { key: owner.key, query: { role: 'viewer' } }),
      );
      expect(viewers.data.map((m: any) => m.user_id)).toEqual([other.id]);

      // Back to a built-in role, and to a custom one again by PATCH.
      const plain = await t.expect(
        200,
        t.patch(member(team.id, user.id), { role: 'member' }, { key: owner.key }),
      );
      expect(plain).toMatchObject({ role: 'member', role_id: 'member', base_role: 'member' });
      await t.expect(200, t.patch(member(team.id, user.id), { role: auditor.id }, { key: owner.key }));

      // A role of another organization, a sibling team or a child team is not valid here.
      const sibling = await t.expect(201, t.post(`/v1/organizations/${org.id}/children`, { name: 'Sib' }));
      await role(t, sibling.id, 'sibling-only', 'viewer');
      await role(t, team.id, 'team-only', 'viewer');
      const foreign = await role(t, (await t.createOrganization(owner.key)).id, 'foreign', 'viewer');
      for (const ref of ['sibling-only', foreign.id, 'nobody']) {
        const refused = await failure(
          400,
          t.post(members(team.id), { user_id: (await t.createUser()).id, role: ref }),
        );
        expect(refused).toMatchObject({ code: 'unknown_role', param: 'role' });
        expect((await failure(400, t.patch(member(team.id, user.id), { role: ref }))).code).toBe(
          'unknown_role',
        );
      }
      expect(
        (
          await failure(
            400,
            t.post(members(org.id), { user_id: (await t.createUser()).id, role: 'team-only' }),
          )
        ).code,
      ).toBe('unknown_role');
      expect((await t.expect(200, t.get(member(team.id, user.id)))).role).toBe('auditor');
    });

    it('lets a custom role stand in for the rank where a need names its permission', async () => {
      const t = use();
      const { owner, org, team } = await t.ownerWithTeam();
      await role(t, org.id, 'producer', 'viewer', ['project:manage', 'audit:read', 'webhook:manage']);
      await role(t, org.id, 'editor', 'member', ['organization:update', 'team:create', 'team:delete']);
      await role(t, org.id, 'keeper', 'viewer', ['api_key:manage']);
      const producer = await holder(t, org.id, 'producer');
      const editor = await holder(t, org.id, 'editor');
      const keeper = await holder(t, org.id, 'keeper');
      const plain = await holder(t, org.id, 'member');

      // project:manage, on the organization and, through it, on its team.
      const project = await t.expect(
        201,
        t.post(`/v1/organizations/${team.id}/projects`, { name: 'P' }, { key: producer.key }),
      );
      await t.expect(
        200,
        t.patch(`/v1/organizations/${team.id}/projects/${project.id}`, { name: 'Q' }, { key: producer.key }),
      );
      // audit:read and webhook:manage.
      await t.expect(200, t.get(`/v1/organizations/${org.id}/audit-events`, { key: producer.key }));
      await t.expect(
        201,
        t.post(
          '/v1/webhook-endpoints',
          { url: 'http://93.184.216.34/h', organization_id: org.id, enabled: false },
          { key: producer.key },
        ),
      );
      // ...and nothing else: a viewer otherwise.
      const refused = await failure(
        403,
        t.patch(`/v1/organizations/${org.id}`, { friendly_name: 'x' }, { key: producer.key }),
      );
      expect(refused.message).toContain('organization:update');
      await failure(
        403,
        t.post(`/v1/organizations/${org.id}/children`, { name: 'No' }, { key: producer.key }),
      );

      // organization:update, team:create, team:delete.
      await t.expect(
        200,
        t.patch(`/v1/organizations/${org.id}`, { friendly_name: 'Edited' }, { key: editor.key }),
      );
      await t.expect(
        200,
        t.patch(
          `/v1/organizations/${org.id}/children/${team.id}`,
          { friendly_name: 'T2' },
          { key: editor.key },
        ),
      );
      const made = await t.expect(
        201,
        t.post(`/v1/organizations/${org.id}/children`, { name: 'Made' }, { key: editor.key }),
      );
      await t.expect(204, t.delete(`/v1/organizations/${org.id}/children/${made.id}`, { key: editor.key }));
      await t.expect(200, t.post(`/v1/organizations/${made.id}/restore`, {}, { key: editor.key }));
      await t.expect(204, t.delete(`/v1/organizations/${made.id}`, { key: editor.key }));
      // Owner-only actions stay with owners.
      await failure(403, t.delete(`/v1/organizations/${org.id}`, { key: editor.key }));
      await failure(
        403,
        t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: null }, { key: editor.key }),
      );
      await failure(403, t.get(`/v1/organizations/${org.id}/audit-events`, { key: editor.key }));

      // api_key:manage lists and revokes organization keys but cannot create one: a key acts as an admin.
      const orgKey = await t.expect(
        201,
        t.post(`/v1/organizations/${org.id}/api-keys`, {}, { key: owner.key }),
      );
      const listed = await t.expect(200, t.get(`/v1/organizations/${org.id}/api-keys`, { key: keeper.key }));
      expect(listed.data.map((k: any) => k.id)).toContain(orgKey.id);
      await failure(403, t.post(`/v1/organizations/${org.id}/api-keys`, {}, { key: keeper.key }));
      await t.expect(200, t.delete(`/v1/api-keys/${orgKey.id}`, { key: keeper.key }));

      // A plain member holds none of these.
      await failure(403, t.post(`/v1/organizations/${org.id}/projects`, { name: 'No' }, { key: plain.key }));
      await failure(403, t.get(`/v1/organizations/${org.id}/api-keys`, { key: plain.key }));
      const names = await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: owner.key }));
      expect(names.friendly_name).toBe('Edited');
    });

    it('lets billing, integration, usage and invitation permissions stand in for the admin rank', async () => {
      const t = use();
      const { owner, org } = await t.ownerWithTeam();
      await role(t, org.id, 'finance', 'viewer', ['billing:manage', 'usage:write']);
      await role(t, org.id, 'connector', 'viewer', ['integration:manage']);
      await role(t, org.id, 'recruiter', 'member', ['invitation:manage']);
      const finance = await holder(t, org.id, 'finance');
      const connector = await holder(t, org.id, 'connector');
      const recruiter = await holder(t, org.id, 'recruiter');
      const plain = await holder(t, org.id, 'viewer');
      const usage = {
        records: [
          {
            storage_type: 's3',
            billing_type: 'billable',
            bytes: 1,
            cost: '0.5',
            occurred_at: new Date().toISOString(),
          },
        ],
      };
      const budget = (key: string) =>
        t.call('PUT', `/v1/organizations/${org.id}/budget`, { key, body: { monthly_limit: '100' } });
      const integration = (key: string, external_id: string) =>
        t.post(`/v1/organizations/${org.id}/integrations`, { kind: 'github', external_id }, { key });
      const invitation = (key: string, email: string) =>
        t.post(`/v1/organizations/${org.id}/invitations`, { email }, { key });

      await t.expect(200, budget(finance.key));
      await t.expect(201, t.post(`/v1/organizations/${org.id}/usage`, usage, { key: finance.key }));
      await t.expect(201, integration(connector.key, 'by-connector'));
      await t.expect(201, invitation(recruiter.key, 'invited@example.com'));
      // Each permission opens only its own door.
      await failure(403, integration(finance.key, 'by-finance'));
      await failure(403, budget(connector.key));
      await failure(403, invitation(connector.key, 'nope@example.com'));
      for (const key of [plain.key]) {
        await failure(403, budget(key));
        await failure(403, t.post(`/v1/organizations/${org.id}/usage`, usage, { key }));
        await failure(403, integration(key, 'by-plain'));
        await failure(403, invitation(key, 'plain@example.com'));
      }
      const listed = await t.expect(
        200,
        t.get(`/v1/organizations/${org.id}/integrations`, { key: owner.key }),
      );
      expect(listed.data.map((i: any) => i.external_id)).toEqual(['by-connector']);
    });

    it('grants, changes and removes only roles at or below the caller, permissions included', async () => {
      const t = use();
      const { owner, org } = await t.ownerWithTeam();
      await role(t, org.id, 'manager', 'member', ['member:manage', 'project:manage']);
      await role(t, org.id, 'helper', 'viewer', ['project:manage']);
      await role(t, org.id, 'inspector', 'viewer', ['audit:read']);
      await role(t, org.id, 'deputy', 'admin');
      const manager = await holder(t, org.id, 'manager');
      const someone = () => t.createUser();

      // At or below: viewer, member, and custom roles whose permissions it holds.
      for (const ok of ['viewer', 'member', 'helper', 'manager']) {
        const added = await t.expect(
          201,
          t.post(members(org.id), { user_id: (await someone()).id, role: ok }, { key: manager.key }),
        );
        expect(added.role).toBe(ok);
      }
      // Above: a higher base, or a permission it does not hold.
      for (const [above, needs] of [
        ['admin', 'admin'],
        ['deputy', 'admin'],
        ['inspector', 'audit:read'],
      ] as const) {
        const refused = await failure(
          403,
          t.post(members(org.id), { user_id: (await someone()).id, role: above }, { key: manager.key }),
        );
        expect(refused).toMatchObject({ code: 'forbidden', param: 'role' });
        expect(refused.message).toContain(needs);
      }
      const admin = await holder(t, org.id, 'admin');
      const inspector = await holder(t, org.id, 'inspector');
      const helper = await holder(t, org.id, 'helper');
      // Changing or removing someone above is refused too, and changes nothing.
      expect(
        (await failure(403, t.patch(member(org.id, admin.user.id), { role: 'viewer' }, { key: manager.key })))
          .param,
      ).toBe('user_id');
      expect(
        (
          await failure(
            403,
            t.patch(member(org.id, inspector.user.id), { role: 'viewer' }, { key: manager.key }),
          )
        ).param,
      ).toBe('user_id');
      await failure(403, t.delete(member(org.id, inspector.user.id), { key: manager.key }));
      await failure(
        403,
        t.patch(member(org.id, helper.user.id), { role: 'inspector' }, { key: manager.key }),
      );
      expect((await t.expect(200, t.get(member(org.id, inspector.user.id)))).role).toBe('inspector');
      expect((await t.expect(200, t.get(member(org.id, helper.user.id)))).role).toBe('helper');
      await t.expect(200, t.patch(member(org.id, helper.user.id), { role: 'viewer' }, { key: manager.key }));
      await t.expect(204, t.delete(member(org.id, helper.user.id), { key: manager.key }));

      // Creating and editing roles follows the same rule for a role:manage holder.
      await role(t, org.id, 'designer', 'member', ['role:manage', 'project:manage']);
      const designer = await holder(t, org.id, 'designer');
      await t.expect(
        201,
        t.post(
          roles(org.id),
          { key: 'lesser', name: 'L', base_role: 'viewer', permissions: ['project:manage'] },
          { key: designer.key },
        ),
      );
      const tooHigh = await failure(
        403,
        t.post(roles(org.id), { key: 'greater', name: 'G', base_role: 'admin' }, { key: designer.key }),
      );
      expect(tooHigh.code).toBe('forbidden');
      await failure(
        403,
        t.post(
          roles(org.id),
          { key: 'wider', name: 'W', base_role: 'viewer', permissions: ['audit:read'] },
          { key: designer.key },
        ),
      );
      await failure(
        403,
        t.patch(`${roles(org.id)}/lesser`, { permissions: ['member:manage'] }, { key: designer.key }),
      );
      await failure(403, t.patch(`${roles(org.id)}/lesser`, { base_role: 'admin' }, { key: designer.key }));
      expect(
        (await failure(403, t.patch(`${roles(org.id)}/inspector`, { name: 'Mine' }, { key: designer.key })))
          .param,
      ).toBe('role_id');
      await failure(403, t.delete(`${roles(org.id)}/deputy`, { key: designer.key }));
      // It may not raise its own role either.
      await failure(
        403,
        t.patch(
          `${roles(org.id)}/designer`,
          { permissions: ['role:manage', 'project:manage', 'audit:read'] },
          { key: designer.key },
        ),
      );
      const lesser = await t.expect(200, t.get(`${roles(org.id)}/lesser`));
      expect(lesser).toMatchObject({ base_role: 'viewer', permissions: ['project:manage'] });
      expect((await t.expect(200, t.get(`${roles(org.id)}/designer`))).permissions).toEqual([
        'project:manage',
        'role:manage',
      ]);
      await t.expect(204, t.delete(`${roles(org.id)}/lesser`, { key: designer.key }));
      // Owners and admins hold every permission.
      await t.expect(
        201,
        t.post(
          roles(org.id),
          { key: 'all', name: 'All', base_role: 'admin', permissions: ['audit:read', 'billing:manage'] },
          { key: admin.key },
        ),
      );
      await t.expect(
        201,
        t.post(members(org.id), { user_id: (await someone()).id, role: 'all' }, { key: owner.key }),
      );
    });

    it("moves every holder's rank with the role's base role", async () => {
      const t = use();
      const { org, team } = await t.ownerWithTeam();
      await role(t, org.id, 'rising', 'viewer');
      const riser = await holder(t, team.id, 'rising');
      await failure(403, t.post(`/v1/organizations/${team.id}/projects`, { name: 'P' }, { key: riser.key }));
      const before = await t.get(member(team.id, riser.user.id));
      await t.expect(200, t.patch(`${roles(org.id)}/rising`, { base_role: 'admin' }));
      const after = await t.get(member(team.id, riser.user.id));
      expect(after.body).toMatchObject({ role: 'rising', base_role: 'admin' });
      expect(after.headers.etag).not.toBe(before.headers.etag);
      await t.expect(201, t.post(`/v1/organizations/${team.id}/projects`, { name: 'P' }, { key: riser.key }));
      await t.expect(200, t.patch(`${roles(org.id)}/rising`, { base_role: 'viewer' }));
      await failure(403, t.post(`/v1/organizations/${team.id}/projects`, { name: 'P2' }, { key: riser.key }));
      const admins = await t.expect(200, t.get(members(team.id), { query: { role: 'admin' } }));
      expect(admins.data).toEqual([]);
    });

    it('transfers ownership to a custom-role member, and lets the previous owner keep a custom role', async () => {
      const t = use();
      const { owner, org } = await t.ownerWithTeam();
      const steward = await role(t, org.id, 'steward', 'member', ['project:manage']);
      const heir = await holder(t, org.id, 'steward');
      const made = await t.expect(
        200,
        t.post(
          `/v1/organizations/${org.id}/transfer-ownership`,
          { user_id: heir.user.id, previous_owner_role: 'steward' },
          { key: owner.key },
        ),
      );
      expect(made).toMatchObject({ role: 'owner', role_id: 'owner', base_role: 'owner' });
      const former = await t.expect(200, t.get(member(org.id, owner.user.id)));
      expect(former).toMatchObject({ role: 'steward', role_id: steward.id, base_role: 'member' });
      const trail = await t.expect(
        200,
        t.get(`/v1/organizations/${org.id}/audit-events`, {
          query: { action: 'organization.ownership_transferred' },
        }),
      );
      expect(trail.data[0].changes).toMatchObject({
        new_owner_role: { before: 'steward', after: 'owner' },
        previous_owner_role: { before: 'owner', after: 'steward' },
      });
      // The new owner hands it back, naming an unknown role first: nothing changes.
      expect(
        await failure(
          400,
          t.post(
            `/v1/organizations/${org.id}/transfer-ownership`,
            { user_id: owner.user.id, previous_owner_role: 'ghost' },
            { key: heir.key },
          ),
        ),
      ).toMatchObject({ code: 'unknown_role', param: 'previous_owner_role' });
      expect((await t.expect(200, t.get(member(org.id, heir.user.id)))).role).toBe('owner');
      expect((await t.expect(200, t.get(member(org.id, owner.user.id)))).role).toBe('steward');
      await t.expect(
        200,
        t.post(
          `/v1/organizations/${org.id}/transfer-ownership`,
          { user_id: owner.user.id },
          { key: heir.key },
        ),
      );
      expect((await t.expect(200, t.get(member(org.id, heir.user.id)))).role).toBe('admin');
      // The role the owner dropped is free to delete now.
      await t.expect(204, t.delete(`${roles(org.id)}/steward`));
    });

    it('refuses a move that would leave members holding roles of organizations the subtree leaves', async () => {
      const t = use();
      const { owner, org, team } = await t.ownerWithTeam();
      const sub = await t.expect(
        201,
        t.post(`/v1/organizations/${team.id}/children`, { name: 'Sub' }, { key: owner.key }),
      );
      await role(t, org.id, 'parental', 'member');
      await role(t, team.id, 'local', 'member');
      const user = await t.createUser();
      await t.expect(201, t.post(members(sub.id), { user_id: user.id, role: 'parental' }));
      const moved = await failure(
        409,
        t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: null }, { key: owner.key }),
      );
      expect(moved).toMatchObject({ code: 'role_in_use', param: 'parent_organization_id' });
      expect((await t.expect(200, t.get(`/v1/organizations/${team.id}`))).parent_organization_id).toBe(
        org.id,
      );
      // Within the tree, under an organization that keeps the role above it, the move is fine.
      const other = await t.expect(
        201,
        t.post(`/v1/organizations/${org.id}/children`, { name: 'Other' }, { key: owner.key }),
      );
      await t.expect(
        200,
        t.post(`/v1/organizations/${sub.id}/move`, { parent_organization_id: other.id }, { key: owner.key }),
      );
      // The team's own role moves with it; a default naming the parent's role strands it too.
      await t.expect(200, t.patch(member(sub.id, user.id), { role: 'member' }));
      await t.expect(
        200,
        t.patch(`/v1/organizations/${team.id}`, { settings: { default_role_id: 'parental' } }),
      );
      expect(
        (
          await failure(
            409,
            t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: null }, { key: owner.key }),
          )
        ).code,
      ).toBe('role_in_use');
      await t.expect(
        200,
        t.patch(`/v1/organizations/${team.id}`, { settings: { default_role_id: 'local' } }),
      );
      const top = await t.expect(
        200,
        t.post(`/v1/organizations/${team.id}/move`, { parent_organization_id: null }, { key: owner.key }),
      );
      expect(top.root_organization_id).toBe(team.id);
      const rows = await t.database.db.query<{ root_id: string }>(
        "select root_id from roles where key = 'local'",
      );
      expect(rows.map((r) => r.root_id)).toEqual([team.id]);
      await t.expect(201, t.post(members(team.id), { user_id: (await t.createUser()).id }));
    });

    it('keeps an authenticated read at one statement, and costs a permission check one more only when rank falls short', async () => {
      const t = use();
      const { owner, org, team } = await t.ownerWithTeam();
      await role(t, org.id, 'auditor', 'viewer', ['audit:read']);
      const custom = await holder(t, org.id, 'auditor');
      const plain = await holder(t, org.id, 'viewer');
      /** Statements one request runs, after a first call has put its key in the cache. */
      const statements = async (call: () => Promise<Reply>) => {
        await t.expect(200, call());
        const db = t.database.db;
        const original = db.query;
        let count = 0;
        db.query = <T>(text: string, params?: unknown[]) => {
          if (!text.includes('last_used_at')) count += 1;
          return original.call<typeof db, [string, unknown[] | undefined], Promise<T[]>>(db, text, params);
        };
        try {
          await t.expect(200, call());
        } finally {
          db.query = original;
        }
        return count;
      };
      for (const caller of [custom, plain, owner]) {
        expect(await statements(() => t.get(`/v1/organizations/${team.id}`, { key: caller.key }))).toBe(1);
        expect(await statements(() => t.get(members(team.id), { key: caller.key }))).toBe(1);
        expect(await statements(() => t.get(roles(team.id), { key: caller.key }))).toBe(2);
      }
      const trail = (key: string) => () => t.get(`/v1/organizations/${org.id}/audit-events`, { key });
      expect(await statements(trail(custom.key))).toBe((await statements(trail(owner.key))) + 1);
    });
  },
  // No webhook worker, so the statements counted are the requests' own.
  { ORGSTACK_WEBHOOK_POLL_MS: '0' },
);
