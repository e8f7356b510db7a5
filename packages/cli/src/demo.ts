/**
 * `vigil demo`: runs the demo program shipped in this package (src/demo/, compiled with it), in
 * this process, so it works wherever the package is installed. The program is imported only
 * when the command runs: the other commands do not pay for loading it.
 */
import type { Command } from 'commander';
import type { Context } from './context.js';
import { EXIT_FAILURE, EXIT_OK } from './errors.js';

/** Adds the `demo` command to `program`. @internal */
export function registerDemo(program: Command, ctx: Context): void {
  program
    .command('demo')
    .description('run the demo: an agent hand-off chain on durable alarms, through a crash (about 10 s)')
    .action(async () => {
      const ok = await (ctx.demo ?? runDemo)((line = '') => ctx.out(line));
      ctx.setExitCode(ok ? EXIT_OK : EXIT_FAILURE);
    });
}

/** The shipped demo: true when every alarm was delivered. */
async function runDemo(print: (line?: string) => void): Promise<boolean> {
  const { main } = await import('./demo/demo.js');
  return (await main({ print })).ok;
}
