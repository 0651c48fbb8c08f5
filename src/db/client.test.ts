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
