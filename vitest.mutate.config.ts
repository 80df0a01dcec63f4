import { defineConfig } from 'vitest/config';

// The tests Stryker runs (`npm run mutate`): fast, in-process unit tests of the safety-critical
// modules only. No Redis, no processes, no simulator, so one mutant takes milliseconds.
// A new test that pins one of these modules belongs in this list.
export default defineConfig({
  test: {
    include: [
      'test/safety/guards.test.ts',
      'test/safety/guard-*.test.ts',
      'test/faults/params.test.ts',
      'test/faults/param-*.test.ts',
      'test/runs/state*.test.ts',
      // these three need Redis (REDIS_URL) and start the in-process simulator: about a second each
      'test/runs/sweep.test.ts',
      'test/runs/revert-loop*.test.ts',
      'test/runs/heartbeat*.test.ts',
      'test/experiments/rules.test.ts',
      'test/experiments/semantic-*.test.ts',
      'test/reconcile/plan*.test.ts',
      'test/server/signatures*.test.ts',
      'test/server/repository-match.test.ts',
      'test/egress/policy*.test.ts',
      'test/workflows/load*.test.ts',
      'test/workflows/semantic*.test.ts',
      'test/workflows/hash*.test.ts',
      'test/safety/workflow-plan.test.ts', // starts the in-process simulator
    ],
    pool: 'forks',
    maxWorkers: 1,
  },
});
