/**
 * The `vigil` program: commander wiring, and `run`, which executes one command line in-process and
 * returns its exit status. Nothing here calls `process.exit` or writes to the real console, so
 * tests drive the CLI like a function.
 */
import { Command, CommanderError } from 'commander';
import { registerAlarms } from './alarms.js';
import { type CliIo, type Context, makeContext } from './context.js';
import { registerDashboard } from './dashboard.js';
import { registerDemo } from './demo.js';
import { EXIT_OK, EXIT_USAGE, errorLine, exitCodeOf, oneLine } from './errors.js';
import { registerMcp } from './mcp.js';
import { registerParse } from './parse.js';
import { VERSION } from './version.js';
import { registerWorkflows } from './workflows.js';

export type { CliIo } from './context.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.js';
export { VERSION } from './version.js';

/**
 * Runs one `vigil` command line (without the `node` and script arguments) and resolves with the
 * exit status: 0 on success (and for `--help`, `--version`), 1 when the command failed or was
 * refused, 2 for a malformed command line. Expected errors print one line, `vigil: CODE: message`, on stderr, never a stack trace.
 *
 * @example
 * const code = await run(['parse', 'tomorrow at 9am', '--tz', 'Europe/Paris'], {
 *   stdout: (t) => process.stdout.write(t),
 *   stderr: (t) => process.stderr.write(t),
 * });
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = makeContext(io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version print and end normally; every other commander error is a usage
      // error it has already reported through `outputError`.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      // `vigil help` asked for help (0); help shown because a group got no command is a usage error.
      if (err.code === 'commander.help' && err.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    ctx.err(errorLine(err));
    return exitCodeOf(err);
  }
}

/** The commander program with every command, writing through `ctx`. @internal */
export function buildProgram(ctx: Context): Command {
  const program = new Command('vigil')
    .description('Inspect, set and cancel Vigil alarms; preview time parsing; run the demo.')
    // Set before any subcommand is added: subcommands copy these settings when created.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.out(text),
      writeErr: (text) => ctx.err(text),
      // One line: commander's own line breaks ('Did you mean list?') become spaces.
      outputError: (text) =>
        ctx.err(
          `vigil: USAGE: ${oneLine(
            text
              .replace(/^error: /, '')
              .trim()
              .replace(/\s*\n\s*/g, ' '),
          )}`,
        ),
    })
    .showSuggestionAfterError()
    .helpCommand(true);
  registerAlarms(program, ctx);
  registerWorkflows(program, ctx);
  registerParse(program, ctx);
  registerDemo(program, ctx);
  registerDashboard(program, ctx);
  registerMcp(program, ctx);
  // `--version` on every command, as `--help` is: `vigil alarms list --version` prints it too.
  const withVersion = (cmd: Command): void => {
    cmd.version(VERSION, '-V, --version', 'print the version of vigil');
    for (const sub of cmd.commands) withVersion(sub);
  };
  withVersion(program);
  return program;
}
