import { expect, it } from 'vitest';
import { describeEachDatabase } from './helpers/app.js';

describeEachDatabase('Idempotency-Key', (use) => {
  const withKey = (key: string, extra: Record<string, string> = {}) => ({ 'idempotency-key': key, ...extra });

  it('answers a retried create with the first answer and creates once', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const key = t.unique('create');
    const body = { name: t.unique('Idem') };
    const first = await t.post('/v1/organizations', body, { key: owner.key, headers: withKey(key) });
    expect(first.status).toBe(201);
    const again = await t.post('/v1/organizations', body, { key: owner.key, headers: withKey(key) });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const mine = await t.expect(200, t.get('/v1/organizations', { key: owner.key, query: { limit: 100 } }));
    expect(mine.data.filter((org: any) => org.name === body.name)).toHaveLength(1);
  });

  it('keeps an answer that shows a secret once sealed, and replays the secret itself', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const key = t.unique('secret');
    const first = await t.post('/v1/api-keys', { name: 'sealed' }, { key: owner.key, headers: withKey(key) });
    expect(first.status).toBe(201);
    const stored = await t.database.db.query<{ response_body: string }>(
      'select response_body from idempotency_keys where key = $1',
      [key],
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]!.response_body).not.toContain(first.body.secret);
    expect(stored[0]!.response_body).toMatch(/^v1\./);
    const again = await t.post('/v1/api-keys', { name: 'sealed' }, { key: owner.key, headers: withKey(key) });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.secret).toBe(first.body.secret);
    // Bound to its caller and key: copied under another key it does not open.
    const moved = t.unique('moved');
    await t.database.db.query(
      `insert into idempotency_keys (caller_scope, key, fingerprint, state, status_code, response_body, expires_at)
       select caller_scope, $2, fingerprint, state, status_code, response_body, expires_at
         from idempotency_keys where key = $1`,
      [key, moved],
    );
    const copied = await t.post(
      '/v1/api-keys',
      { name: 'sealed' },
      { key: owner.key, headers: withKey(moved) },
    );
    expect(copied.status).toBe(409);
    expect(copied.body.error).toMatchObject({ code: 'conflict', param: 'Idempotency-Key' });
  });

  it('refuses the same key for a different request with 422 and changes nothing', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const key = t.unique('reuse');
    await t.expect(
      201,
      t.post('/v1/organizations', { name: t.unique('A') }, { key: owner.key, headers: withKey(key) }),
    );
    const other = await t.post(
      '/v1/organizations',
      { name: 'Different' },
      { key: owner.key, headers: withKey(key) },
    );
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key' });
    const mine = await t.expect(200, t.get('/v1/organizations', { key: owner.key }));
    expect(mine.data.map((org: any) => org.name)).not.toContain('Different');
  });

  it('keeps keys per caller: another user with the same key gets their own write', async () => {
    const t = use();
    const a = await t.userWithKey();
    const b = await t.userWithKey();
    const key = t.unique('shared');
    const body = { name: t.unique('Same') };
    const first = await t.expect(
      201,
      t.post('/v1/organizations', body, { key: a.key, headers: withKey(key) }),
    );
    const second = await t.post('/v1/organizations', body, { key: b.key, headers: withKey(key) });
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.id);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
  });

  it('replays errors and empty answers too, and refuses a malformed key', async () => {
    const t = use();
    const { owner, team } = await t.ownerWithTeam();
    const key = t.unique('delete');
    const deleted = await t.delete(`/v1/organizations/${team.id}`, { key: owner.key, headers: withKey(key) });
    expect(deleted.status).toBe(204);
    const again = await t.delete(`/v1/organizations/${team.id}`, { key: owner.key, headers: withKey(key) });
    expect(again.status).toBe(204);
    expect(again.headers['idempotent-replayed']).toBe('true');
    // Without the key the same delete answers what a second delete answers.
    expect((await t.delete(`/v1/organizations/${team.id}`, { key: owner.key })).status).toBe(404);

    const missing = t.unique('missing');
    const first = await t.get('/v1/organizations/no-such-org', { key: owner.key });
    expect(first.status).toBe(404);
    const patch = await t.patch(
      '/v1/organizations/no-such-org',
      { name: 'x' },
      { key: owner.key, headers: withKey(missing) },
    );
    expect(patch.status).toBe(404);
    const replay = await t.patch(
      '/v1/organizations/no-such-org',
      { name: 'x' },
      { key: owner.key, headers: withKey(missing) },
    );
    expect(replay.status).toBe(404);
    expect(replay.body.error.code).toBe('not_found');
    expect(replay.headers['idempotent-replayed']).toBe('true');

    const bad = await t.post(
      '/v1/organizations',
      { name: 'x' },
      { key: owner.key, headers: withKey('has space') },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('Idempotency-Key');
  });

  it('creates once under a burst of 50 identical requests with one key', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const key = t.unique('burst');
    const body = { name: t.unique('Burst') };
    const replies = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.post('/v1/organizations', body, { key: owner.key, headers: withKey(key) }),
      ),
    );
    // One request ran; each other one got its answer replayed or was told it is still running.
    const original = replies.filter((r) => r.status === 201 && !r.headers['idempotent-replayed']);
    expect(original).toHaveLength(1);
    for (const reply of replies) {
      if (reply.status === 201) expect(reply.body).toEqual(original[0]!.body);
      else expect([reply.status, reply.body.error.code]).toEqual([409, 'idempotency_key_in_progress']);
    }
    const replayed = replies.filter((r) => r.headers['idempotent-replayed'] === 'true');
    expect(replayed.every((r) => r.status === 201)).toBe(true);
    expect(original.length + replayed.length + replies.filter((r) => r.status === 409).length).toBe(50);
    const mine = await t.expect(200, t.get('/v1/organizations', { key: owner.key, query: { limit: 100 } }));
    expect(mine.data.filter((org: any) => org.name === body.name)).toHaveLength(1);
  });

  it('answers what the write did when its answer cannot be stored, and keeps the key claimed', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const key = t.unique('unstored');
    const body = { name: t.unique('Unstored') };
    // The database refuses the statement that stores the answer, as one going away would.
    await t.database.db.query(`
      create function refuse_answer() returns trigger language plpgsql as $$
      begin raise exception 'answers are not stored now'; end $$`);
    await t.database.db.query(`
      create trigger refuse_answer before update on idempotency_keys
        for each row when (new.state = 'completed') execute function refuse_answer()`);
    let first: Awaited<ReturnType<typeof t.post>>;
    try {
      first = await t.post('/v1/organizations', body, { key: owner.key, headers: withKey(key) });
    } finally {
      await t.database.db.query('drop trigger refuse_answer on idempotency_keys');
      await t.database.db.query('drop function refuse_answer()');
    }
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: body.name });
    // Nothing stored to replay: a retry is told the first is still running, and writes nothing.
    const again = await t.post('/v1/organizations', body, { key: owner.key, headers: withKey(key) });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('idempotency_key_in_progress');
    // The claim committed with the organization, so even once it is old it is never run again.
    await t.database.db.query(
      `update idempotency_keys set created_at = created_at - interval '6 minutes' where key = $1`,
      [key],
    );
    const later = await t.post('/v1/organizations', body, { key: owner.key, headers: withKey(key) });
    expect(later.status).toBe(409);
    expect(later.body.error).toMatchObject({ code: 'idempotency_answer_lost', param: 'Idempotency-Key' });
    const mine = await t.expect(200, t.get('/v1/organizations', { key: owner.key, query: { limit: 100 } }));
    expect(mine.data.filter((org: any) => org.name === body.name)).toHaveLength(1);
  });

  it('takes over a claim abandoned before anything committed, and marks claims whose write rolled back as not committed', async () => {
    const t = use();
    const owner = await t.userWithKey();
    const key = t.unique('abandoned');
    const body = { name: t.unique('Abandoned') };
    // A claim as a process that died before its transaction committed leaves it.
    await t.database.db.query(
      `insert into idempotency_keys (caller_scope, key, fingerprint, state, created_at, expires_at)
       values ($1, $2, 'left by a dead process', 'started', now() - interval '6 minutes', now() + interval '1 day')`,
      [`user:${owner.user.id}`, key],
    );
    const created = await t.post('/v1/organizations', body, { key: owner.key, headers: withKey(key) });
    expect(created.status).toBe(201);
    const [claim] = await t.database.db.query<{ state: string }>(
      'select state from idempotency_keys where key = $1',
      [key],
    );
    expect(claim!.state).toBe('completed');
    // A write refused inside its transaction leaves its claim uncommitted: its 4xx is what is kept.
    const refusedKey = t.unique('refused');
    const taken = await t.post(
      '/v1/organizations',
      { name: 'Taken', slug: created.body.slug },
      { key: owner.key, headers: withKey(refusedKey) },
    );
    expect(taken.status).toBe(409);
    const replayed = await t.post(
      '/v1/organizations',
      { name: 'Taken', slug: created.body.slug },
      { key: owner.key, headers: withKey(refusedKey) },
    );
    expect(replayed.status).toBe(409);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
  });
});
