import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forgetPid, recordPid } from './pids.js';
import { freePort, until } from './services.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = join(root, 'dist', 'main.js');

export const ADMIN_KEY = 'osk_faults_admin_key_0123456789abcdef';

/** The environment of a bare shell: nothing of the test run's own database settings leaks in. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL|TEST_|REDIS_URL|ORGSTACK_|PORT$|HOST$|LOG_LEVEL$|NODE_OPTIONS$|VITEST)/.test(name))
      continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/** One `node dist/main.js serve` process. */
export class ServerProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitedYet = false;

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    const collect = (chunk: string) => {
      this.output += chunk;
    };
    child.stdout!.setEncoding('utf8').on('data', collect);
    child.stderr!.setEncoding('utf8').on('data', collect);
    this.exited = new Promise((done) => {
      child.once('exit', (code, signal) => {
        this.exitedYet = true;
        if (child.pid) forgetPid(child.pid);
        done({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return !this.exitedYet;
  }

  /** What the process wrote, for failure messages. */
  log(): string {
    return this.output.slice(-20_000);
  }

  /** Starts a server and waits until `/healthz` answers. */
  static async start(env: Record<string, string>, port?: number): Promise<ServerProcess> {
    const listenOn = port ?? (await freePort());
    const child = spawn(process.execPath, [entry, 'serve'], {
      cwd: root,
      env: cleanEnv({
        HOST: '127.0.0.1',
        PORT: String(listenOn),
        ORGSTACK_ADMIN_KEY: ADMIN_KEY,
        LOG_LEVEL: 'warn',
        ORGSTACK_RATE_LIMIT_PER_KEY: '0',
        ORGSTACK_RATE_LIMIT_PER_IP: '0',
        ...env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid) recordPid(child.pid, 'server');
    const server = new ServerProcess(listenOn, child);
    await until(
      `the server on ${listenOn} to answer /healthz`,
      async () => {
        if (!server.running) throw new Error(`server exited: ${server.log()}`);
        const reply = await fetch(server.url('/healthz'), { signal: AbortSignal.timeout(2000) });
        return reply.status;
      },
      (status) => status === 200,
      30_000,
    );
    return server;
  }

  url(path: string) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** One request; a network failure or a timeout rejects. */
  async call(
    method: string,
    path: string,
    options: {
      key?: string | null;
      body?: unknown;
      headers?: Record<string, string>;
      timeoutMs?: number;
    } = {},
  ): Promise<Reply> {
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    const headers: Record<string, string> = { ...options.headers };
    if (key) headers.authorization = `Bearer ${key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(this.url(path), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    const body =
      text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    return { status: response.status, body, headers: response.headers };
  }

  /** Asserts the status and answers the body. */
  async expect(status: number, method: string, path: string, options?: Parameters<ServerProcess['call']>[2]) {
    const reply = await this.call(method, path, options);
    if (reply.status !== status) {
      throw new Error(
        `${method} ${path}: expected ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`,
      );
    }
    return reply.body;
  }

  /** The fault itself: no shutdown hook runs, nothing in flight is finished. */
  async kill() {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop() {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const deadline = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(deadline);
  }
}

/** A user with a personal key holding every scope, made through the admin key. */
export async function userWithKey(server: ServerProcess, label: string) {
  const user = await server.expect(201, 'POST', '/v1/users', {
    body: { email: `${label}-${Math.random().toString(36).slice(2, 10)}@example.com` },
  });
  const key = await server.expect(201, 'POST', '/v1/api-keys', { body: { user_id: user.id } });
  return { userId: user.id as string, key: key.secret as string };
}
