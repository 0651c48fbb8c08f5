import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenInvariants } from './invariants.js';
import { faultsRoot } from './pids.js';
import { ServerProcess, userWithKey } from './server.js';
import { PrivatePostgres, PrivateRedis, until } from './services.js';

let cluster: PrivatePostgres;
let redis: PrivateRedis;
let sql: postgres.Sql;

beforeAll(async () => {
  [cluster, redis] = await Promise.all([
    PrivatePostgres.start(faultsRoot()),
    PrivateRedis.start(faultsRoot()),
  ]);
  sql = postgres(cluster.url(), { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await redis?.stop();
  await cluster?.destroy();
});

/** Two servers on the one database and the one Redis; the first migrates, the second finds it done. */
async function twoServers(env: Record<string, string>) {
  const shared = { DATABASE_URL: cluster.url(), REDIS_URL: redis.url, ...env };
  const first = await ServerProcess.start(shared);
  try {
    return [first, await ServerProcess.start(shared)] as const;
  } catch (error) {
    await first.kill();
    throw error;
  }
}

/** Which of these processes holds the local end of a loopback TCP connection from `port`. */
function ownerOfConnection(port: number, pids: number[]): number | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hex}`) && fields[9]) inodes.add(fields[9]);
    }
  }
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (inodes.has(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? '')) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** A loopback webhook receiver that counts each message by its id and notes which process sent it. */
class Receiver {
  readonly ids = new Map<string, number>();
  readonly senders = new Map<number, number>();
  private server: Server | undefined;
  private readonly connectionOwner = new WeakMap<object, number | undefined>();
  port = 0;

  constructor(private readonly pids: () => number[]) {}

  async start() {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const id = String(request.headers['webhook-id']);
        this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
        const sender = this.connectionOwner.get(request.socket);
        if (sender) this.senders.set(sender, (this.senders.get(sender) ?? 0) + 1);
        // A little time per message, so deliveries overlap and both workers have work in flight.
        setTimeout(() => response.writeHead(200).end('ok'), 20);
      });
    });
    this.server.on('connection', (socket) => {
      this.connectionOwner.set(socket, ownerOfConnection(socket.remotePort!, this.pids()));
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise((done) => this.server?.close(done));
  }
}

describe('two instances on one PostgreSQL and one Redis', () => {
  const LIMIT = 100;
  let servers: readonly [ServerProcess, ServerProcess];
  const receiver = new Receiver(() => servers.map((server) => server.pid));

  beforeAll(async () => {
    await receiver.start();
    servers = await twoServers({
      ORGSTACK_RATE_LIMIT_PER_KEY: String(LIMIT),
      ORGSTACK_WEBHOOK_POLL_MS: '50',
      ORGSTACK_WEBHOOK_RETRY_BASE_MS: '50',
      ORGSTACK_WEBHOOK_TIMEOUT_MS: '5000',
      ORGSTACK_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
    });
  });

  afterAll(async () => {
    for (const server of servers ?? []) await server.kill();
    await receiver.stop();
  });

  it("enforce one key's limit between them: requests split across both admit the limit once", async () => {
    const { key } = await userWithKey(servers[0], 'limited');
    const replies = await Promise.all(
      Array.from({ length: LIMIT * 2 + 10 }, (_, i) => servers[i % 2]!.call('GET', '/v1/me', { key })),
    );
    const admitted = replies.filter((reply) => reply.status === 200);
    const limited = replies.filter((reply) => reply.status === 429);
    expect(admitted.length + limited.length).toBe(replies.length);
    expect(admitted).toHaveLength(LIMIT);
    for (const reply of limited) expect(reply.body.error.code).toBe('rate_limited');
    // Both instances turned requests away, each counting what the other admitted.
    const refusedBy = (i: number) => replies.filter((reply, n) => n % 2 === i && reply.status === 429).length;
    expect(refusedBy(0)).toBeGreaterThan(0);
    expect(refusedBy(1)).toBeGreaterThan(0);
  });

  it('deliver each event queued by writes on either instance exactly once', async () => {
    const owner = await userWithKey(servers[0], 'outbox');
    const org = await servers[0].expect(201, 'POST', '/v1/organizations', {
      key: owner.key,
      body: { name: `outbox-${Date.now()}` },
    });
    const endpoint = await servers[1].expect(201, 'POST', '/v1/webhook-endpoints', {
      key: owner.key,
      body: { url: `http://127.0.0.1:${receiver.port}/hook`, organization_id: org.id },
    });
    // Sixty writes, half through each instance, six at a time.
    const WRITES = 60;
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let n = next++; n < WRITES; n = next++) {
          const server = servers[n % 2]!;
          if (n % 3 === 0) {
            await server.expect(200, 'PATCH', `/v1/organizations/${org.id}`, {
              key: owner.key,
              body: { description: `revision ${n}` },
            });
          } else {
            await server.expect(201, 'POST', `/v1/organizations/${org.id}/projects`, {
              key: owner.key,
              body: { name: `outbox project ${n}` },
            });
          }
        }
      }),
    );
    const queued = await sql`select event_id, status, attempts from webhook_deliveries
                              where endpoint_id = ${endpoint.id}`;
    expect(queued).toHaveLength(WRITES);
    await until(
      'every delivery to succeed',
      async () => sql`select count(*)::int as n from webhook_deliveries
                       where endpoint_id = ${endpoint.id} and status = 'succeeded'`,
      (rows) => rows[0]!.n === WRITES,
      30_000,
    );
    expect([...receiver.ids.keys()].sort()).toEqual(queued.map((row) => row.event_id).sort());
    expect([...receiver.ids.values()].every((count) => count === 1)).toBe(true);
    const attempts = await sql`select event_id, count(*)::int as n from webhook_attempts
                                where endpoint_id = ${endpoint.id} group by event_id having count(*) <> 1`;
    expect(attempts).toEqual([]);
    // Both instances' workers took part.
    expect([...receiver.senders.keys()].sort()).toEqual(servers.map((server) => server.pid).sort());
    expect(await brokenInvariants(sql)).toEqual({});
    console.info(
      `outbox: ${WRITES} events, delivered by pid: ${JSON.stringify(Object.fromEntries(receiver.senders))}`,
    );
  });
});
