/**
 * `pnpm vigil` and `pnpm vigil:src` from the repository: pnpm runs a root script in the
 * repository root, so a relative `--db` would name a file there. This wrapper moves to the
 * directory the command was typed in (INIT_CWD, which pnpm and npm set for their scripts), then
 * runs the CLI, compiled (`dist`) or from sources (`src`, under tsx). The `vigil` bin itself
 * resolves a relative `--db` against its own working directory, as every command does: INIT_CWD
 * names wherever an outer npm script started, not where vigil runs.
 */
import { pathToFileURL } from 'node:url';

const [, , build, ...args] = process.argv;
if (build !== 'dist' && build !== 'src') {
  process.stderr.write('usage: node scripts/vigil.mjs dist|src <vigil arguments>\n');
  process.exit(2);
}
const entry = new URL(`../packages/cli/${build}/main.${build === 'dist' ? 'js' : 'ts'}`, import.meta.url);
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
// main reads its arguments from process.argv.slice(2).
process.argv = [process.argv[0], entry.pathname, ...args];
await import(pathToFileURL(entry.pathname).href);
