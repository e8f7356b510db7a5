import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts', 'reliability/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // In CI a failed test is run once more before the run fails. Some tests use the real clock
    // on purpose (a CLI write picked up within 1 s, SIGKILLed child processes); one failure in
    // about twenty local runs could not be reproduced under load. Retries are printed, so a test
    // that needs one is visible rather than hidden; locally nothing is retried.
    retry: process.env.CI ? 1 : 0,
  },
});
