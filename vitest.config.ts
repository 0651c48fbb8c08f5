import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Run by `npm run test:faults` (vitest.faults.config.ts): they start servers and clusters of their own.
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    globalSetup: ['test/helpers/pglite-template.ts'],
    pool: 'forks',
    // Files of one worker share their modules: each still builds its own app on its own databases,
    // and loading the modules once per worker instead of once per file saves a sixth of the run.
    isolate: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
