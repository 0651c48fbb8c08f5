import { defineConfig } from 'vitest/config';

/*
 * The fault-injection suite (`npm run test:faults`): real server processes against a PostgreSQL
 * cluster and a Redis of its own, killed and restarted on purpose. One file at a time, since each
 * drives the machine's two cores hard.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
