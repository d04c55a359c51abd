import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.ts';

/**
 * `npm run faults`: the fault-injection scenarios only, reported one line each
 * (`PASS …` / `FAIL …: reason`) and closed by `N passed, N failed`. Everything
 * else is the project's test configuration (`vitest.config.ts`).
 */
export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    ...base.test,
    include: ['test/faults/**/*.test.ts'],
    // The scenarios mostly wait (retry delays, timeouts, visibility timeouts, child processes):
    // running the files side by side keeps the suite within minutes on two cores.
    maxWorkers: 4,
    reporters: [['./test/support/plain-summary-reporter.ts', { scenarios: true }]],
  },
});
