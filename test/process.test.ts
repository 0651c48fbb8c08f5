import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../src/db/client.js';
import { Keyring, parseSecretKey } from '../src/secrets/keyring.js';
import { createPostgresDatabase, postgresUrl } from './helpers/databases.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'main.js');

/**
 * Every wait in this file ends by this deadline; a first PGlite start creates its cluster on disk.
 * A guard against a hung start, not a speed check: on a loaded machine that can take a minute.
 */
const START_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 20_000;

interface Spawned {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** The environment of a bare shell: nothing from the test run's own database settings leaks in. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL|TEST_DATABASE_URL|ORGSTACK_|PORT$|HOST$|LOG_LEVEL$|NODE_OPTIONS$|VITEST)/.test(name))
      continue;
    env[name] = value;
  }
  return { ...env, HOST: '127.0.0.1', ...extra };
}

function startServer(env: Record<string, string>, args: string[] = []): Spawned {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: root,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      // Let the pipes drain so the last line is in `out`/`err`.
      setImmediate(() => done({ code, signal }));
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A start that fails may first have created a PGlite cluster, so it gets the start-up deadline. */
async function waitForExit(server: Spawned, ms = START_TIMEOUT_MS) {
  return withTimeout(server.exited, ms, () => `exit; stdout: ${server.stdout()} stderr: ${server.stderr()}`);
}

/** Polls /healthz until the server answers, failing early if the process dies first. */
async function waitUntilListening(server: Spawned, port: number) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  void server.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited early; stderr: ${server.stderr()} stdout: ${server.stdout()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`server did not listen within ${START_TIMEOUT_MS} ms; stderr: ${server.stderr()}`);
}

/** Stops a server the way a terminal or an orchestrator would, and expects a clean exit. */
async function stopServer(server: Spawned) {
  server.child.kill('SIGTERM');
  const { code } = await waitForExit(server, EXIT_TIMEOUT_MS);
  expect(code, server.stderr()).toBe(0);
}

async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The admin key block main.ts prints on a first start, or undefined when there is none. */
function announcedKey(stdout: string): { secret: string; curl: string } | undefined {
  if (!stdout.includes('created the first admin API key')) return undefined;
  const curl = stdout.split('\n').find((line) => line.includes('curl '));
  const secret = /Bearer (\S+?)"/.exec(curl ?? '')?.[1];
  if (!curl || !secret) throw new Error(`admin key block without a curl line: ${stdout}`);
  return { secret, curl: curl.trim() };
}

/** The block is written right after listening; waits a bounded moment for the pipe to deliver it. */
async function waitForAnnouncement(server: Spawned) {
  await withTimeout(
    (async () => {
      while (!server.stdout().includes('/v1/me')) await new Promise((done) => setTimeout(done, 50));
    })(),
    10_000,
    () => `the admin key block; stdout: ${server.stdout()}`,
  );
  const announced = announcedKey(server.stdout());
  if (!announced) throw new Error(`no admin key announced: ${server.stdout()}`);
  return announced;
}

/** A failed start: non-zero exit and exactly one stderr line, which names the variable. */
async function expectConfigFailure(env: Record<string, string>, variable: string) {
  const server = startServer(env);
  const { code } = await waitForExit(server);
  expect(code).not.toBe(0);
  const lines = server.stderr().trim().split('\n');
  expect(lines, server.stderr()).toHaveLength(1);
  expect(lines[0]).toContain(variable);
  expect(lines[0]).not.toMatch(/\n\s+at /);
  expect(server.stderr()).not.toContain('    at ');
  return lines[0]!;
}

const temporary: string[] = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'orgstack-process-'));
  temporary.push(dir);
  return dir;
}

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'scripts', 'start.mjs'), '--build-only'], {
    cwd: root,
    stdio: 'pipe',
    timeout: 120_000,
  });
}, 150_000);

afterEach(async () => {
  for (const child of [...running]) {
    child.kill('SIGKILL');
    await withTimeout(
      new Promise((done) => child.once('exit', done)),
      EXIT_TIMEOUT_MS,
      () => 'killed child to exit',
    ).catch(() => {});
  }
  running.clear();
});

afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

describe('start-up refuses bad configuration with one line naming the variable', () => {
  it('PORT that is not a number', async () => {
    await expectConfigFailure({ PORT: 'abc', ORGSTACK_DATA_DIR: join(tempDir(), 'data') }, 'PORT');
  });

  it('PORT out of range', async () => {
    await expectConfigFailure({ PORT: '70000', ORGSTACK_DATA_DIR: join(tempDir(), 'data') }, 'PORT');
  });

  it('PORT already in use; the next start on that data directory still announces the first key', async () => {
    const dataDir = join(tempDir(), 'data');
    const blocker: Server = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    try {
      const port = (blocker.address() as { port: number }).port;
      await expectConfigFailure({ PORT: String(port), ORGSTACK_DATA_DIR: dataDir }, 'PORT');
    } finally {
      await new Promise<void>((done) => blocker.close(() => done()));
    }
    // The failed start must not have used up the one-time key: a working start shows it.
    const port = await freePort();
    const server = startServer({ ORGSTACK_DATA_DIR: dataDir, PORT: String(port) });
    await waitUntilListening(server, port);
    const announced = await waitForAnnouncement(server);
    const me = await fetch(`http://127.0.0.1:${port}/v1/me`, {
      headers: { authorization: `Bearer ${announced.secret}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(me.status).toBe(200);
    await stopServer(server);
  }, 300_000);

  it('DATABASE_URL pointing at a closed port', async () => {
    const line = await expectConfigFailure(
      { PORT: String(await freePort()), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' },
      'DATABASE_URL',
    );
    expect(line).not.toContain('ORGSTACK_DATA_DIR');
  });

  it('DATABASE_URL that is not a URL', async () => {
    await expectConfigFailure({ DATABASE_URL: 'not a url' }, 'DATABASE_URL');
  });

  it('ORGSTACK_DATA_DIR under a regular file', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    await expectConfigFailure(
      { PORT: String(await freePort()), ORGSTACK_DATA_DIR: join(file, 'data') },
      'ORGSTACK_DATA_DIR',
    );
  });

  it('ORGSTACK_ADMIN_KEY that is too short', async () => {
    await expectConfigFailure({ ORGSTACK_ADMIN_KEY: 'short' }, 'ORGSTACK_ADMIN_KEY');
  });

  it('ORGSTACK_SECRET_KEY that is not 32 bytes, without repeating it', async () => {
    const line = await expectConfigFailure(
      { ORGSTACK_SECRET_KEY: 'not-a-real-key-value' },
      'ORGSTACK_SECRET_KEY',
    );
    expect(line).not.toContain('not-a-real-key-value');
  });
});

describe('secrets at rest on the embedded database', () => {
  it('makes a key file on the first start, says so once, and opens what it sealed after a restart', async () => {
    const dataDir = join(tempDir(), 'data');
    const admin = 'osk_process_test_admin_key_0123456789';
    const port = await freePort();
    const env = { ORGSTACK_DATA_DIR: dataDir, ORGSTACK_ADMIN_KEY: admin, PORT: String(port) };
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    const first = startServer(env);
    await waitUntilListening(first, port);
    const org = (await (await call('POST', '/v1/organizations', { name: 'Sealed' })).json()) as {
      id: string;
    };
    const connected = await call('POST', `/v1/organizations/${org.id}/integrations`, {
      kind: 'vercel',
      external_id: 'team_p',
      secrets: { api_token: 'process-plaintext-token' },
    });
    expect(connected.status).toBe(201);
    const integration = (await connected.json()) as { id: string };
    await stopServer(first);

    const file = join(dataDir, 'secret.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const fileKey = readFileSync(file, 'utf8').trim();
    expect(first.stdout().match(/generated a secret key/g)).toHaveLength(1);
    for (const output of [first.stdout(), first.stderr()]) {
      expect(output).not.toContain(fileKey);
      expect(output).not.toContain('process-plaintext-token');
    }

    const second = startServer(env);
    await waitUntilListening(second, port);
    const read = await call('GET', `/v1/organizations/${org.id}/integrations/${integration.id}`);
    expect(((await read.json()) as { secret_fields: string[] }).secret_fields).toEqual(['api_token']);
    await stopServer(second);
    expect(second.stdout()).not.toContain('generated a secret key');

    const db = await openPglite(dataDir);
    try {
      const [row] = await db.query<{ sealed_secrets: { api_token: string } }>(
        'select sealed_secrets from organization_integrations where id = $1',
        [integration.id],
      );
      expect(row!.sealed_secrets.api_token).not.toContain('process-plaintext-token');
      const keyring = new Keyring(parseSecretKey(fileKey)!);
      expect(keyring.open(row!.sealed_secrets.api_token, `integration/${integration.id}/api_token`)).toBe(
        'process-plaintext-token',
      );
    } finally {
      await db.close();
    }
  }, 300_000);
});

/** First start prints a working admin key with a curl line; the second start prints none. */
async function firstAndSecondStart(storage: Record<string, string>) {
  const port = await freePort();
  const first = startServer({ ...storage, PORT: String(port) });
  await waitUntilListening(first, port);
  const { secret, curl } = await waitForAnnouncement(first);
  expect(curl).toBe(`curl -H "Authorization: Bearer ${secret}" http://localhost:${port}/v1/me`);
  // Shown in the block (alone, then in the curl line) and nowhere else: not in any log line.
  expect(first.stdout().split(secret).length - 1).toBe(2);
  expect(first.stderr()).not.toContain(secret);

  const me = await fetch(`http://127.0.0.1:${port}/v1/me`, {
    headers: { authorization: `Bearer ${secret}` },
    signal: AbortSignal.timeout(10_000),
  });
  expect(me.status).toBe(200);
  const body = (await me.json()) as { principal: string };
  expect(body.principal).toBe('admin');
  expect(me.headers.get('x-request-id')).toBeTruthy();
  // The same request without the key is refused, so the 200 above is the key's doing.
  const anonymous = await fetch(`http://127.0.0.1:${port}/v1/me`, { signal: AbortSignal.timeout(10_000) });
  expect(anonymous.status).toBe(401);
  const created = await fetch(`http://127.0.0.1:${port}/v1/organizations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Made over HTTP' }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(created.status).toBe(201);
  const org = (await created.json()) as { id: string };
  await stopServer(first);

  const second = startServer({ ...storage, PORT: String(port) });
  await waitUntilListening(second, port);
  // The first key still works, the organization is still there, and no new key was announced.
  const again = await fetch(`http://127.0.0.1:${port}/v1/organizations/${org.id}`, {
    headers: { authorization: `Bearer ${secret}` },
    signal: AbortSignal.timeout(10_000),
  });
  expect(again.status).toBe(200);
  await stopServer(second);
  expect(announcedKey(second.stdout())).toBeUndefined();
  expect(second.stdout()).not.toContain('curl ');
}

describe('the first admin key', () => {
  it('is printed once with a curl line on a fresh PGlite data directory, and works', async () => {
    await firstAndSecondStart({ ORGSTACK_DATA_DIR: join(tempDir(), 'fresh', 'data') });
  }, 300_000);

  it.runIf(postgresUrl)(
    'is printed once on a fresh PostgreSQL database, and works',
    async () => {
      const database = await createPostgresDatabase(postgresUrl!);
      try {
        await firstAndSecondStart({ DATABASE_URL: database.url });
      } finally {
        for (const child of [...running]) child.kill('SIGKILL');
        await database.drop();
      }
    },
    180_000,
  );

  it('can be replaced with create-admin-key while the server is stopped', async () => {
    const env = { ORGSTACK_DATA_DIR: join(tempDir(), 'data') };
    const command = startServer(env, ['create-admin-key', 'recovery']);
    const { code } = await waitForExit(command);
    expect(code, command.stderr()).toBe(0);
    const secret = command.stdout().trim();
    expect(secret).toMatch(/^osk_[A-Za-z0-9]{40}$/);
    const port = await freePort();
    const server = startServer({ ...env, PORT: String(port) });
    await waitUntilListening(server, port);
    // A key already exists, so the server generates none of its own.
    expect(announcedKey(server.stdout())).toBeUndefined();
    const me = await fetch(`http://127.0.0.1:${port}/v1/me`, {
      headers: { authorization: `Bearer ${secret}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { principal: string }).principal).toBe('admin');
    await stopServer(server);
  }, 300_000);

  it('is not generated when ORGSTACK_ADMIN_KEY is set; that key works instead', async () => {
    const port = await freePort();
    const key = 'osk_process_test_admin_key_0123456789';
    const server = startServer({
      ORGSTACK_DATA_DIR: join(tempDir(), 'data'),
      ORGSTACK_ADMIN_KEY: key,
      PORT: String(port),
    });
    await waitUntilListening(server, port);
    const me = await fetch(`http://127.0.0.1:${port}/v1/me`, {
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(me.status).toBe(200);
    await stopServer(server);
    expect(announcedKey(server.stdout())).toBeUndefined();
    expect(server.stdout()).not.toContain(key);
  }, 300_000);
});

describe('graceful shutdown', () => {
  it('finishes a request in flight on SIGTERM, refuses new ones, and exits 0', async () => {
    const port = await freePort();
    const key = 'osk_process_test_admin_key_0123456789';
    const server = startServer({
      ORGSTACK_DATA_DIR: join(tempDir(), 'data'),
      ORGSTACK_ADMIN_KEY: key,
      PORT: String(port),
    });
    await waitUntilListening(server, port);
    // A create whose body arrives in two parts, with SIGTERM in between: the request is in flight.
    const body = JSON.stringify({ name: 'Created during shutdown' });
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((done) => socket.once('connect', () => done()));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.write(
      `POST /v1/organizations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
        body.slice(0, 10),
    );
    await new Promise((done) => setTimeout(done, 300));
    server.child.kill('SIGTERM');
    // Soon it accepts no more work: new connections are refused or answered 503. The request in
    // flight keeps the process alive meanwhile.
    const deadline = Date.now() + 10_000;
    let late: number | string = 200;
    while (late === 200 && Date.now() < deadline) {
      late = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
        (response) => response.status,
        () => 'refused',
      );
      if (late === 200) await new Promise((done) => setTimeout(done, 100));
    }
    expect([503, 'refused']).toContain(late);
    socket.end(body.slice(10));
    await new Promise<void>((done) => socket.once('close', () => done()));
    expect(answer).toMatch(/^HTTP\/1\.1 201/);
    expect(answer).toContain('Created during shutdown');
    const { code } = await waitForExit(server, EXIT_TIMEOUT_MS);
    expect(code, server.stderr()).toBe(0);
  }, 300_000);
});
