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

// Tests run from sources: @vigil/* packages resolve through their "@vigil/source" export condition,
// no build needed. Child processes and worker threads that tests start (tsx fixtures, the store
// thread) inherit the condition through NODE_OPTIONS.
const SOURCE = '@vigil/source';
// Vite's defaults for server code after ours, less 'module': a package's 'module' build need not
// be valid Node ESM (@opentelemetry/api's has extensionless imports), and Node reads 'import'.
const conditions = [SOURCE, 'node', 'development|production'];
if (!process.env.NODE_OPTIONS?.includes(`--conditions=${SOURCE}`)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=${SOURCE}`.trim();
}

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
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
