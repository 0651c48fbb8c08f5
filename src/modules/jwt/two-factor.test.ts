import { expect, it } from 'vitest';
import { describeEachDatabase, type TestApp } from '../../../test/helpers/app.js';
import { signHs256 } from '../../../test/helpers/jwt.js';

const SECRET = 'two-factor-tests-secret-0123456789abcdef';

/** One identity and its tokens: signed in with a password only, or with a second factor. */
async function person(t: TestApp) {
  const sub = t.unique('person');
  const claims = { sub, email: `${sub}@example.com` };
  const token = (amr?: string[]) => signHs256(SECRET, amr ? { ...claims, amr } : claims);
  const strong = await token(['pwd', 'otp']);
  const me = await t.expect(200, t.get('/v1/me', { key: strong }));
  return {
    id: me.user.id as string,
    strong,
    passwordOnly: await token(['pwd']),
    noAmr: await token(),
    token,
  };
}

function expectTwoFactorRequired(reply: { status: number; body: any }, what: string) {
  expect(reply.status, `${what}: ${JSON.stringify(reply.body)}`).toBe(403);
  expect(reply.body.error).toMatchObject({ code: 'two_factor_required', type: 'permission_error' });
}

/** An organization with a team, owned by `owner`, with `member` an admin of the organization. */
async function tree(t: TestApp, owner: Awaited<ReturnType<typeof person>>, member?: { id: string }) {
  const org = await t.createOrganization(owner.strong);
  const team = await t.expect(
    201,
    t.post(`/v1/organizations/${org.id}/children`, { name: 'Team' }, { key: owner.strong }),
  );
  if (member) {
    await t.expect(
      201,
      t.post(
        `/v1/organizations/${org.id}/members`,
        { user_id: member.id, role: 'admin' },
        { key: owner.strong },
      ),
    );
  }
  return { org, team };
}

const enforce = (t: TestApp, orgId: string, key: string, value: boolean | null) =>
  t.expect(200, t.patch(`/v1/organizations/${orgId}`, { settings: { enforce_2fa: value } }, { key }));

describeEachDatabase(
  'enforce_2fa',
  (use) => {
    it('refuses JWT callers without a second factor on the organization and every team under it', async () => {
      const t = use();
      const owner = await person(t);
      const member = await person(t);
      const { org, team } = await tree(t, owner, member);
      await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: member.passwordOnly }));
      await enforce(t, org.id, owner.strong, true);

      for (const token of [member.passwordOnly, member.noAmr, await member.token(['pwd', 'kba', 'pin'])]) {
        expectTwoFactorRequired(await t.get(`/v1/organizations/${org.id}`, { key: token }), 'organization');
        expectTwoFactorRequired(await t.get(`/v1/organizations/${team.id}`, { key: token }), 'team');
        expectTwoFactorRequired(
          await t.get(`/v1/organizations/${team.id}/members`, { key: token }),
          'members',
        );
        expectTwoFactorRequired(
          await t.get(`/v1/organizations/${org.id}/children/${team.id}`, { key: token }),
          'child',
        );
      }
      // A refused write changes nothing.
      expectTwoFactorRequired(
        await t.patch(
          `/v1/organizations/${team.id}`,
          { description: 'changed' },
          { key: member.passwordOnly },
        ),
        'patch',
      );
      expectTwoFactorRequired(
        await t.post(`/v1/organizations/${team.id}/projects`, { name: 'P' }, { key: member.passwordOnly }),
        'project',
      );
      const unchanged = await t.expect(200, t.get(`/v1/organizations/${team.id}`));
      expect(unchanged.description).toBe(team.description);
      const projects = await t.expect(200, t.get(`/v1/organizations/${team.id}/projects`));
      expect(projects.data).toEqual([]);

      // Any second factor RFC 8176 names lets the member in.
      for (const amr of [['pwd', 'otp'], ['mfa'], ['hwk'], ['pwd', 'sms'], ['fido'], ['swk', 'pin']]) {
        const token = await member.token(amr);
        await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: token }));
      }
      await t.expect(
        200,
        t.patch(`/v1/organizations/${team.id}`, { description: 'by 2fa' }, { key: member.strong }),
      );
    });

    it('shows on /v1/me whether the caller signed in with a second factor', async () => {
      const t = use();
      const someone = await person(t);
      const weak = await t.expect(200, t.get('/v1/me', { key: someone.passwordOnly }));
      expect(weak.authentication).toEqual({ method: 'jwt', amr: ['pwd'], second_factor: false });
      const strong = await t.expect(200, t.get('/v1/me', { key: someone.strong }));
      expect(strong.authentication).toEqual({ method: 'jwt', amr: ['pwd', 'otp'], second_factor: true });
    });

    it('applies to a team that turns it on, and not to its parent', async () => {
      const t = use();
      const owner = await person(t);
      const member = await person(t);
      const { org, team } = await tree(t, owner, member);
      await enforce(t, team.id, owner.strong, true);
      await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key: member.passwordOnly }));
      expectTwoFactorRequired(
        await t.get(`/v1/organizations/${team.id}`, { key: member.passwordOnly }),
        'team',
      );
      // Turned off again, the team lets the member in.
      await enforce(t, team.id, owner.strong, false);
      await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: member.passwordOnly }));
      await enforce(t, team.id, owner.strong, null);
      await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: member.passwordOnly }));
    });

    it('answers 404, not 403, to a caller who cannot see the organization', async () => {
      const t = use();
      const owner = await person(t);
      const stranger = await person(t);
      const { org, team } = await tree(t, owner);
      await enforce(t, org.id, owner.strong, true);
      for (const id of [org.id, team.id]) {
        const reply = await t.get(`/v1/organizations/${id}`, { key: stranger.passwordOnly });
        expect(reply.status).toBe(404);
        expect(reply.body.error.code).toBe('not_found');
      }
    });

    it('does not affect API keys: personal, organization and admin keys work as before', async () => {
      const t = use();
      const owner = await person(t);
      const member = await person(t);
      const { org, team } = await tree(t, owner, member);
      const personal = await t.expect(201, t.post('/v1/api-keys', { name: 'cli' }, { key: member.strong }));
      const orgKey = await t.organizationKey(org.id, owner.strong);
      await enforce(t, org.id, owner.strong, true);
      for (const key of [personal.secret, orgKey, undefined]) {
        await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key }));
        await t.expect(200, t.get(`/v1/organizations/${team.id}/members`, { key }));
      }
    });

    it('is separate from members_can_use_personal_api_keys, which refuses keys but not JWT callers', async () => {
      const t = use();
      const owner = await person(t);
      const member = await person(t);
      const { org, team } = await tree(t, owner, member);
      const personal = await t.expect(201, t.post('/v1/api-keys', {}, { key: member.strong }));
      await t.expect(
        200,
        t.patch(
          `/v1/organizations/${org.id}`,
          { settings: { members_can_use_personal_api_keys: false } },
          { key: owner.strong },
        ),
      );
      const refused = await t.get(`/v1/organizations/${team.id}`, { key: personal.secret });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('personal_api_keys_disabled');
      await t.expect(200, t.get(`/v1/organizations/${team.id}`, { key: member.passwordOnly }));
    });
  },
  { ORGSTACK_JWT_SECRET: SECRET },
);
