import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenInvariants } from './invariants.js';
import { faultsRoot } from './pids.js';
import { ServerProcess, userWithKey } from './server.js';
import { PrivatePostgres, until } from './services.js';

const CLIENTS = 8;
/** The longest any request may take, outage or not: the server's request timeout. */
const REQUEST_TIMEOUT_MS = 10_000;

let cluster: PrivatePostgres;
let server: ServerProcess;
let sql: postgres.Sql;

beforeAll(async () => {
  cluster = await PrivatePostgres.start(faultsRoot());
  sql = postgres(cluster.url(), { max: 1, onnotice: () => {} });
  server = await ServerProcess.start({
    DATABASE_URL: cluster.url(),
    ORGSTACK_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
});

afterAll(async () => {
  await server?.kill();
  await sql?.end({ timeout: 1 });
  await cluster?.destroy();
});

interface Outcome {
  what: string;
  status: number | 'no answer';
  body: any;
  ms: number;
  /** Creates carry one, so a failed one can be retried after the outage. */
  retry?: { key: string; path: string; body: object; idempotencyKey: string };
}

/** Reads, updates and creates (with an Idempotency-Key) on the client's own organization until stopped. */
async function mixedLoad(client: { key: string; org: string }, log: Outcome[], stopped: () => boolean) {
  const org = `/v1/organizations/${client.org}`;
  for (let n = 0; !stopped(); n++) {
    const idempotencyKey = `restart-${client.org}-${n}`;
    const [what, method, path, body] =
      n % 3 === 0
        ? ['read', 'GET', org, undefined]
        : n % 3 === 1
          ? ['update', 'PATCH', org, { description: `revision ${n}` }]
          : ['create', 'POST', `${org}/projects`, { name: `project ${n}` }];
    const headers: Record<string, string> = what === 'create' ? { 'idempotency-key': idempotencyKey } : {};
    const retry = what === 'create' ? { key: client.key, path, body: body!, idempotencyKey } : undefined;
    const started = Date.now();
    try {
      const reply = await server.call(method, path, {
        key: client.key,
        body,
        headers,
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      log.push({ what, status: reply.status, body: reply.body, ms: Date.now() - started, retry });
    } catch (error) {
      log.push({ what, status: 'no answer', body: String(error), ms: Date.now() - started, retry });
    }
  }
}

/** A failure while the database is away: 503 in the error envelope, with nothing internal in it. */
function expectCleanFailure(outcome: Outcome) {
  const shown = () => `${JSON.stringify(outcome)}\n${server.log()}`;
  expect(outcome.status, shown()).toBe(503);
  expect(outcome.body.error, shown()).toMatchObject({
    type: 'api_error',
    code: 'service_unavailable',
    message: expect.any(String),
    request_id: expect.any(String),
  });
  expect(JSON.stringify(outcome.body)).not.toMatch(/ECONN|CONNECTION_|postgres|stack/i);
}

async function loadDuring(fault: () => Promise<void>) {
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const user = await userWithKey(server, `restart${i}`);
      const org = await server.expect(201, 'POST', '/v1/organizations', {
        key: user.key,
        body: { name: `restart-${i}-${Date.now()}` },
      });
      return { key: user.key, org: org.id as string };
    }),
  );
  const log: Outcome[] = [];
  let stop = false;
  const loops = clients.map((client) => mixedLoad(client, log, () => stop));
  const succeeded = () => log.filter((o) => typeof o.status === 'number' && o.status < 300).length;
  try {
    await until('the load to get going', succeeded, (n) => n >= 60);
    const before = log.length;
    await fault();
    const during = log.length;
    // The same process serves writes again once the database is back.
    const recovered = succeeded();
    await until('writes to succeed again', succeeded, (n) => n >= recovered + 60, 30_000);
    return { log, before, during };
  } finally {
    stop = true;
    await Promise.all(loops);
  }
}

describe('PostgreSQL restarted under load', () => {
  it('fails requests cleanly during `pg_ctl restart -m fast` and recovers without a restart of its own', async () => {
    const pid = server.pid;
    const { log } = await loadDuring(() => cluster.restart());
    expect(
      log.filter((o) => o.status === 'no answer'),
      server.log(),
    ).toEqual([]);
    for (const outcome of log) {
      if ((outcome.status as number) >= 300) expectCleanFailure(outcome);
      expect(outcome.ms).toBeLessThan(REQUEST_TIMEOUT_MS);
    }
    expect(server.running).toBe(true);
    expect(server.pid).toBe(pid);
    expect((await server.call('GET', '/readyz', { key: null })).status).toBe(200);
    expect(await brokenInvariants(sql)).toEqual({});

    // A create refused during the restart, retried with its key: it runs now (its claim was
    // released), or, where the release itself could not reach the database, the claim waits out
    // its five minutes as "in progress". Either way it never makes a second project.
    const refused = log.filter((o) => o.retry && o.status !== 201);
    const retried = { ran: 0, inProgress: 0 };
    for (const { retry } of refused) {
      const again = await server.call('POST', retry!.path, {
        key: retry!.key,
        body: retry!.body,
        headers: { 'idempotency-key': retry!.idempotencyKey },
      });
      if (again.status === 201) retried.ran++;
      else {
        expect(again.body.error?.code, JSON.stringify(again.body)).toBe('idempotency_key_in_progress');
        retried.inProgress++;
      }
    }
    const twice = await sql`select organization_id, name from projects group by 1, 2 having count(*) > 1`;
    expect(twice).toEqual([]);
    const failed = log.filter((o) => o.status !== 200 && o.status !== 201);
    console.info(
      `pg_ctl restart under load: ${log.length} requests, ${failed.length} answered 503, ` +
        `slowest ${Math.max(...log.map((o) => o.ms))} ms; refused creates retried: ${JSON.stringify(retried)}`,
    );
  });

  it('answers 503 from /readyz and fails writes fast while PostgreSQL is down, then recovers by itself', async () => {
    const pid = server.pid;
    const user = await userWithKey(server, 'outage');
    const org = await server.expect(201, 'POST', '/v1/organizations', {
      key: user.key,
      body: { name: `outage-${Date.now()}` },
    });
    await cluster.stop('fast');
    try {
      const ready = await until(
        '/readyz to answer 503',
        () => server.call('GET', '/readyz', { key: null, timeoutMs: REQUEST_TIMEOUT_MS }),
        (reply) => reply.status === 503,
        REQUEST_TIMEOUT_MS,
      );
      expect(ready.body.error).toMatchObject({ code: 'service_unavailable', type: 'api_error' });
      expect((await server.call('GET', '/healthz', { key: null })).status).toBe(200);
      for (const [method, path, body] of [
        ['POST', `/v1/organizations/${org.id}/projects`, { name: 'during the outage' }],
        ['PATCH', `/v1/organizations/${org.id}`, { description: 'during the outage' }],
        ['GET', `/v1/organizations/${org.id}`, undefined],
        ['POST', '/v1/organizations', { name: 'during the outage' }],
      ] as const) {
        const started = Date.now();
        const reply = await server.call(method, path, {
          key: user.key,
          body,
          timeoutMs: REQUEST_TIMEOUT_MS,
        });
        expectCleanFailure({ what: path, status: reply.status, body: reply.body, ms: Date.now() - started });
      }
    } finally {
      await cluster.start();
    }
    await until(
      '/readyz to answer 200',
      () => server.call('GET', '/readyz', { key: null }),
      (reply) => reply.status === 200,
    );
    await server.expect(201, 'POST', `/v1/organizations/${org.id}/projects`, {
      key: user.key,
      body: { name: 'after the outage' },
    });
    const read = await server.expect(200, 'GET', `/v1/organizations/${org.id}`, { key: user.key });
    expect(read.id).toBe(org.id);
    // Nothing the outage refused was written.
    const [refused] = await sql`select count(*)::int as n from projects where name = 'during the outage'`;
    expect(refused!.n).toBe(0);
    expect(server.running).toBe(true);
    expect(server.pid).toBe(pid);
    expect(await brokenInvariants(sql)).toEqual({});
  });
});
