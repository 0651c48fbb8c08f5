import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { listedPids } from './pids.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds the server once for every file, and gives the run one directory for its clusters. */
export function setup(project: TestProject) {
  execFileSync(process.execPath, [join(root, 'scripts', 'start.mjs'), '--build-only'], {
    cwd: root,
    stdio: 'pipe',
    timeout: 120_000,
  });
  const dir = mkdtempSync(join(tmpdir(), 'orgstack-faults-'));
  project.provide('faultsRoot', dir);
  return async () => {
    const left = listedPids(dir);
    for (const { pid, kind } of left) {
      // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends with it.
      try {
        process.kill(pid, kind === 'postgres' ? 'SIGQUIT' : 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 10_000;
    while (left.some(({ pid }) => alive(pid)) && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 50));
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
