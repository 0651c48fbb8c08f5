#!/usr/bin/env node
// `npm run bench`: seeds a fresh PostgreSQL database, starts the built orgstack server and a bare
// Fastify + postgres.js "ceiling" server on loopback, drives each workload with autocannon, and
// prints requests/s, latency, round trips per request and the ratio to the ceiling.
// See docs/benchmarks.md for what each workload is and the targets.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import {
  NAME_SEARCH,
  seed,
  seedPlan,
  seedUsage,
  USAGE_DAYS,
  USAGE_PIPELINES,
  USAGE_STORAGE_TYPES,
} from './seed.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const outDir = join(here, 'out');
const HOST = '127.0.0.1';
const WORKLOAD_IDS = [
  'ceiling',
  'get',
  'get-no-limits',
  'first',
  'deep',
  'search',
  'members',
  'mine',
  'ceiling-list',
  'usage-ingest',
  'usage-summary',
  'usage-summary-1',
  'members-bulk',
];
const READS = new Set(['get', 'first', 'deep', 'search', 'members', 'mine']);
/** Records per batch in the ingestion workload. */
const BATCH_RECORDS = 1000;

const USAGE = `Usage: node bench/run.mjs [options]   (or: npm run bench -- [options])

  --orgs N          organizations to seed (default 100000, env BENCH_ORGS)
  --members N       members of the big organization (default 100000, env BENCH_MEMBERS)
  --user-orgs N     organizations of the multi-organization user (default 1000, env BENCH_USER_ORGS)
  --usage-records N usage records the seeded rollups of the big organization count
                    (default 10000000, env BENCH_USAGE_RECORDS)
  --usage-raw N     raw usage records seeded beside them (default 1000000, env BENCH_USAGE_RAW)
  --duration S      measured seconds per workload (default 10, env BENCH_DURATION)
  --warmup S        warm-up seconds before each measurement (default 3, env BENCH_WARMUP)
  --connections N   autocannon connections (default 10, env BENCH_CONNECTIONS)
  --rounds N        repeat every workload N times and report medians (default 1)
  --only LIST       comma-separated workload ids to run (default all): ${WORKLOAD_IDS.join(',')}
  --keep            keep the benchmark database (it is dropped by default)
  --rate-limits on|off  run orgstack with rate limiting on (default; set too high to trigger) or off

Database: a new database with a random name is created on the server named by BENCH_DATABASE_URL,
DATABASE_URL, or postgres://postgres@127.0.0.1:5432/postgres, and dropped at the end.`;

function options() {
  const { values } = parseArgs({
    options: {
      orgs: { type: 'string' },
      members: { type: 'string' },
      'user-orgs': { type: 'string' },
      'usage-records': { type: 'string' },
      'usage-raw': { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'rate-limits': { type: 'string', default: 'on' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name, env, fallback, min, max) => {
    const raw = values[name] ?? process.env[env] ?? String(fallback);
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`--${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
    }
    return value;
  };
  const only = values.only ? new Set(values.only.split(',').map((id) => id.trim())) : null;
  for (const id of only ?? []) {
    if (!WORKLOAD_IDS.includes(id))
      throw new Error(`--only: unknown workload "${id}" (${WORKLOAD_IDS.join(', ')})`);
  }
  return {
    orgs: int('orgs', 'BENCH_ORGS', 100_000, 1000, 10_000_000),
    members: int('members', 'BENCH_MEMBERS', 100_000, 100, 10_000_000),
    userOrgs: int('user-orgs', 'BENCH_USER_ORGS', 1000, 1, 100_000),
    usageRecords: int('usage-records', 'BENCH_USAGE_RECORDS', 10_000_000, 144_000, 1_000_000_000),
    usageRaw: int('usage-raw', 'BENCH_USAGE_RAW', 1_000_000, 0, 100_000_000),
    duration: int('duration', 'BENCH_DURATION', 10, 1, 600),
    warmup: int('warmup', 'BENCH_WARMUP', 3, 0, 120),
    connections: int('connections', 'BENCH_CONNECTIONS', 10, 1, 1000),
    rounds: int('rounds', 'BENCH_ROUNDS', 1, 1, 20),
    only,
    keep: values.keep,
    rateLimits: values['rate-limits'] !== 'off',
  };
}

// ---------------------------------------------------------------------------------------------
// Processes, ports, cleanup

const children = new Set();
const cleanups = [];
let cleaning = null;

function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Starts `node script` with its output in a log file; resolves once `readyPath` answers 2xx-4xx. */
const entry = join(root, 'dist', 'main.js');
/** The V8 flags `npm start` runs orgstack with (package.json), so it is measured as it is run. */
const ORGSTACK_NODE_FLAGS = ['--max-semi-space-size=4'];

async function startServer(name, script, env, readyPath, timeoutMs = 60_000) {
  const logFile = join(outDir, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const flags = script === entry ? ORGSTACK_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, script], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  children.add(child);
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
    children.delete(child);
  });
  const url = `http://${HOST}:${env.PORT}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(
        `${name} exited during start-up (${exited.signal ?? `code ${exited.code}`}); ${logFile}:\n${tail(logFile)}`,
      );
    }
    try {
      const response = await fetch(url + readyPath, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status < 500) return { child, url, logFile, pid: child.pid };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${name} did not become ready within ${timeoutMs / 1000} s; ${logFile}:\n${tail(logFile)}`);
}

async function stopServer(server) {
  if (!server || !children.has(server.child)) return;
  const { child } = server;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([gone.then(() => false), sleep(5000).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await Promise.race([gone, sleep(2000)]);
  }
}

function cleanup() {
  cleaning ??= (async () => {
    for (const child of children) child.kill('SIGTERM');
    const deadline = Date.now() + 5000;
    while (children.size > 0 && Date.now() < deadline) await sleep(100);
    for (const child of children) child.kill('SIGKILL');
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup: ${error.message}`);
      }
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: stopping servers and cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// /proc readers (Linux): peak RSS and CPU time of a process, busy time of the machine

function procStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return { peakRssMb: Number.NaN, rssMb: Number.NaN };
  }
}

const TICKS = 100; // USER_HZ on Linux

function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
  } catch {
    return Number.NaN;
  }
}

function machineCpu() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = values[3] + (values[4] ?? 0);
    const total = values.reduce((sum, value) => sum + value, 0);
    return { busy: (total - idle) / TICKS, total: total / TICKS };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

// ---------------------------------------------------------------------------------------------
// Load

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Transactions counted by PostgreSQL for the benchmark database, once every backend has published. */
async function settledXacts(stats) {
  // PostgreSQL 15+ publishes a busy backend's counters about once a second, but an idle backend's
  // last counts only after PGSTAT_IDLE_INTERVAL (10 s). Reading after that wait makes the delta
  // over a run exact; a shorter sleep undercounts by up to a second of traffic per connection.
  await sleep(STATS_SETTLE_MS);
  return stats();
}

const STATS_SETTLE_MS = 10_500;

/**
 * One autocannon run of warm-up + duration seconds; only responses inside the measured window
 * count for requests/s and latency. Database transactions are the pg_stat_database delta over
 * the whole run (warm-up included) divided by every response of the run.
 */
async function drive({ url, workload, config, stats, pid, before, extra = 0 }) {
  const { warmup, duration } = config;
  const connections = workload.connections ?? config.connections;
  const paths = workload.paths;
  const bodies = workload.bodies ?? [];
  let next = 0;
  const request = { method: workload.method ?? 'GET', path: paths[0], body: bodies[0] };
  if (paths.length > 1 || bodies.length > 1 || workload.bodyFor) {
    request.setupRequest = (req) => {
      const n = next++;
      req.path = paths[n % paths.length];
      if (workload.bodyFor) req.body = workload.bodyFor(n);
      else if (bodies.length > 0) req.body = bodies[n % bodies.length];
      return req;
    };
  }
  const latencies = [];
  const statuses = {};
  let responses = extra;
  let measured = 0;
  let non2xx = 0;
  let non2xxMeasured = 0;
  let errors = 0;
  const started = performance.now();
  const windowStart = started + warmup * 1000;
  const windowEnd = windowStart + duration * 1000;
  const cpu = {};
  const cpuAt = (name) => {
    cpu[name] = { server: processCpuSeconds(pid), machine: machineCpu(), at: performance.now() };
  };
  const cpuTimers = [
    setTimeout(() => cpuAt('start'), warmup * 1000),
    setTimeout(() => cpuAt('end'), (warmup + duration) * 1000 - 50),
  ];

  const instance = autocannon({
    url,
    connections,
    pipelining: 1,
    duration: warmup + duration,
    timeout: 10,
    headers: workload.headers ?? {},
    requests: [request],
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    responses++;
    const now = performance.now();
    const ok = status >= 200 && status < 300;
    if (!ok) non2xx++;
    if (now >= windowStart && now < windowEnd) {
      measured++;
      latencies.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (!ok) non2xxMeasured++;
    }
  });

  // Bound every run: autocannon stops itself, this only catches a hang.
  const guard = setTimeout(() => instance.stop(), (warmup + duration + 20) * 1000);
  let result;
  try {
    result = await instance;
  } finally {
    clearTimeout(guard);
    for (const timer of cpuTimers) clearTimeout(timer);
  }
  errors += (result?.errors ?? 0) + (result?.timeouts ?? 0);
  const memory = procStatus(pid);
  const after = await settledXacts(stats);
  latencies.sort((a, b) => a - b);
  const { start, end } = cpu;
  const cpuSeconds = start && end ? (end.at - start.at) / 1000 : Number.NaN;
  return {
    requests: measured,
    rps: measured / duration,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1] : Number.NaN,
    statuses,
    non2xx: non2xxMeasured,
    non2xxTotal: non2xx,
    errors,
    totalResponses: responses,
    xacts: after - before,
    xactsPerRequest: responses > 0 ? (after - before) / responses : Number.NaN,
    after,
    serverRssMb: memory.rssMb,
    serverPeakRssMb: memory.peakRssMb,
    serverCpu: cpuSeconds > 0 ? (end.server - start.server) / cpuSeconds : Number.NaN,
    machineCpu:
      cpuSeconds > 0
        ? (end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total)
        : Number.NaN,
  };
}

// ---------------------------------------------------------------------------------------------
// Workloads

function workloads(fx, keys) {
  const admin = { authorization: `Bearer ${keys.admin}` };
  const personal = { authorization: `Bearer ${keys.personal}` };
  const cursor = (key) => Buffer.from(key, 'utf8').toString('base64url');
  const getPaths = fx.sampleOrgIds.map((id) => `/v1/organizations/${id}`);
  const page = (body, n) => Array.isArray(body?.data) && body.data.length === n;
  return [
    {
      id: 'ceiling',
      n: 0,
      name: 'ceiling: bare Fastify + postgres.js, GET by primary key, no auth',
      server: 'ceiling',
      paths: getPaths,
      check: (body) => body?.id === fx.sampleOrgIds[0],
    },
    {
      id: 'get',
      n: 1,
      name: 'GET /v1/organizations/{id} (admin key)',
      server: 'orgstack',
      headers: admin,
      paths: getPaths,
      check: (body) => body?.id === fx.sampleOrgIds[0],
    },
    {
      // The cost of rate limiting: the same GET on a second server started with both limits off.
      id: 'get-no-limits',
      n: 12,
      name: 'GET /v1/organizations/{id} (admin key), a server with rate limits off',
      server: 'orgstack-no-limits',
      headers: admin,
      paths: getPaths,
      check: (body) => body?.id === fx.sampleOrgIds[0],
    },
    {
      id: 'first',
      n: 2,
      name: 'GET /v1/organizations?limit=20 (first page, admin key)',
      server: 'orgstack',
      headers: admin,
      paths: ['/v1/organizations?limit=20'],
      check: (body) => page(body, 20) && body.pagination.has_more,
    },
    {
      id: 'deep',
      n: 3,
      name: `GET /v1/organizations?limit=20&cursor= (page at row ${fx.deepRow.toLocaleString('en-US')})`,
      server: 'orgstack',
      headers: admin,
      paths: [`/v1/organizations?limit=20&cursor=${cursor(fx.deepOrgId)}`],
      check: (body) => page(body, 20) && body.data[0].id > fx.deepOrgId,
    },
    {
      id: 'search',
      n: 4,
      name: `GET /v1/organizations?limit=20&name_search=${NAME_SEARCH}`,
      server: 'orgstack',
      headers: admin,
      paths: [`/v1/organizations?limit=20&name_search=${NAME_SEARCH}`],
      check: (body) =>
        Array.isArray(body?.data) &&
        body.data.length >= 1 &&
        body.data.length < 20 &&
        body.data.every((org) => org.name.toLowerCase().includes(NAME_SEARCH)),
    },
    {
      id: 'members',
      n: 5,
      name: `GET /v1/organizations/{big}/members?limit=20&cursor= (row ${fx.deepMemberRow.toLocaleString('en-US')})`,
      server: 'orgstack',
      headers: admin,
      paths: [`/v1/organizations/${fx.bigOrgId}/members?limit=20&cursor=${cursor(fx.deepMemberUserId)}`],
      check: (body) => page(body, 20) && body.data[0].user_id > fx.deepMemberUserId,
    },
    {
      id: 'mine',
      n: 6,
      name: 'GET /v1/organizations?limit=20 (personal key, user in 1,000 orgs)',
      server: 'orgstack',
      headers: personal,
      paths: ['/v1/organizations?limit=20'],
      check: (body) => page(body, 20) && body.pagination.has_more,
    },
    {
      id: 'ceiling-list',
      n: 7,
      name: 'bare list: the ceiling server, first 20 organizations by id, no auth, no shaping',
      server: 'ceiling',
      paths: ['/v1/organizations?limit=20'],
      check: (body) => page(body, 20),
    },
    ...usageWorkloads(fx, admin),
    {
      // Last: it adds members to the big organization, which the member pages above read.
      id: 'members-bulk',
      n: 11,
      name: `POST /v1/organizations/{big}/members/bulk, ${fmt(BULK_MEMBERS)} new people per request (admin key)`,
      server: 'orgstack',
      method: 'POST',
      status: 200,
      headers: { ...admin, 'content-type': 'application/json' },
      paths: [`/v1/organizations/${fx.bigOrgId}/members/bulk`],
      bodyFor: bulkMembers,
      recordsPerRequest: BULK_MEMBERS,
      check: (body) => body?.created === BULK_MEMBERS,
    },
  ];
}

/** People added per bulk request in the bulk workload: the most one request takes. */
const BULK_MEMBERS = 1000;
const bulkRun = Date.now().toString(36);

/** A bulk add of BULK_MEMBERS people no request has named before (found or created by email). */
function bulkMembers(n) {
  return JSON.stringify({
    members: Array.from({ length: BULK_MEMBERS }, (_, i) => ({
      email: `bulk-${bulkRun}-${n}-${i}@bench.example.com`,
      role: i % 10 ? 'member' : 'viewer',
    })),
  });
}

/** Four different batches of BATCH_RECORDS records from the last hour, sent in turn. */
function usageBatches() {
  const now = Date.now();
  return Array.from({ length: 4 }, (_, variant) =>
    JSON.stringify({
      records: Array.from({ length: BATCH_RECORDS }, (_, i) => ({
        storage_type: USAGE_STORAGE_TYPES[(i + variant) % USAGE_STORAGE_TYPES.length],
        pipeline_id: `pipeline-${(i * 7 + variant) % USAGE_PIPELINES}`,
        billing_type: i % 2 ? 'non_billable' : 'billable',
        bytes: 1_048_576 + i,
        cost: `0.${String(1 + ((i * 37 + variant) % 9999)).padStart(4, '0')}`,
        occurred_at: new Date(now - 60_000 - ((i * 13 + variant) % 3000) * 1000).toISOString(),
      })),
    }),
  );
}

function usageWorkloads(fx, admin) {
  if (!fx.usage) return [];
  const end = new Date();
  const start = new Date(end.getTime() - USAGE_DAYS * 86_400_000);
  const range = `start=${start.toISOString()}&end=${end.toISOString()}`;
  const list = [
    {
      id: 'usage-ingest',
      n: 8,
      name: `POST /v1/organizations/{team}/usage, ${fmt(BATCH_RECORDS)} records per batch, under a budget (admin key)`,
      server: 'orgstack',
      method: 'POST',
      status: 201,
      headers: { ...admin, 'content-type': 'application/json' },
      paths: [`/v1/organizations/${fx.usage.usageTeamId}/usage`],
      bodies: usageBatches(),
      recordsPerRequest: BATCH_RECORDS,
      check: (body) => body?.accepted === BATCH_RECORDS,
    },
    {
      id: 'usage-summary',
      n: 9,
      name: `GET /v1/organizations/{big}/costs/storage-types/s3, ${USAGE_DAYS} days over ${fmt(fx.usage.usageRecords)} records`,
      server: 'orgstack',
      headers: admin,
      paths: [`/v1/organizations/${fx.usage.usageOrgId}/costs/storage-types/s3?${range}`],
      check: (body) =>
        body?.by_pipeline?.length === USAGE_PIPELINES &&
        body.by_hour.length >= USAGE_DAYS * 24 &&
        body.record_count > 0,
    },
  ];
  // The same request one at a time: what a single caller waits, without queueing behind nine others.
  return [
    ...list,
    { ...list[1], id: 'usage-summary-1', n: 10, name: `${list[1].name}, one connection`, connections: 1 },
  ];
}

/** One request before the load: the workload must answer 200 with the expected shape. */
async function preflight(url, workload) {
  const response = await fetch(url + workload.paths[0], {
    method: workload.method ?? 'GET',
    headers: workload.headers,
    body: workload.bodyFor ? workload.bodyFor('preflight') : workload.bodies?.[0],
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // reported below
  }
  if (response.status !== (workload.status ?? 200) || !workload.check(body)) {
    throw new Error(
      `workload ${workload.id}: ${workload.method ?? 'GET'} ${workload.paths[0]} answered ${response.status} with an unexpected body: ${text.slice(0, 500)}`,
    );
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Report

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const fmt = (value, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

function summarize(rounds, config) {
  const ids = [...new Set(rounds.flatMap((round) => round.map((r) => r.id)))];
  const rows = ids.map((id) => {
    const runs = rounds.flatMap((round) => round.filter((r) => r.id === id));
    return {
      id,
      n: runs[0].n,
      name: runs[0].name,
      rounds: runs.length,
      rps: median(runs.map((r) => r.rps)),
      rpsMin: Math.min(...runs.map((r) => r.rps)),
      rpsMax: Math.max(...runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      non2xx: runs.reduce((sum, r) => sum + r.non2xxTotal, 0),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      xactsPerRequest: median(runs.map((r) => r.xactsPerRequest)),
      recordsPerSecond:
        runs[0].recordsPerSecond === null ? null : median(runs.map((r) => r.recordsPerSecond)),
      serverCpu: median(runs.map((r) => r.serverCpu)),
      serverPeakRssMb: Math.max(...runs.map((r) => r.serverPeakRssMb)),
      machineCpu: median(runs.map((r) => r.machineCpu)),
    };
  });
  const ceiling = rows.find((r) => r.id === 'ceiling');
  for (const row of rows) row.ratio = ceiling ? row.rps / ceiling.rps : Number.NaN;
  const first = rows.find((r) => r.id === 'first');
  const deep = rows.find((r) => r.id === 'deep');
  const deepVsFirst = first && deep ? first.rps / deep.rps : Number.NaN;
  const deepVsFirstP50 = first && deep ? deep.p50 / first.p50 : Number.NaN;
  // The read targets are about the organization reads; usage and bulk writes are reported apart.
  const authenticated = rows.filter((r) => READS.has(r.id));
  const meanXacts =
    authenticated.length > 0
      ? authenticated.reduce((sum, r) => sum + r.xactsPerRequest, 0) / authenticated.length
      : Number.NaN;
  return { rows, deepVsFirst, deepVsFirstP50, meanXacts, config };
}

function targets(summary, peakRssMb) {
  const row = (id) => summary.rows.find((r) => r.id === id);
  const lists = ['first', 'deep', 'search', 'members', 'mine'].map(row).filter(Boolean);
  const checks = [];
  const add = (name, measured, pass) => checks.push({ name, measured, pass });
  if (row('get') && row('ceiling'))
    add('GET one organization ≥ 0.6 × ceiling', fmt(row('get').ratio, 2), row('get').ratio >= 0.6);
  if (row('get') && row('get-no-limits')) {
    // Not a target: what the limits cost, measured as GET with them on against a server with them off.
    const on = row('get').rps;
    const off = row('get-no-limits').rps;
    add(
      '(reference) GET with rate limits on vs off, req/s',
      `${fmt(on)} vs ${fmt(off)} (${fmt((100 * (on - off)) / off, 1)}%)`,
      null,
    );
  }
  if (lists.length && row('ceiling')) {
    const worst = lists.reduce((a, b) => (a.ratio <= b.ratio ? a : b));
    add('list pages ≥ 0.5 × ceiling', `lowest ${fmt(worst.ratio, 2)} (${worst.id})`, worst.ratio >= 0.5);
    // Not a target: how far a bare server gets with the same page, to read the one above against.
    const bare = row('ceiling-list');
    if (bare) add('(reference) bare list page × ceiling', fmt(bare.ratio, 2), null);
  }
  if (Number.isFinite(summary.deepVsFirst)) {
    add(
      'page at row 90% vs first page ≤ 1.3 (cost ratio)',
      fmt(summary.deepVsFirst, 2),
      summary.deepVsFirst <= 1.3,
    );
  }
  // The read workloads the latency and memory targets are about (1-6); writes are reported beside them.
  const served = summary.rows.filter((r) => READS.has(r.id));
  if (served.length) {
    const worst = served.reduce((a, b) => (a.p99 >= b.p99 ? a : b));
    add('p99 < 25 ms at 10 connections', `highest ${fmt(worst.p99, 1)} ms (${worst.id})`, worst.p99 < 25);
  }
  if (row('usage-summary-1')) {
    const p99 = row('usage-summary-1').p99;
    add(
      `${USAGE_DAYS}-day storage-type summary p99 < 100 ms (one connection)`,
      `${fmt(p99, 1)} ms`,
      p99 < 100,
    );
  }
  if (row('usage-summary')) {
    // Not a target: ten callers at once on two shared cores mostly measure the queue.
    add(
      `(reference) ${USAGE_DAYS}-day summary p99 at 10 connections`,
      `${fmt(row('usage-summary').p99, 1)} ms`,
      null,
    );
  }
  if (row('usage-ingest')) {
    // Not a target: a machine-dependent throughput to compare runs with.
    add('(reference) usage ingestion, records/s', fmt(row('usage-ingest').recordsPerSecond), null);
  }
  if (row('members-bulk')) {
    add(
      '(reference) bulk member adds, people/s (p99 of one 1,000-person request)',
      `${fmt(row('members-bulk').recordsPerSecond)} (${fmt(row('members-bulk').p99, 0)} ms)`,
      null,
    );
  }
  // The target is the read paths' (workloads 1-6 run first, so their peak is the peak after them);
  // ingestion of 1,000-record batches ten at a time comes after and is reported beside it.
  const readPeak = Math.max(...served.map((r) => r.serverPeakRssMb).filter(Number.isFinite));
  if (Number.isFinite(readPeak))
    add('peak RSS < 200 MB (read workloads)', `${fmt(readPeak)} MB`, readPeak < 200);
  if (Number.isFinite(peakRssMb) && summary.rows.some((r) => r.id.startsWith('usage-'))) {
    add('(reference) peak RSS of the whole run, usage ingestion included', `${fmt(peakRssMb)} MB`, null);
  }
  if (Number.isFinite(summary.meanXacts)) {
    add(
      '≤ 1.2 DB round trips per authenticated read (mean)',
      fmt(summary.meanXacts, 2),
      summary.meanXacts <= 1.2,
    );
  }
  return checks;
}

function markdown(summary, checks, meta) {
  const lines = [];
  lines.push(
    `orgstack benchmark, ${meta.date}: ${fmt(meta.counts.organizations)} organizations, ` +
      `${fmt(meta.config.members)} members in one, a user in ${fmt(meta.config.userOrgs)}; ` +
      `${meta.config.connections} connections, ${meta.config.warmup} s warm-up + ${meta.config.duration} s` +
      `${meta.config.rounds > 1 ? `, median of ${meta.config.rounds} rounds` : ''}`,
  );
  lines.push('');
  lines.push(
    '| # | workload | req/s | p50 ms | p99 ms | non-2xx | × ceiling | DB xacts/req | server CPU | machine CPU | server peak RSS |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of summary.rows) {
    const range = r.rounds > 1 ? ` (${fmt(r.rpsMin)}–${fmt(r.rpsMax)})` : '';
    lines.push(
      `| ${r.n} | ${r.name} | ${fmt(r.rps)}${range} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.non2xx + r.errors} | ` +
        `${fmt(r.ratio, 2)} | ${fmt(r.xactsPerRequest, 2)} | ${fmt(r.serverCpu * 100)}% | ${fmt(r.machineCpu * 100)}% | ${fmt(r.serverPeakRssMb)} MB |`,
    );
  }
  lines.push('');
  if (Number.isFinite(summary.deepVsFirst)) {
    lines.push(
      `Page at row ${fmt(meta.fixtures.deepRow)} vs first page: ${fmt(summary.deepVsFirst, 2)}× the cost ` +
        `(req/s first ÷ req/s deep); p50 ${fmt(summary.deepVsFirstP50, 2)}×.`,
    );
  }
  lines.push(
    `orgstack peak RSS (VmHWM): ${fmt(meta.peakRssMb)} MB. Mean DB xacts per authenticated read: ${fmt(summary.meanXacts, 2)}.`,
  );
  const ingest = summary.rows.find((r) => r.id === 'usage-ingest');
  if (ingest) {
    lines.push(
      `Usage ingestion: ${fmt(ingest.recordsPerSecond)} records/s in batches of ${fmt(BATCH_RECORDS)} ` +
        `(${fmt(ingest.rps, 1)} batches/s, p99 ${fmt(ingest.p99, 1)} ms).`,
    );
  }
  if (meta.fixtures.usage) {
    const u = meta.fixtures.usage;
    lines.push(
      `Usage history: ${fmt(u.usageRollups)} rollup rows counting ${fmt(u.usageRecords)} records over ` +
        `${USAGE_DAYS} days, ${fmt(u.usageRaw)} raw records.`,
    );
  }
  lines.push('');
  lines.push('| target | measured | |');
  lines.push('|---|---|---|');
  for (const check of checks)
    lines.push(
      `| ${check.name} | ${check.measured} | ${check.pass === null ? '' : check.pass ? 'ok' : 'MISSED'} |`,
    );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const config = options();
  if (!existsSync(entry))
    throw new Error('dist/main.js is missing: run `npm run build` (npm run bench builds first)');
  mkdirSync(outDir, { recursive: true });

  // Everything that runs is bounded: setup, every run, and this whole process.
  const budgetMs =
    15 * 60_000 + config.rounds * WORKLOAD_IDS.length * (config.warmup + config.duration + 40) * 1000;
  const watchdog = setTimeout(() => {
    log(`the benchmark exceeded its ${Math.round(budgetMs / 60_000)} min budget; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, budgetMs);
  watchdog.unref();

  const adminUrl =
    process.env.BENCH_DATABASE_URL ||
    process.env.DATABASE_URL ||
    'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `orgstack_bench_${randomBytes(4).toString('hex')}`;
  const benchUrl = new URL(adminUrl);
  benchUrl.pathname = `/${dbName}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10, idle_timeout: 0 });
  cleanups.push(() => admin.end({ timeout: 2 }));
  await admin.unsafe(`create database ${dbName}`);
  log(`created database ${dbName} on ${benchUrl.host}`);
  if (config.keep) {
    cleanups.push(async () =>
      log(`kept database ${dbName} on ${benchUrl.host} (drop it with: dropdb ${dbName})`),
    );
  } else {
    cleanups.push(async () => {
      await admin.unsafe(`drop database if exists ${dbName} with (force)`);
      log(`dropped database ${dbName}`);
    });
  }

  // Start the server once: it applies its migrations to the new database.
  const adminKey = `bench_admin_${randomBytes(18).toString('hex')}`;
  const orgstackEnv = {
    DATABASE_URL: benchUrl.href,
    HOST,
    ORGSTACK_ADMIN_KEY: adminKey,
    LOG_LEVEL: 'warn',
    // Limits are on as in production (so their cost is measured) but too high to be reached.
    ORGSTACK_RATE_LIMIT_PER_KEY: config.rateLimits ? '1000000000' : '0',
    ORGSTACK_RATE_LIMIT_PER_IP: config.rateLimits ? '1000000000' : '0',
  };
  const orgstack = await startServer(
    'orgstack',
    entry,
    { ...orgstackEnv, PORT: String(await freePort()) },
    '/readyz',
  );
  log(`orgstack listening on ${orgstack.url} (pid ${orgstack.pid})`);

  const plan = seedPlan(config);
  const seeder = postgres(benchUrl.href, { max: 1, onnotice: () => {}, idle_timeout: 0 });
  let fixtures;
  try {
    await seeder.unsafe(`set statement_timeout = '10min'`);
    log(
      `seeding ${fmt(config.orgs)} organizations, ${fmt(config.members)} members, a user in ${fmt(config.userOrgs)} organizations`,
    );
    const started = Date.now();
    fixtures = await seed(seeder, plan, (line) => log(`  ${line}`));
    if (!config.only || [...config.only].some((id) => id.startsWith('usage-'))) {
      log(
        `seeding usage: rollups for ${fmt(config.usageRecords)} records, ${fmt(config.usageRaw)} raw records`,
      );
      fixtures.usage = await seedUsage(
        seeder,
        { records: config.usageRecords, raw: config.usageRaw },
        (line) => log(`  ${line}`),
      );
    }
    log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(fixtures.counts)}`);
  } finally {
    await seeder.end({ timeout: 2 });
  }

  // A personal key for the multi-organization user, through the real API.
  const created = await fetch(`${orgstack.url}/v1/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: fixtures.multiUserId, name: 'bench personal key' }),
    signal: AbortSignal.timeout(10_000),
  });
  const createdBody = await created.json().catch(() => null);
  if (created.status !== 201 || !createdBody?.secret) {
    throw new Error(`creating the personal key answered ${created.status}: ${JSON.stringify(createdBody)}`);
  }
  const keys = { admin: adminKey, personal: createdBody.secret };

  const all = workloads(fixtures, keys).filter((w) => !config.only || config.only.has(w.id));
  const stats = async () => {
    const [row] = await admin`
      select (xact_commit + xact_rollback)::bigint as x from pg_stat_database where datname = ${dbName}`;
    return Number(row.x);
  };

  const rounds = [];
  const loadAtStart = loadavg();
  log("waiting for PostgreSQL to publish idle connections' statistics");
  let before = await settledXacts(stats);
  for (let round = 1; round <= config.rounds; round++) {
    const results = [];
    for (const workload of all) {
      let server = orgstack;
      let ceiling = null;
      if (workload.server === 'ceiling') {
        ceiling = await startServer(
          'ceiling',
          join(here, 'ceiling.mjs'),
          { DATABASE_URL: benchUrl.href, PORT: String(await freePort()) },
          '/',
        );
        server = ceiling;
      } else if (workload.server === 'orgstack-no-limits') {
        ceiling = await startServer(
          'orgstack-no-limits',
          entry,
          {
            ...orgstackEnv,
            PORT: String(await freePort()),
            ORGSTACK_RATE_LIMIT_PER_KEY: '0',
            ORGSTACK_RATE_LIMIT_PER_IP: '0',
          },
          '/readyz',
        );
        server = ceiling;
      }
      try {
        await preflight(server.url, workload);
        log(
          `round ${round}/${config.rounds}: ${workload.id} (${config.warmup} s warm-up + ${config.duration} s)`,
        );
        // `before` was read before the pre-flight request: count it with the run.
        const result = await drive({
          url: server.url,
          workload,
          config,
          stats,
          pid: server.pid,
          before,
          extra: 1,
        });
        before = result.after;
        const recordsPerSecond = workload.recordsPerRequest ? result.rps * workload.recordsPerRequest : null;
        results.push({ id: workload.id, n: workload.n, name: workload.name, recordsPerSecond, ...result });
        log(
          `  ${fmt(result.rps)} req/s, p50 ${fmt(result.p50, 2)} ms, p99 ${fmt(result.p99, 2)} ms, ` +
            `non-2xx ${result.non2xxTotal}, errors ${result.errors}, ${fmt(result.xactsPerRequest, 2)} xacts/req`,
        );
      } finally {
        if (ceiling) await stopServer(ceiling);
      }
    }
    rounds.push(results);
  }

  const peak = procStatus(orgstack.pid);
  const summary = summarize(rounds, config);
  const checks = targets(summary, peak.peakRssMb);
  const date = new Date().toISOString();
  const meta = { date, config, counts: fixtures.counts, fixtures, peakRssMb: peak.peakRssMb };
  const table = markdown(summary, checks, meta);
  process.stdout.write(`\n${table}\n\n`);

  const report = {
    date,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      node: process.version,
      loadavgAtStart: loadAtStart,
      loadavgAtEnd: loadavg(),
      postgres: (await admin`select version()`)[0].version,
    },
    config: { ...config, only: config.only ? [...config.only] : null, database: dbName },
    counts: fixtures.counts,
    orgstack: { peakRssMb: peak.peakRssMb, rssMbAtEnd: peak.rssMb },
    summary,
    targets: checks,
    rounds,
  };
  const stamp = date.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, `bench-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), `${table}\n`);
  log(`wrote bench/out/bench-${stamp}.json and bench/out/latest.md`);

  const failed = summary.rows.filter((r) => r.non2xx > 0 || r.errors > 0);
  if (failed.length > 0) {
    for (const r of failed) {
      const statuses = rounds
        .flat()
        .filter((x) => x.id === r.id)
        .map((x) => JSON.stringify(x.statuses));
      log(
        `FAILED: ${r.id} had ${r.non2xx} non-2xx responses and ${r.errors} errors (statuses ${statuses.join(', ')})`,
      );
    }
    log(`see ${orgstack.logFile}`);
    return 1;
  }
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  log(`error: ${error instanceof Error ? error.message : String(error)}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
