/** What every example shares: fast mode, a temp database, and "am I the program being run?". */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '@vigil/runtime';

/** True when `--fast` is on the command line or VIGIL_FAST=1: seconds instead of days. */
export function fastMode(argv: string[] = process.argv): boolean {
  return argv.includes('--fast') || process.env.VIGIL_FAST === '1';
}

/** True when the module at `moduleUrl` is the script Node was started with (not imported). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  const self = fileURLToPath(moduleUrl);
  return path.resolve(script) === self || path.resolve(script) === self.replace(/\.ts$/, '');
}

// The temp database and the output sink are the demo's (shipped in @vigil/cli), shared here.
export { consolePrint, type Print, tempDatabase } from '@vigil/cli/demo';

/** Runs `main` as a program: exit code 0 when it resolves true, 1 otherwise, no stack traces. */
export function runAsProgram(main: () => Promise<boolean>): void {
  main().then(
    (ok) => {
      process.exitCode = ok ? 0 : 1;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/** Resolves with `run`'s value, or with `false` if `ms` pass on `clock` first; the timer is always cleared. */
export async function within<T>(clock: Clock, ms: number, run: Promise<T>): Promise<T | false> {
  let timer: unknown;
  const expired = new Promise<false>((resolve) => {
    timer = clock.setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([run, expired]);
  } finally {
    clock.clearTimeout(timer);
  }
}
