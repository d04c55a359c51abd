import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
    // Integration suites start their own stand-ins on ephemeral ports; a generous
    // timeout covers a cold dynalite/fauxqs start on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The SDK warns that its 2027 releases need Node 22 (Lambda runs 22+; this machine runs 20).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', PAPERS_LOG_LEVEL: 'ERROR' },
  },
});
