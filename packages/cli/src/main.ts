#!/usr/bin/env node
/**
 * Entry point of the `vigil` command (the package's `bin`, compiled to dist/main.js and run by
 * plain `node`). From the repository, `pnpm vigil <command>` runs the same program.
 *
 * `vigil --version` answers before anything else is loaded: it is what scripts call to check the
 * install, and loading commander and the SQLite store for it would triple the start-up time.
 */
const argv = process.argv.slice(2);

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { VERSION } = await import('./version.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  const { run } = await import('./program.js');
  // Under `pnpm vigil` the command runs in the repository root; INIT_CWD is where the user typed
  // it, so a relative --db means what they expect. (npm sets INIT_CWD too, to the same effect.)
  const code = await run(argv, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.env.INIT_CWD || process.cwd(),
  });
  // exitCode, not exit(): let stdout drain; the store is already closed, so the process ends now.
  process.exitCode = code;
}
