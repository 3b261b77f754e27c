import { defineConfig } from 'vitest/config';

// Three tiers: `unit` needs nothing running (seconds, while editing); `integration` talks to a real
// Temporal dev server and FerretDB that its global setup starts once, and holds the browser tests;
// `cluster` runs the cluster profile (npm test runs it after the other two).
export default defineConfig({
  test: {
    // The Temporal native bridge crashes under worker threads.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: true,
    // Request and progress lines would bury the test output; child processes a test waits on for
    // their ready line set LOG_LEVEL=info themselves.
    env: { LOG_LEVEL: 'warn' },
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        // Nothing native is loaded here, so threads (faster to start than forks) are safe.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], pool: 'threads' },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/browser/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        // The production shape (npm run start:cluster): the real Temporal server on PostgreSQL, two
        // workers, two API instances. Each test starts a cluster of its own; one file, one at a time.
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/cluster-setup.ts'],
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
