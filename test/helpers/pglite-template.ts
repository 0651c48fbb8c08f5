import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { openPglite } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A tarball of an embedded database migrated from empty, which each test database starts from. */
    pgliteTemplate: string;
  }
}

/**
 * Creating an embedded cluster costs seconds (initdb runs inside WebAssembly); loading one from a
 * tarball costs a fraction of that. The run migrates one empty database here and every test file
 * starts from a copy, so each still begins on exactly what the migrations build.
 */
export default async function setup(project: TestProject) {
  const db = await openPglite(undefined);
  await migrate(db);
  const dump = await (db.raw as PGlite).dumpDataDir('none');
  await db.close();
  const path = join(tmpdir(), `orgstack-pglite-template-${process.pid}-${Date.now()}.tar`);
  writeFileSync(path, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', path);
  return () => rmSync(path, { force: true });
}
