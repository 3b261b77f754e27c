import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The order integration files start in. Vitest runs the slowest files first only when its cache
// has their durations; a fresh clone (CI) has none and starts the largest files first, which left
// the long crash-and-restart runs (small files) for last, with one core idle while they ran. So the
// files known to take minutes start first; the rest follow in Vitest's own order.

/** Longest first (seconds alone on 2 shared cores, session 8): these decide the suite's wall time. */
const STARTED_FIRST = [
  'test/integration/dispatch.test.ts', // 385: 1,000 orders through a worker kill
  'test/integration/chaos.test.ts', // 250-300: 50 orders through 5 SIGKILLs
  'test/integration/returns.test.ts', // 145
  'test/integration/adaptor-big-file.test.ts', // 110: 100,000 rows
  'test/integration/bench-harness.test.ts', // 105
  'test/integration/order-exceptions.test.ts', // 90
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = STARTED_FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i === -1 ? STARTED_FIRST.length : i;
    };
    // Array.prototype.sort is stable: files not listed keep Vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: LongestFirst },
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
