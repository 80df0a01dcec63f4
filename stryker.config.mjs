// Mutation testing of the safety-critical modules: `npm run mutate` (see README, Development).
// One file at a time: `npm run mutate -- --mutate src/safety/guards.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: true },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'src/safety/guards.ts',
    'src/faults/params.ts',
    'src/runs/state.ts',
    'src/experiments/semantic.ts',
    'src/reconcile/plan.ts',
    'src/server/signatures.ts',
  ],
  coverageAnalysis: 'perTest',
  // Two cores shared by many: one test process. Raise it locally with --concurrency N.
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
