import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp, TEST_JWT_SECRET, type TestApp } from '../../../test/helpers/app.js';
import { backends } from '../../../test/helpers/databases.js';
import { signHs256 } from '../../../test/helpers/jwt.js';
import { buildApp } from '../../app.js';
import { type Database, openPostgres } from '../../db/client.js';

/*
 * Two instances on one PostgreSQL database, each caching credentials for a minute: a revocation
 * made through one must stop the credential on the other at once, which only the announcement
 * can do (the other's cache would keep it for the minute).
 */

const CACHE_FOR = '60000';

/** Polls `call` until it answers `status`; the answer it got last otherwise. */
async function eventually(call: () => Promise<number>, status: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let last = await call();
  while (last !== status && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 25));
    last = await call();
  }
  return last;
}

for (const backend of backends.filter((candidate) => candidate.name === 'postgres')) {
  describe('revocations reach every instance [postgres]', () => {
    let t: TestApp;
    let otherDb: Database;
    let other: FastifyInstance;
    beforeAll(async () => {
      t = await startTestApp(backend, { ORGSTACK_AUTH_CACHE_TTL_MS: CACHE_FOR });
      otherDb = await openPostgres(t.database.url!, 2);
      other = await buildApp({ config: t.config, db: otherDb });
      await other.ready();
    });
    afterAll(async () => {
      await other?.close();
      await otherDb?.close();
      await t?.close();
    });

    const onOther = (key: string, url = '/v1/me') =>
      other
        .inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
        .then((r) => r.statusCode);

    it('stops a revoked key, a deleted user and a deleted organization there at once', async () => {
      const revoked = await t.userWithKey();
      const deleted = await t.userWithKey();
      const { owner, org } = await t.ownerWithTeam();
      const orgKey = await t.organizationKey(org.id);
      // Each credential is now cached by the other instance.
      for (const key of [revoked.key, deleted.key, orgKey, owner.key]) expect(await onOther(key)).toBe(200);

      await t.expect(200, t.delete(`/v1/api-keys/${revoked.keyId}`));
      expect(await eventually(() => onOther(revoked.key), 401)).toBe(401);

      // The same user signs in with a JWT on the other instance too, which caches that as well.
      const sub = `idp|${deleted.user.id}`;
      await t.expect(200, t.patch(`/v1/users/${deleted.user.id}`, { external_id: sub }));
      const token = await signHs256(TEST_JWT_SECRET, { sub, email: deleted.user.email });
      expect(await onOther(token)).toBe(200);

      await t.expect(204, t.delete(`/v1/users/${deleted.user.id}`));
      expect(await eventually(() => onOther(deleted.key), 401)).toBe(401);
      expect(await eventually(() => onOther(token), 401)).toBe(401);

      await t.expect(204, t.delete(`/v1/organizations/${org.id}`, { key: owner.key }));
      expect(await eventually(() => onOther(orgKey), 401)).toBe(401);

      // Nothing else was thrown out with them.
      expect(await onOther(owner.key)).toBe(200);
      expect(await onOther(ADMIN_KEY)).toBe(200);
    });
  });
}
