// Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary,
// so tools that read a run's last line know how many tests ran. A failed hook is a failure:
// tests that did not run because their beforeAll/beforeEach threw count as failed, and an
// afterAll that threw after its tests passed counts once.
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

function hookFailed(node: TestSuite | TestModule): boolean {
  return node.errors().length > 0;
}

/** True when the test, or a suite around it, carries an error from a hook. */
function underFailedHook(test: TestCase): boolean {
  if (test.result().errors?.length) return true;
  for (let p: TestSuite | TestModule = test.parent; ; p = p.parent) {
    if (hookFailed(p)) return true;
    if (p.type === 'module') return false;
  }
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of modules) {
      const tests = [...mod.children.allTests()];
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed' || underFailedHook(test)) failed++;
        else skipped++;
      }
      // A hook error with nothing else to show for it (afterAll after passing tests, a file that
      // failed to load): one failure per suite that carries it.
      for (const suite of [mod, ...mod.children.allSuites()]) {
        const inside = suite.type === 'module' ? tests : [...suite.children.allTests()];
        if (hookFailed(suite) && inside.every((t) => t.result().state === 'passed')) failed++;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
