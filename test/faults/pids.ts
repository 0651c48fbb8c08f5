import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

/*
 * Every process the suite starts is listed under the run's directory, so the global teardown can
 * end whatever a crashed test file left running.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    faultsRoot: string;
  }
}

export type Kind = 'postgres' | 'redis' | 'server';

/** The run's temporary directory, made by the global setup. */
export function faultsRoot(): string {
  return inject('faultsRoot');
}

const listing = (root: string) => join(root, 'pids');

export function recordPid(pid: number, kind: Kind) {
  mkdirSync(listing(faultsRoot()), { recursive: true });
  writeFileSync(join(listing(faultsRoot()), String(pid)), kind);
}

export function forgetPid(pid: number) {
  rmSync(join(listing(faultsRoot()), String(pid)), { force: true });
}

/** The processes still listed under `root`: read by the global teardown, outside any test file. */
export function listedPids(root: string): { pid: number; kind: Kind }[] {
  let names: string[];
  try {
    names = readdirSync(listing(root));
  } catch {
    return [];
  }
  return names.map((name) => ({
    pid: Number(name),
    kind: readFileSync(join(listing(root), name), 'utf8') as Kind,
  }));
}
