import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that read the real clock against other processes on purpose: a CLI write must be picked
 * up by a running runtime's poll; a process is SIGKILLed while setting and firing and a second
 * one must deliver what it acknowledged. They run as their own project so that a reader knows
 * they use wall time; like every other test they are never retried (a retry would hide the race
 * a test found): each waits for the event or state that means done, with caps only a broken build
 * reaches, never for a fixed time.
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
        test: { name: 'real-time', include: REAL_TIME, retry: 0 },
      },
    ],
  },
});
