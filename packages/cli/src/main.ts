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
  // A relative --db is resolved against this process's working directory, whoever started it.
  // (Not INIT_CWD: inside another project's npm script that names where npm was invoked. The
  // repository's `pnpm vigil` script moves to the caller's directory itself: scripts/vigil.mjs.)
  const code = await run(argv, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
  });
  // exitCode, not exit(): let stdout drain; the store is already closed, so the process ends now.
  process.exitCode = code;
}
