import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { withCommitHook } from './commit-hooks.js';

/** Anything that runs SQL: the database itself or an open transaction. Queries take this. */
export interface Queryable {
  query<T = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
}

export interface QueryOptions {
  /**
   * False plans the statement for its values on every call instead of preparing it once. For
   * statements whose best plan depends on the value (a rare or a common search term): a prepared
   * statement may settle on one generic plan for all values, and a scan in id order for a rare
   * term reads the whole table.
   */
  prepare?: boolean;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction; retried on serialization failures and deadlocks. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly raw: PGlite | postgres.Sql;
  /** The connection string, for tools that open their own connection (migrations). */
  readonly url?: string;
  /** Statements and transactions running now, for the metrics. */
  readonly busy: Busy;
  /**
   * LISTEN on `channel` over a connection of its own, re-established after a loss (`onListen`
   * runs each time it is listening again); answers a function that stops. Only PostgreSQL has it:
   * an embedded database has one process, which hears nothing it did not do itself.
   */
  listen?(
    channel: string,
    onNotify: (payload: string) => void,
    onListen: () => void,
  ): Promise<() => Promise<void>>;
}

export interface Busy {
  statements: number;
  transactions: number;
}

/** Counts `work` in `busy[field]` while it runs. */
async function counted<T>(busy: Busy, field: keyof Busy, work: () => Promise<T>): Promise<T> {
  busy[field]++;
  try {
    return await work();
  } finally {
    busy[field]--;
  }
}

const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 4;

async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || n >= MAX_ATTEMPTS) throw error;
      await new Promise((done) => setTimeout(done, 5 * n + Math.random() * 10));
    }
  }
}

/**
 * The embedded database in `dataDir`, or in memory when there is none. `loadDataDir` starts it from
 * a tarball `dumpDataDir` wrote instead of an empty cluster (tests start from a migrated one).
 */
export async function openPglite(dataDir: string | undefined, loadDataDir?: Blob): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Loaded on demand: a server on PostgreSQL never pays for the embedded engine's memory.
  const [{ PGlite }, { pg_trgm }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
  ]);
  const pg = await PGlite.create({ dataDir, loadDataDir, extensions: { pg_trgm } });
  const busy: Busy = { statements: 0, transactions: 0 };
  const run = <T>(q: Pick<PGlite, 'query'>, text: string, params?: unknown[]) =>
    counted(busy, 'statements', async () => (await q.query<T>(text, params as unknown[])).rows);
  return {
    kind: 'pglite',
    raw: pg,
    busy,
    query: (text, params) => run(pg, text, params),
    transaction: (work) =>
      counted(busy, 'transactions', () =>
        withRetry(() => {
          const hooked = withCommitHook(work);
          return pg.transaction((tx) => hooked({ query: (text, params) => run(tx, text, params) }));
        }),
      ),
    ping: async () => {
      await pg.query('select 1');
    },
    close: () => pg.close(),
  };
}

/**
 * postgres.js keeps a transaction pointed at its connection after that connection closes, and
 * reuses the connection for other callers: a statement the transaction sends afterwards (its next
 * one, or the rollback the driver sends when the work fails) runs in whichever session now holds
 * the connection, outside any transaction of its own, or, while the connection is down, throws
 * inside the driver where nothing can catch it and ends the process. So whenever a connection
 * closes, every open transaction holds its statements for one turn of the event loop: by then the
 * driver has rejected `begin` of the transactions that were on it, and those send nothing more.
 */
class TransactionGate {
  private lost = false;
  private held: Promise<void> | null = null;

  /** A connection closed, perhaps this transaction's own. */
  suspect(): void {
    if (this.held || this.lost) return;
    this.held = new Promise((resolve) =>
      setImmediate(() => {
        this.held = null;
        resolve();
      }),
    );
  }

  /** `begin` rejected: the connection is gone, or the transaction is over anyway. */
  close(): void {
    this.lost = true;
  }

  get open(): boolean {
    return !this.held && !this.lost;
  }

  /** Resolves once a statement may be sent; never, for a transaction whose connection is gone. */
  async pass(): Promise<void> {
    while (this.held) await this.held;
    if (this.lost) await new Promise<never>(() => {});
  }
}

/**
 * How long a closed connection waits before connecting again, by the number of failed attempts in
 * a row. The driver's own backoff grows to 20 seconds, and a query handed to a connection waiting
 * out its delay waits with it, long after the database is back: a restart of a few hundred
 * milliseconds became requests hanging for 20 seconds. A second at most keeps the retries cheap
 * (one attempt a second per pooled connection) and the recovery prompt.
 */
function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.05 * 2 ** failures, 1) * (0.5 + Math.random() / 2);
}

export async function openPostgres(url: string, poolSize: number): Promise<Database> {
  let ended = false;
  const gates = new Set<TransactionGate>();
  const sql = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    connection: { application_name: 'orgstack' },
    backoff: reconnectDelaySeconds,
    // Called synchronously as a connection closes, before any transaction on it can send again.
    onclose: () => {
      for (const gate of gates) gate.suspect();
    },
  });
  const busy: Busy = { statements: 0, transactions: 0 };
  const run = <T>(
    q: postgres.Sql | postgres.TransactionSql,
    text: string,
    params?: unknown[],
    options?: QueryOptions,
  ) =>
    counted(
      busy,
      'statements',
      async () =>
        (await q.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[], {
          prepare: options?.prepare ?? true,
        })) as unknown as T[],
    );
  /** One attempt: the work's statements, and its end (the driver's commit or rollback), pass the gate. */
  const attempt = <T>(work: (tx: Queryable) => Promise<T>): Promise<T> => {
    const gate = new TransactionGate();
    gates.add(gate);
    const guarded = (tx: postgres.TransactionSql): Queryable => ({
      query: (text, params, options) =>
        gate.open ? run(tx, text, params, options) : gate.pass().then(() => run(tx, text, params, options)),
    });
    const settle = async (tx: postgres.TransactionSql) => {
      try {
        const result = await work(guarded(tx));
        if (!gate.open) await gate.pass();
        return result;
      } catch (error) {
        if (!gate.open) await gate.pass();
        throw error;
      }
    };
    const begun = sql.begin(settle) as Promise<T>;
    begun.then(
      () => gates.delete(gate),
      () => {
        gate.close();
        gates.delete(gate);
      },
    );
    return begun;
  };
  return {
    kind: 'postgres',
    raw: sql,
    url,
    busy,
    query: (text, params, options) => run(sql, text, params, options),
    transaction: (work) =>
      counted(busy, 'transactions', () => withRetry(() => attempt(withCommitHook(work)))),
    ping: async () => {
      await sql.unsafe('select 1');
    },
    listen: async (channel, onNotify, onListen) => {
      const { unlisten } = await sql.listen(channel, onNotify, onListen);
      // Ending the pool ends its listening connection too, so after close there is nothing left to
      // stop, and an UNLISTEN sent then could only fail.
      return async () => {
        if (!ended) await unlisten();
      };
    },
    close: () => {
      ended = true;
      return sql.end({ timeout: 5 });
    },
  };
}
