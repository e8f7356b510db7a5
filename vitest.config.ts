import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that read the real clock against other processes on purpose: a CLI process writes an
 * alarm due 100 ms later and the running runtime must pick it up; a process is SIGKILLed while
 * setting and firing and a second one must deliver what is due within its window. Under CI load
 * a child process can start or run too late (each failed once in a full run on 2 shared cores,
 * and passed alone). They run as their own project, retried once in CI (a retry is printed, so it
 * stays visible). Everything else is deterministic and is never retried: a retry would hide the
 * race a deterministic test found.
 */
const REAL_TIME = ['packages/cli/test/live.test.ts', 'packages/alarm/test/alarm-kill.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'deterministic',
          include: [
            'packages/*/test/**/*.test.ts',
            'examples/test/**/*.test.ts',
            'reliability/test/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, ...REAL_TIME],
          retry: 0,
        },
      },
      {
        extends: true,
        test: { name: 'real-time', include: REAL_TIME, retry: process.env.CI ? 1 : 0 },
      },
    ],
  },
});
