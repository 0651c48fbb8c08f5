import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { brokenInvariants } from './invariants.js';
import { acknowledged, send, type Write, writeLoop } from './load.js';
import { faultsRoot } from './pids.js';
import { ServerProcess, userWithKey } from './server.js';
import { PrivatePostgres, until } from './services.js';

const CLIENTS = 16;

let cluster: PrivatePostgres;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  cluster = await PrivatePostgres.start(faultsRoot());
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.kill();
});

afterAll(async () => {
  await cluster?.destroy();
});

/** A database of its own on the private cluster, and a connection for the checks. */
async function freshDatabase(name: string) {
  const admin = postgres(cluster.url(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const sql = postgres(cluster.url(name), { max: 2, onnotice: () => {} });
  return { url: cluster.url(name), sql };
}

async function startServer(url: string) {
  const server = await ServerProcess.start({ DATABASE_URL: url });
  servers.push(server);
  return server;
}

async function counts(sql: postgres.Sql) {
  const [row] = await sql.unsafe(`select
      (select count(*)::int from organizations) as organizations,
      (select count(*)::int from memberships) as memberships,
      (select count(*)::int from projects) as projects,
      (select count(*)::int from users) as users,
      (select count(*)::int from user_organizations) as reach,
      (select count(*)::int from audit_events) as events`);
  return row;
}

/** The acknowledged writes whose rows are not in the database. */
async function missing(sql: postgres.Sql, writes: Write[]) {
  const ids = (kind: Write['kind']) =>
    writes.filter((w) => w.kind === kind).map((w) => w.reply!.body.id as string);
  const organizations = [...ids('organization'), ...ids('team')];
  const found = new Set(
    (await sql`select id from organizations where id = any(${organizations}::uuid[])`).map((r) => r.id),
  );
  const projects = new Set(
    (await sql`select id from projects where id = any(${ids('project')}::uuid[])`).map((r) => r.id),
  );
  const memberships = new Set(
    (await sql`select organization_id || '/' || user_id as id from memberships`).map((r) => r.id),
  );
  return writes.filter((write) => {
    const body = write.reply!.body;
    if (write.kind === 'project') return !projects.has(body.id);
    if (write.kind === 'member') return !memberships.has(`${body.organization_id}/${body.user_id}`);
    return !found.has(body.id);
  });
}

/** How many rows the write made: each write in the load names what it creates uniquely. */
async function copies(sql: postgres.Sql, write: Write): Promise<number> {
  const name = write.body.name as string;
  const [row] =
    write.kind === 'member'
      ? await sql`select count(*)::int as n from memberships m join users u on u.id = m.user_id
                   where u.email = ${write.body.email as string}`
      : write.kind === 'project'
        ? await sql`select count(*)::int as n from projects where name = ${name}`
        : await sql`select count(*)::int as n from organizations where name = ${name}`;
  return row!.n;
}

const committed = async (sql: postgres.Sql, write: Write) => (await copies(sql, write)) > 0;

const retry = (server: ServerProcess, write: Write) =>
  server.call(write.method, write.path, {
    key: write.key,
    body: write.body,
    headers: { 'idempotency-key': write.idempotencyKey },
  });

describe('SIGKILL of the server under write load', () => {
  it('keeps every acknowledged write, leaves nothing half done, and replays acknowledged retries', async () => {
    const { url, sql } = await freshDatabase('killed_under_load');
    try {
      const first = await startServer(url);
      const clients = await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => ({
          ...(await userWithKey(first, `client${i}`)),
          label: `kill-${i}`,
        })),
      );
      const log: Write[] = [];
      let stop = false;
      const loops = clients.map((client) => writeLoop(first, client, log, () => stop));
      // Somewhere in the middle of the load, with every client's request in flight.
      const killAfter = 150 + Math.floor(Math.random() * 100);
      await until(
        `${killAfter} acknowledged writes`,
        () => log.filter(acknowledged).length,
        (n) => n >= killAfter,
        60_000,
        5,
      );
      await first.kill();
      stop = true;
      await Promise.all(loops);

      const acked = log.filter(acknowledged);
      const unanswered = log.filter((write) => !write.reply);
      // Nothing but network failures: no write was refused while the server was up.
      expect(log.filter((w) => w.reply && !acknowledged(w)).map((w) => w.reply)).toEqual([]);
      expect(unanswered.length).toBeGreaterThan(0);

      const second = await startServer(url);
      expect(await missing(sql, acked)).toEqual([]);
      expect(await brokenInvariants(sql)).toEqual({});

      // Acknowledged retries get the stored answer and change nothing.
      const before = await counts(sql);
      for (const write of acked) {
        const again = await retry(second, write);
        expect(again.status, write.path).toBe(write.reply!.status);
        expect(again.body).toEqual(write.reply!.body);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
      }
      expect(await counts(sql)).toEqual(before);

      // Retries of the writes cut off by the kill: each is answered from what was stored, told the
      // first is still running (it may have committed; its answer was never stored), or runs now
      // because the first never claimed its key.
      const outcomes = { replayed: 0, inProgress: 0, committedWithoutAnswer: 0, ranNow: 0 };
      for (const write of unanswered) {
        const again = await retry(second, write);
        if (again.headers.get('idempotent-replayed') === 'true') {
          expect(again.status).toBeLessThan(300);
          outcomes.replayed++;
        } else if (again.status === 409 && again.body.error?.code === 'idempotency_key_in_progress') {
          outcomes.inProgress++;
          if (await committed(sql, write)) outcomes.committedWithoutAnswer++;
        } else {
          expect(again.status, JSON.stringify(again.body)).toBeLessThan(300);
          outcomes.ranNow++;
        }
      }
      // Five minutes on, claims the kill abandoned before anything committed are taken over and
      // run; those whose write committed answer 409 answer lost, and never run a second time.
      await sql`update idempotency_keys set created_at = created_at - interval '6 minutes'
                 where state <> 'completed'`;
      for (const write of unanswered) {
        const again = await retry(second, write);
        const lost = again.status === 409 && again.body.error?.code === 'idempotency_answer_lost';
        expect(lost || again.status < 300, JSON.stringify(again.body)).toBe(true);
        if (lost) expect(await committed(sql, write), write.path).toBe(true);
      }
      // No retry of a write cut off by the kill made a second copy of it.
      for (const write of unanswered) expect(await copies(sql, write), write.path).toBeLessThanOrEqual(1);
      expect(await brokenInvariants(sql)).toEqual({});
      console.info(
        `SIGKILL after ${acked.length} acknowledged writes; ${unanswered.length} cut off: ${JSON.stringify(outcomes)}`,
      );
    } finally {
      await sql.end();
    }
  });

  it('never runs a committed write twice: a retry after its answer was lost is 409, then 409 answer lost, never a second write', async () => {
    const { url, sql } = await freshDatabase('answer_lost');
    try {
      const first = await startServer(url);
      const client = await userWithKey(first, 'gap');
      // Hold the statement that stores the answer, so the process dies after the change committed
      // and before its answer is kept: the window docs/security.md describes, made certain.
      await sql.unsafe(`
        create function hold_answer() returns trigger language plpgsql as $$
        begin perform pg_advisory_xact_lock(4242); return new; end $$;
        create trigger hold_answer before update on idempotency_keys
          for each row when (new.state = 'completed') execute function hold_answer();`);
      const holder = await sql.reserve();
      await holder`select pg_advisory_lock(4242)`;
      const log: Write[] = [];
      const name = `gap-${Date.now()}`;
      const write = send(first, log, {
        kind: 'organization',
        method: 'POST',
        path: '/v1/organizations',
        body: { name },
        key: client.key,
      });
      await until(
        'the organization to commit while its answer waits',
        async () =>
          (
            await sql`select count(*)::int as n from organizations o, idempotency_keys k
                       where o.name = ${name} and k.state = 'committed'`
          )[0]!.n,
        (n) => n === 1,
      );
      await first.kill();
      expect((await write).reply).toBeUndefined();
      // The dead process's connections go with it, the one waiting to store the answer too.
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
                 where application_name = 'orgstack' and pid <> pg_backend_pid()`;
      await holder`select pg_advisory_unlock(4242)`;
      holder.release();
      await sql.unsafe('drop trigger hold_answer on idempotency_keys; drop function hold_answer();');

      const second = await startServer(url);
      const lost = log[0]!;
      const soon = await retry(second, lost);
      expect(soon.status).toBe(409);
      expect(soon.body.error.code).toBe('idempotency_key_in_progress');
      // Five minutes on, a claim that committed is still never run again: the retry learns the
      // write happened and its answer is lost.
      await sql`update idempotency_keys set created_at = created_at - interval '6 minutes'
                 where key = ${lost.idempotencyKey}`;
      const later = await retry(second, lost);
      expect(later.status).toBe(409);
      expect(later.body.error.code).toBe('idempotency_answer_lost');
      const copies = await sql`select id from organizations where name = ${name}`;
      expect(copies).toHaveLength(1);
      expect(await brokenInvariants(sql)).toEqual({});
    } finally {
      await sql.end();
    }
  });
});
