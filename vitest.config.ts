import { defineConfig } from 'vitest/config';

// Two groups, one after the other. The unit files first, several at once: they are pure or run
// their scripts in anonymous namespaces of their own, and many of them wait on timers and child
// processes rather than the CPU. Then the real-host files, one at a time: they build network
// namespaces with fixed names and a qemu guest, and must not run beside each other (or beside
// the unit files' load) on a 2-core machine.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // The real-host project's teardown powers the e2e files' guest off (shared-guest.ts).
    teardownTimeout: 300_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], maxWorkers: 3, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'real-host', include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 }, globalSetup: ['test/support/shared-guest.ts'] },
      },
    ],
  },
});
