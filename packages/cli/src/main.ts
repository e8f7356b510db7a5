/**
 * Entry point of the `vigil` command: `pnpm vigil <command>` from the repository root, or
 * `node --import tsx packages/cli/src/main.ts <command>`.
 */
import { run } from './program.js';

// `pnpm vigil` runs in the repository root; INIT_CWD is where the user typed the command, so a
// relative --db means what they expect.
const code = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.env.INIT_CWD ?? process.cwd(),
});
// exitCode, not exit(): let stdout drain; the store is already closed, so the process ends now.
process.exitCode = code;
