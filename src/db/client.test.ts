import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, postgresUrl } from '../../test/helpers/databases.js';
import { Relay } from '../../test/helpers/relay.js';
import { type Database, openPostgres } from './client.js';

const pending = Symbol('pending');
const settled = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => 'resolved',
      (error) => `rejected ${error.code ?? error}`,
    ),
    sleep(ms).then(() => pending),
  ]);

/*
 * A transaction's connection can die under it: PostgreSQL restarts, a failover, an administrator
 * ends the backend. Nothing the transaction still does may then reach another session.
 */
describe.runIf(postgresUrl)('a PostgreSQL transaction whose connection is lost', () => {
  let database: { url: string; drop(): Promise<void> };
  let admin: postgres.Sql;

  beforeAll(async () => {
    database = await createPostgresDatabase(postgresUrl!);
    admin = postgres(database.url, { max: 1, onnotice: () => {} });
    await admin`create table probe (n int not null)`;
  });

  afterAll(async () => {
    await admin.end();
    await database.drop();
  });

  /** One pooled connection, so the lost one is the one the pool reconnects for the next caller. */
  async function withOneConnection(test: (db: Database) => Promise<void>) {
    const db = await openPostgres(database.url, 1);
    try {
      await test(db);
    } finally {
      await db.close();
      await admin`delete from probe`;
    }
  }

  /** Polls until the pool answers again: the first query after a loss may still fail. */
  async function reconnected(db: Database) {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (
        await db.query('select 1').then(
          () => true,
          () => false,
        )
      )
        return;
      await sleep(20);
    }
    throw new Error('the pool did not reconnect');
  }

  it('fails, and its later statements never run in the session that replaced it', async () => {
    await withOneConnection(async (db) => {
      let issued!: (straggler: { late: Promise<unknown> }) => void;
      const straggler = new Promise<{ late: Promise<unknown> }>((resolve) => {
        issued = resolve;
      });
      const transaction = db.transaction(async (tx) => {
        await tx.query('insert into probe values (1)');
        const [row] = await tx.query<{ pid: number }>('select pg_backend_pid() as pid');
        await admin`select pg_terminate_backend(${row!.pid})`;
        await reconnected(db);
        const late = tx.query('insert into probe values (2)');
        issued({ late });
        await late;
      });
      expect(await settled(transaction, 5000)).toMatch(/^rejected/);
      // Had it been sent, the late insert would have run, committed, in the new session by now.
      expect(await settled((await straggler).late, 300)).not.toBe('resolved');
      expect(await admin`select n from probe`).toEqual([]);
      expect(await db.transaction((tx) => tx.query('select 3 as n'))).toEqual([{ n: 3 }]);
    });
  });

  it('sends no rollback after a statement cut off mid-flight, and the process lives on', async () => {
    await withOneConnection(async (db) => {
      const transaction = db.transaction(async (tx) => {
        await tx.query('insert into probe values (1)');
        const [row] = await tx.query<{ pid: number }>('select pg_backend_pid() as pid');
        setTimeout(() => admin`select pg_terminate_backend(${row!.pid})`.catch(() => {}), 100);
        await tx.query('select pg_sleep(5)');
      });
      expect(await settled(transaction, 5000)).toMatch(/^rejected/);
      // A rollback sent into the closed connection would throw inside the driver, outside any
      // promise, and end the process; give it the turns of the event loop it would need.
      await sleep(200);
      await reconnected(db);
      for (let i = 0; i < 5; i++) {
        expect(await db.transaction((tx) => tx.query('select $1::int as n', [i]))).toEqual([{ n: i }]);
      }
      expect(await admin`select n from probe`).toEqual([]);
    });
  });
});

describe.runIf(postgresUrl)('a PostgreSQL pool after an outage', () => {
  it('answers within about a second of the database coming back, however many attempts failed', async () => {
    const database = await createPostgresDatabase(postgresUrl!);
    const relay = new Relay(new URL(database.url));
    await relay.up();
    const db = await openPostgres(relay.url(new URL(database.url)), 4);
    try {
      await Promise.all([1, 2, 3, 4].map(() => db.query('select 1')));
      await relay.down();
      // Every refused attempt lengthens the wait before the next one.
      for (let i = 0; i < 3; i++) {
        await Promise.all([1, 2, 3, 4].map(() => db.query('select 1').catch(() => {})));
      }
      await relay.up();
      const started = Date.now();
      const answers = await Promise.all(
        [1, 2, 3, 4].map(async () => {
          for (;;) {
            const ok = await db.query('select 1').then(
              () => true,
              () => false,
            );
            if (ok || Date.now() - started > 30_000) return ok;
          }
        }),
      );
      expect(answers).toEqual([true, true, true, true]);
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await db.close();
      await relay.down();
      await database.drop();
    }
  }, 20_000);
});

/*
 * Faults of postgres.js 3.4.9 itself, repaired at install by scripts/patch-postgres.mjs. Each test
 * hands the driver sockets it controls, so the fault is reached the same way every run.
 */
describe.runIf(postgresUrl)('the PostgreSQL driver as installed', () => {
  let database: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    database = await createPostgresDatabase(postgresUrl!);
  });

  afterAll(() => database.drop());

  /** A one-connection driver whose every socket passes through `adapt` first. */
  function driver(adapt: (socket: Socket) => void = () => {}) {
    const target = new URL(database.url);
    const sockets: Socket[] = [];
    const sql = postgres(database.url, {
      max: 1,
      connect_timeout: 3,
      onnotice: () => {},
      // Typed in the driver's documentation, not in its declarations.
      ...({
        socket: async () => {
          const socket = connect(Number(target.port || 5432), target.hostname);
          await once(socket, 'connect');
          adapt(socket);
          sockets.push(socket);
          return socket;
        },
      } as object),
    });
    return { sql, sockets };
  }

  it('sends on a new socket after the old one closed with a statement still buffered', async () => {
    const { sql, sockets } = driver();
    try {
      await sql`select 1`;
      // Sent from an immediate callback, the statement waits in the driver's buffer for the next
      // turn of the event loop; the socket closes in this one, as sockets whose peer went away do.
      await new Promise((resolve) => setImmediate(resolve));
      const cut = sql`select 2`.execute().then(
        () => 'answered',
        (error) => error.code,
      );
      await new Promise((resolve) => process.nextTick(resolve));
      sockets.at(-1)!.destroy();
      expect(await cut).toBe('CONNECTION_CLOSED');
      const started = Date.now();
      expect(await sql`select 3 as n`).toEqual([{ n: 3 }]);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it('survives a connection lost while it looks up array types', async () => {
    const unhandled: unknown[] = [];
    const collect = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', collect);
    let sabotage = true;
    const { sql } = driver((socket) => {
      if (!sabotage) return;
      sabotage = false;
      const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
      socket.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (String(chunk).includes('pg_catalog.pg_type')) {
          process.nextTick(() => socket.destroy(Object.assign(new Error('lost'), { code: 'ECONNRESET' })));
        }
        return write(chunk, ...rest);
      }) as Socket['write'];
    });
    try {
      await expect(sql`select 1`).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(await sql`select 2 as n`).toEqual([{ n: 2 }]);
      await sleep(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', collect);
      await sql.end({ timeout: 1 });
    }
  });
});
