import type { Reporter, TestCase, TestModule } from 'vitest/node';

export interface PlainSummaryOptions {
  /**
   * One line per test as it ends, `PASS <name>` or `FAIL <name>: <reason>` (the
   * first line of its first error), and a closing `N passed, N failed` line:
   * the fault-injection suite's report (`npm run faults`).
   */
  scenarios?: boolean;
}

/**
 * Ends the run with one plain line, `N passed, N failed, N skipped`, that any
 * CI log reader understands, after vitest's own report.
 */
export default class PlainSummaryReporter implements Reporter {
  constructor(private readonly options: PlainSummaryOptions = {}) {}

  onTestCaseResult(test: TestCase): void {
    if (!this.options.scenarios) return;
    const result = test.result();
    if (result.state === 'passed') process.stdout.write(`PASS ${test.name}\n`);
    else if (result.state === 'failed') {
      const reason = (result.errors?.[0]?.message ?? 'failed').split('\n')[0]?.trim();
      process.stdout.write(`FAIL ${test.name}: ${reason}\n`);
    }
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
    }
    // A file that failed before running its tests (a crash in a hook) has no test to count.
    const broken = testModules.filter((module) => module.state() === 'failed' && module.children.size === 0);
    if (this.options.scenarios) {
      for (const module of broken) process.stdout.write(`FAIL ${module.moduleId}: the file did not run\n`);
      const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
      process.stdout.write(`${counts.passed} passed, ${counts.failed + broken.length} failed${skipped}\n`);
      return;
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
