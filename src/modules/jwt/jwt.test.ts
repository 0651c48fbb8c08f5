import { Writable } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { describeEachDatabase, startTestApp, type TestApp } from '../../../test/helpers/app.js';
import { backends } from '../../../test/helpers/databases.js';
import {
  AUDIENCE,
  closedUrl,
  ISSUER,
  signHs256,
  signRaw,
  signWith,
  startIdentityProvider,
  type TokenOptions,
  unsigned,
} from '../../../test/helpers/jwt.js';
import { loggerOptions } from '../../app.js';
import { ConfigError, loadConfig } from '../../config.js';

const idp = await startIdentityProvider();
afterAll(() => idp.close());

const sign = (claims: Record<string, unknown>, options?: TokenOptions) =>
  signWith(idp.keys.RS256, claims, options);

function newcomer(t: TestApp, extra: Record<string, unknown> = {}) {
  const sub = t.unique('idp-user');
  return { sub, email: `${sub}@example.com`, name: 'New Comer', ...extra };
}

async function usersWithExternalId(t: TestApp, sub: string) {
  return t.database.db.query<{ id: string; deleted_at: string | null }>(
    'select id, deleted_at from users where external_id = $1',
    [sub],
  );
}

function expectRefusal(reply: { status: number; body: any }, status: number, code: string) {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.body.error).toMatchObject({
    code,
    type: status === 401 ? 'authentication_error' : expect.any(String),
  });
  expect(typeof reply.body.error.message).toBe('string');
  expect(typeof reply.body.error.request_id).toBe('string');
}

describeEachDatabase(
  'JWT callers (JWKS)',
  (use) => {
    it('creates the user on first sight from sub, email and name, and acts as that user with every scope', async () => {
      const t = use();
      const claims = newcomer(t, { amr: ['pwd'] });
      const token = await sign(claims);
      const me = await t.expect(200, t.get('/v1/me', { key: token }));
      expect(me).toMatchObject({
        principal: 'user',
        api_key_id: null,
        authentication: { method: 'jwt', amr: ['pwd'], second_factor: false },
        user: { email: claims.email, name: 'New Comer', external_id: claims.sub },
        organization: null,
      });
      expect(me.scopes).toEqual(
        expect.arrayContaining(['organization:write', 'member:write', 'api_key:write']),
      );
      expect(await usersWithExternalId(t, claims.sub)).toHaveLength(1);

      // The same user on the next request, and the creation is in the trail, done by that user.
      const again = await t.expect(200, t.get('/v1/me', { key: token }));
      expect(again.user.id).toBe(me.user.id);
      const events = await t.expect(
        200,
        t.get('/v1/audit-events', { query: { target_id: me.user.id, action: 'user.created' } }),
      );
      expect(events.data).toHaveLength(1);
      expect(events.data[0].actor).toEqual({ kind: 'user', user_id: me.user.id, key_id: null });
    });

    it('accepts RS256, ES256 and EdDSA keys from the key set', async () => {
      const t = use();
      for (const key of Object.values(idp.keys)) {
        const claims = newcomer(t);
        const me = await t.expect(200, t.get('/v1/me', { key: await signWith(key, claims) }));
        expect(me.user.external_id).toBe(claims.sub);
      }
    });

    it('lets a JWT caller work like the user: create an organization, own it, recorded with no key', async () => {
      const t = use();
      const token = await sign(newcomer(t));
      const org = await t.createOrganization(token);
      const members = await t.expect(200, t.get(`/v1/organizations/${org.id}/members`, { key: token }));
      const me = await t.expect(200, t.get('/v1/me', { key: token }));
      expect(members.data).toEqual([expect.objectContaining({ user_id: me.user.id, role: 'owner' })]);
      const trail = await t.expect(
        200,
        t.get(`/v1/organizations/${org.id}/audit-events`, {
          key: token,
          query: { action: 'organization.created' },
        }),
      );
      expect(trail.data[0].actor).toEqual({ kind: 'user', user_id: me.user.id, key_id: null });
      // A JWT caller may mint a personal key for itself; the key then works on its own.
      const created = await t.expect(201, t.post('/v1/api-keys', { name: 'cli' }, { key: token }));
      const viaKey = await t.expect(200, t.get('/v1/me', { key: created.secret }));
      expect(viaKey).toMatchObject({
        api_key_id: created.id,
        user: { id: me.user.id },
        authentication: { method: 'api_key', amr: [], second_factor: false },
      });
    });

    it('links the live user that has the email but no external_id instead of creating another', async () => {
      const t = use();
      const claims = newcomer(t, { name: 'Linked Name' });
      const existing = await t.createUser(claims.email.toUpperCase());
      const me = await t.expect(200, t.get('/v1/me', { key: await sign(claims) }));
      expect(me.user).toMatchObject({ id: existing.id, external_id: claims.sub, name: 'Linked Name' });
      const stored = await t.expect(200, t.get(`/v1/users/${existing.id}`));
      expect(stored.external_id).toBe(claims.sub);
      const events = await t.expect(
        200,
        t.get('/v1/audit-events', { query: { target_id: existing.id, action: 'user.updated' } }),
      );
      expect(events.data[0].changes.external_id).toEqual({ before: null, after: claims.sub });
    });

    it('refuses an email held by a user linked to another identity, and creates nothing', async () => {
      const t = use();
      const claims = newcomer(t);
      const holder = await t.expect(
        201,
        t.post('/v1/users', { email: claims.email, external_id: t.unique('other-idp-user') }),
      );
      const reply = await t.get('/v1/me', { key: await sign(claims) });
      expectRefusal(reply, 409, 'identity_conflict');
      expect(await usersWithExternalId(t, claims.sub)).toHaveLength(0);
      expect((await t.expect(200, t.get(`/v1/users/${holder.id}`))).external_id).toBe(holder.external_id);
    });

    it('needs an email to create a user, and refuses one the provider calls unverified', async () => {
      const t = use();
      const noEmail = { sub: t.unique('idp-user'), name: 'No Mail' };
      expectRefusal(await t.get('/v1/me', { key: await sign(noEmail) }), 401, 'token_email_required');
      expect(await usersWithExternalId(t, noEmail.sub)).toHaveLength(0);

      const unverified = newcomer(t, { email_verified: false });
      expectRefusal(await t.get('/v1/me', { key: await sign(unverified) }), 401, 'email_not_verified');
      expect(await usersWithExternalId(t, unverified.sub)).toHaveLength(0);
      // Nor may an unverified email take over a user waiting for that email.
      const waiting = await t.createUser(unverified.email);
      expectRefusal(await t.get('/v1/me', { key: await sign(unverified) }), 401, 'email_not_verified');
      expect((await t.expect(200, t.get(`/v1/users/${waiting.id}`))).external_id).toBeNull();

      // Once the user exists, a token without an email works.
      const known = newcomer(t);
      await t.expect(200, t.get('/v1/me', { key: await sign(known) }));
      const bare = await t.expect(200, t.get('/v1/me', { key: await sign({ sub: known.sub }) }));
      expect(bare.user.email).toBe(known.email);
    });

    it('keeps name and email in step with the claims, but never takes an email another user holds', async () => {
      const t = use();
      const claims = newcomer(t);
      const first = await t.expect(200, t.get('/v1/me', { key: await sign(claims) }));
      const renamed = { ...claims, name: 'Renamed', email: `renamed-${claims.email}` };
      const me = await t.expect(200, t.get('/v1/me', { key: await sign(renamed) }));
      expect(me.user).toMatchObject({ id: first.user.id, name: 'Renamed', email: renamed.email });

      const other = await t.createUser();
      const stealing = { ...renamed, email: other.email, name: 'Renamed Again' };
      const after = await t.expect(200, t.get('/v1/me', { key: await sign(stealing) }));
      expect(after.user).toMatchObject({ id: first.user.id, name: 'Renamed Again', email: renamed.email });
      expect((await t.expect(200, t.get(`/v1/users/${other.id}`))).email).toBe(other.email);
    });

    it('creates exactly one user for 20 parallel first requests with the same new sub', async () => {
      const t = use();
      const claims = newcomer(t);
      const token = await sign(claims);
      const replies = await Promise.all(Array.from({ length: 20 }, () => t.get('/v1/me', { key: token })));
      expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(200));
      const ids = new Set(replies.map((reply) => reply.body.user.id));
      expect(ids.size).toBe(1);
      expect(await usersWithExternalId(t, claims.sub)).toHaveLength(1);
      const created = await t.expect(
        200,
        t.get('/v1/audit-events', { query: { target_id: [...ids][0]!, action: 'user.created' } }),
      );
      expect(created.data).toHaveLength(1);
    });

    it('stops a deleted user at once, and does not create it again', async () => {
      const t = use();
      const claims = newcomer(t);
      const token = await sign(claims);
      const me = await t.expect(200, t.get('/v1/me', { key: token }));
      await t.expect(204, t.delete(`/v1/users/${me.user.id}`));
      expectRefusal(await t.get('/v1/me', { key: token }), 401, 'user_deleted');
      expectRefusal(await t.get('/v1/me', { key: await sign(claims) }), 401, 'user_deleted');
      const rows = await usersWithExternalId(t, claims.sub);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.deleted_at).not.toBeNull();
      // An admin brings the identity back by creating a user with that external_id.
      const restored = await t.expect(
        201,
        t.post('/v1/users', { email: claims.email, external_id: claims.sub }),
      );
      expect((await t.expect(200, t.get('/v1/me', { key: token }))).user.id).toBe(restored.id);
    });

    it('follows a changed external_id at once', async () => {
      const t = use();
      const claims = newcomer(t);
      const token = await sign(claims);
      const me = await t.expect(200, t.get('/v1/me', { key: token }));
      await t.expect(200, t.patch(`/v1/users/${me.user.id}`, { external_id: t.unique('moved') }));
      // The old sub names no live user now: it would create one, but its email is taken.
      expectRefusal(await t.get('/v1/me', { key: token }), 409, 'identity_conflict');
    });

    it('refuses each kind of bad token with 401 and its own code, and creates no user', async () => {
      const t = use();
      const cases: [string, string, (claims: ReturnType<typeof newcomer>) => Promise<string> | string][] = [
        ['expired', 'token_expired', (c) => sign(c, { expiresIn: -120 })],
        ['not yet valid', 'token_not_yet_valid', (c) => sign(c, { notBefore: 600 })],
        ['unsigned (alg: none)', 'token_unsigned', (c) => unsigned(c)],
        [
          'signed by an unknown key under a known kid',
          'token_signature_invalid',
          (c) => signWith(idp.impostor, c),
        ],
        [
          'signed by a key the set does not have',
          'token_signature_invalid',
          (c) => signWith({ ...idp.impostor, kid: 'unknown-kid' }, c),
        ],
        [
          'HS256 with a public key as the secret',
          'token_algorithm_not_allowed',
          (c) => signHs256('a-secret-that-is-at-least-32-bytes-long', c),
        ],
        ['from another issuer', 'token_issuer_invalid', (c) => sign(c, { issuer: 'https://evil.example' })],
        ['without an issuer', 'token_issuer_invalid', (c) => sign(c, { issuer: null })],
        ['without an audience', 'token_audience_invalid', (c) => sign(c, { audience: null })],
        ['for another audience', 'token_audience_invalid', (c) => sign(c, { audience: 'someone-else' })],
        ['without an expiry', 'invalid_token', (c) => sign(c, { expiresIn: null })],
        ['with a sub too long', 'invalid_token', (c) => sign({ ...c, sub: 'x'.repeat(201) })],
        ['with a malformed email', 'invalid_token', (c) => sign({ ...c, email: 'not an email' })],
        // The signature is checked before the payload is read: a made-up one ends it there.
        [
          'garbage under a made-up signature',
          'token_signature_invalid',
          () => 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln',
        ],
        ['a signed payload that is not JSON', 'invalid_token', () => signRaw(idp.keys.RS256, 'not json')],
        ['a signed payload that is a JSON array', 'invalid_token', () => signRaw(idp.keys.ES256, '[1]')],
        ['a header that is not JSON', 'invalid_token', () => 'bm90LWpzb24.e30.c2ln'],
      ];
      const wrong: string[] = [];
      for (const [name, code, make] of cases) {
        const claims = newcomer(t);
        const reply = await t.get('/v1/me', { key: await make(claims) });
        if (reply.status !== 401 || reply.body?.error?.code !== code) {
          wrong.push(`${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
        }
        if ((await usersWithExternalId(t, claims.sub)).length > 0) wrong.push(`${name}: created a user`);
      }
      expect(wrong).toEqual([]);
      // A token that fails late (expired) while its user exists refuses that user too.
      const known = newcomer(t);
      await t.expect(200, t.get('/v1/me', { key: await sign(known) }));
      expectRefusal(
        await t.get('/v1/me', { key: await sign(known, { expiresIn: -120 }) }),
        401,
        'token_expired',
      );
    });

    it('tolerates a small clock skew', async () => {
      const t = use();
      await t.expect(200, t.get('/v1/me', { key: await sign(newcomer(t), { expiresIn: -5 }) }));
      await t.expect(200, t.get('/v1/me', { key: await sign(newcomer(t), { notBefore: 5 }) }));
    });

    it('accepts any configured issuer and audience, and one audience of several in the token', async () => {
      const t = use();
      await t.expect(
        200,
        t.get('/v1/me', { key: await sign(newcomer(t), { issuer: 'https://second-issuer.example' }) }),
      );
      await t.expect(200, t.get('/v1/me', { key: await sign(newcomer(t), { audience: 'second-app' }) }));
      await t.expect(200, t.get('/v1/me', { key: await sign(newcomer(t), { audience: ['x', AUDIENCE] }) }));
    });

    it('fetches the key set once and serves later tokens from its cache', async () => {
      const t = use();
      await t.expect(200, t.get('/v1/me', { key: await sign(newcomer(t)) }));
      const before = idp.fetches();
      for (let i = 0; i < 5; i++) await t.expect(200, t.get('/v1/me', { key: await sign(newcomer(t)) }));
      expect(idp.fetches()).toBe(before);
    });

    it('leaves API keys working as before, the admin key and unknown keys included', async () => {
      const t = use();
      const { key, keyId, user } = await t.userWithKey(['organization:read']);
      const me = await t.expect(200, t.get('/v1/me', { key }));
      expect(me).toMatchObject({ api_key_id: keyId, user: { id: user.id }, scopes: ['organization:read'] });
      expect(me.authentication).toEqual({ method: 'api_key', amr: [], second_factor: false });
      await t.expect(200, t.get('/v1/me'));
      expectRefusal(
        await t.get('/v1/me', { key: 'osk_thisKeyDoesNotExist000000000000000000' }),
        401,
        'invalid_api_key',
      );
      expectRefusal(await t.get('/v1/me', { key: 'not-a-key-and-not-a-token' }), 401, 'invalid_api_key');
    });
  },
  {
    ORGSTACK_JWT_JWKS_URL: idp.url,
    ORGSTACK_JWT_ISSUER: `${ISSUER}, https://second-issuer.example`,
    ORGSTACK_JWT_AUDIENCE: `${AUDIENCE}, second-app`,
  },
);

const SECRET = 'an-hs256-secret-for-tests-0123456789abcdef';

describeEachDatabase(
  'JWT callers (HS256 secret)',
  (use) => {
    it('accepts tokens signed with the shared secret, with no issuer or audience configured', async () => {
      const t = use();
      const claims = newcomer(t, { amr: ['pwd', 'otp'] });
      const me = await t.expect(
        200,
        t.get('/v1/me', { key: await signHs256(SECRET, claims, { issuer: null }) }),
      );
      expect(me).toMatchObject({
        api_key_id: null,
        user: { external_id: claims.sub },
        authentication: { method: 'jwt', amr: ['pwd', 'otp'], second_factor: true },
      });
    });

    it('refuses a wrong secret, public-key algorithms and unsigned tokens', async () => {
      const t = use();
      const wrongSecret = await signHs256('another-secret-of-at-least-32-bytes!!', newcomer(t));
      expectRefusal(await t.get('/v1/me', { key: wrongSecret }), 401, 'token_signature_invalid');
      const rsa = await signWith(idp.keys.RS256, newcomer(t));
      expectRefusal(await t.get('/v1/me', { key: rsa }), 401, 'token_algorithm_not_allowed');
      expectRefusal(await t.get('/v1/me', { key: unsigned(newcomer(t)) }), 401, 'token_unsigned');
      expectRefusal(
        await t.get('/v1/me', { key: await signHs256(SECRET, newcomer(t), { expiresIn: -3600 }) }),
        401,
        'token_expired',
      );
    });
  },
  { ORGSTACK_JWT_SECRET: SECRET },
);

describeEachDatabase(
  'JWT callers (not configured)',
  (use) => {
    it('refuses JWTs like any unknown credential', async () => {
      const t = use();
      const token = await signHs256(SECRET, newcomer(t));
      expectRefusal(await t.get('/v1/me', { key: token }), 401, 'invalid_api_key');
      await t.expect(200, t.get('/v1/me'));
    });
  },
  { ORGSTACK_JWT_SECRET: '' },
);

const [pglite] = backends;

function capturedLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, options: { ...(loggerOptions('trace') as object), stream } };
}

it('never writes a token to the log, accepted or refused, even at trace level', async () => {
  const logs = capturedLogs();
  const t = await startTestApp(
    pglite!,
    { ORGSTACK_JWT_JWKS_URL: idp.url, ORGSTACK_JWT_ISSUER: ISSUER, ORGSTACK_JWT_AUDIENCE: AUDIENCE },
    logs.options,
  );
  try {
    const claims = newcomer(t);
    const tokens = [
      await sign(claims),
      await sign(claims, { expiresIn: -600 }),
      await signWith(idp.impostor, claims),
      unsigned(claims),
      await sign({ ...claims, email: 'broken' }),
    ];
    for (const token of tokens) await t.get('/v1/me', { key: token });
    await t.expect(200, t.get('/v1/me', { key: tokens[0] }));
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(tokens.length);
    for (const token of tokens) {
      for (const part of token.split('.').filter((p) => p.length > 8)) expect(text).not.toContain(part);
    }
  } finally {
    await t.close();
  }
});

it('answers 503 when the key set cannot be fetched, and logs the reason without the token', async () => {
  const logs = capturedLogs();
  const t = await startTestApp(pglite!, { ORGSTACK_JWT_JWKS_URL: await closedUrl() }, logs.options);
  try {
    const token = await sign(newcomer(t));
    const reply = await t.get('/v1/me', { key: token });
    expect(reply.status).toBe(503);
    expect(reply.body.error).toMatchObject({ code: 'service_unavailable', type: 'api_error' });
    const warning = logs.lines
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === 'JWT key set unavailable');
    expect(warning?.reason).toMatch(
      /cannot use the key set at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json/,
    );
    expect(logs.lines.join('\n')).not.toContain(token.split('.')[1]);
    // API keys do not depend on the identity provider.
    await t.expect(200, t.get('/v1/me'));
  } finally {
    await t.close();
  }
});

it('checks the JWT settings at start, naming the variable in one line', () => {
  const secret = 'x'.repeat(32);
  expect(() => loadConfig({ ORGSTACK_JWT_JWKS_URL: 'not a url' })).toThrow(/^ORGSTACK_JWT_JWKS_URL: /);
  expect(() => loadConfig({ ORGSTACK_JWT_JWKS_URL: 'ftp://idp.example/jwks' })).toThrow(
    /^ORGSTACK_JWT_JWKS_URL: /,
  );
  expect(() => loadConfig({ ORGSTACK_JWT_SECRET: 'x'.repeat(31) })).toThrow(
    /^ORGSTACK_JWT_SECRET: .*32 bytes/,
  );
  expect(() =>
    loadConfig({ ORGSTACK_JWT_SECRET: secret, ORGSTACK_JWT_JWKS_URL: 'https://idp.example/jwks' }),
  ).toThrow(/^ORGSTACK_JWT_SECRET: .*ORGSTACK_JWT_JWKS_URL/);
  expect(() => loadConfig({ ORGSTACK_JWT_ISSUER: ISSUER })).toThrow(/^ORGSTACK_JWT_ISSUER: /);
  expect(() => loadConfig({ ORGSTACK_JWT_AUDIENCE: AUDIENCE })).toThrow(/^ORGSTACK_JWT_AUDIENCE: /);
  expect(() =>
    loadConfig({ ORGSTACK_JWT_SECRET: secret, ORGSTACK_JWT_CLOCK_TOLERANCE_SECONDS: '3600' }),
  ).toThrow(/^ORGSTACK_JWT_CLOCK_TOLERANCE_SECONDS: /);
  for (const bad of [{ ORGSTACK_JWT_JWKS_URL: 'not a url' }, { ORGSTACK_JWT_SECRET: 'short' }]) {
    try {
      loadConfig(bad);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).not.toContain('\n');
    }
  }
  expect(loadConfig({}).jwt).toBeNull();
  expect(
    loadConfig({ ORGSTACK_JWT_SECRET: secret, ORGSTACK_JWT_AUDIENCE: 'a, b', ORGSTACK_JWT_ISSUER: ISSUER })
      .jwt,
  ).toEqual({
    jwksUrl: undefined,
    secret,
    issuers: [ISSUER],
    audience: ['a', 'b'],
    clockToleranceSeconds: 30,
  });
});
