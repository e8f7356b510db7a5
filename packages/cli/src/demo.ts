/**
 * `vigil demo`: runs the repository's demo program (what `pnpm demo` runs) in a child Node.js
 * process with the tsx loader, its output going straight to this terminal.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { Context } from './context.js';
import { CliError } from './errors.js';

/** examples/src/demo.ts, found from this file's place in the repository. */
const DEFAULT_DEMO = fileURLToPath(new URL('../../../examples/src/demo.ts', import.meta.url));

/** Adds the `demo` command to `program`. @internal */
export function registerDemo(program: Command, ctx: Context): void {
  program
    .command('demo')
    .description('run the demo program (examples/src/demo.ts), as `pnpm demo` does')
    .action(async () => {
      const script = ctx.demoScript ?? DEFAULT_DEMO;
      if (!existsSync(script)) throw new CliError('DEMO_NOT_FOUND', `the demo program is missing: ${script}`);
      ctx.setExitCode(await runScript(script));
    });
}

/**
 * Runs a TypeScript file with `node --import tsx` and resolves with its exit status. The loader is
 * resolved from this package, so the demo runs whatever the caller's working directory.
 */
function runScript(script: string): Promise<number> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, script], {
    cwd: dirname(script),
    stdio: 'inherit',
  });
  // Ctrl-C reaches the child too (same process group); let it decide how to stop, and report its
  // status, instead of dying first and leaving it orphaned.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  return new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
    );
  }).finally(() => {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', ignore);
  });
}
