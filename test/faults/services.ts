import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { forgetPid, recordPid } from './pids.js';

/*
 * A PostgreSQL cluster and a Redis server of the suite's own, on free loopback ports with their
 * files in a temporary directory: the machine's shared servers (5432, 6379) are never touched,
 * whatever the tests do to theirs.
 */

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

export async function until<T>(
  what: string,
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch (error) {
      last = error as T;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last: ${String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The newest PostgreSQL server binaries: Debian keeps each version under its own directory. */
function postgresBinaries(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((version) => existsSync(join(base, version, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(base, versions[0], 'bin');
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`no PostgreSQL server binaries under ${base} and no pg_config on PATH`);
  }
}

interface Account {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root. Run as root (CI does), the cluster belongs to the `postgres`
 * account the server package creates, or to `nobody` where there is none; otherwise to us.
 */
function clusterAccount(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (uid > 0) return { uid, gid };
    } catch {
      // no such account
    }
  }
  throw new Error('running as root, but there is neither a postgres nor a nobody account to run PostgreSQL');
}

export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly account: Account | undefined,
  ) {}

  get dataDir() {
    return join(this.dir, 'data');
  }

  url(database = 'postgres') {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** initdb and start on a free port; a port taken between choosing and binding gets another try. */
  static async start(parent: string): Promise<PrivatePostgres> {
    const dir = join(parent, `postgres-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
    mkdirSync(dir, { recursive: true });
    const account = clusterAccount();
    if (account) {
      // The account must reach its directory through ours.
      chmodSync(parent, 0o755);
      chownSync(dir, account.uid, account.gid);
    }
    const bin = postgresBinaries();
    const cluster = new PrivatePostgres(dir, 0, bin, account);
    await cluster.pg('initdb', [
      '-D',
      cluster.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      appendFileSync(
        join(cluster.dataDir, 'postgresql.conf'),
        [
          '',
          `port = ${port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${dir}'`,
          // Nothing here outlives the run; the tests stop PostgreSQL cleanly when they stop it at all.
          'fsync = off',
          'max_connections = 100',
          '',
        ].join('\n'),
      );
      const started = new PrivatePostgres(dir, port, bin, account);
      try {
        await started.start();
        return started;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  private pg(tool: string, args: string[]) {
    return run(join(this.bin, tool), args, {
      cwd: this.dir,
      env: { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C' },
      timeout: 60_000,
      ...(this.account ? { uid: this.account.uid, gid: this.account.gid } : {}),
    });
  }

  /** `-l` on every start: a postmaster writing to our pipes would keep pg_ctl's caller waiting. */
  private ctl(action: string, extra: string[] = []) {
    return this.pg('pg_ctl', [
      action,
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-t',
      '30',
      ...extra,
    ]);
  }

  async start() {
    await this.ctl('start');
    recordPid(this.postmasterPid(), 'postgres');
  }

  async stop(mode: 'fast' | 'immediate' = 'fast') {
    const pid = this.postmasterPid();
    await this.ctl('stop', ['-m', mode]);
    forgetPid(pid);
  }

  async restart() {
    const before = this.postmasterPid();
    await this.ctl('restart', ['-m', 'fast']);
    forgetPid(before);
    recordPid(this.postmasterPid(), 'postgres');
  }

  postmasterPid(): number {
    return Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /** Stops the cluster however it is and removes its files. */
  async destroy() {
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) await this.stop('immediate').catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Answers whether a Redis server answers PING on the port. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(answer.startsWith('+PONG')));
    socket.on('error', () => resolve(false));
  });
}

export class PrivateRedis {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** A Redis that keeps nothing on disk, on a free port. */
  static async start(parent: string): Promise<PrivateRedis> {
    const dir = join(parent, `redis-${Date.now().toString(36)}`);
    mkdirSync(dir, { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout!.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr!.on('data', (chunk) => {
        output += chunk;
      });
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      let gone = false;
      void exited.then(() => {
        gone = true;
      });
      if (child.pid) recordPid(child.pid, 'redis');
      try {
        await until(
          `redis-server on ${port}`,
          async () => {
            if (gone) throw new Error(`redis-server exited: ${output}`);
            return pings(port);
          },
          Boolean,
          10_000,
        );
        return new PrivateRedis(port, child, exited);
      } catch (error) {
        child.kill('SIGKILL');
        if (child.pid) forgetPid(child.pid);
        if (attempt >= 3) throw error;
      }
    }
  }

  async stop() {
    this.child.kill('SIGTERM');
    await this.exited;
    if (this.child.pid) forgetPid(this.child.pid);
  }
}
