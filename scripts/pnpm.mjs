#!/usr/bin/env node
/**
 * Runs the project's pnpm: the version pinned in package.json, installed by `npm run setup` under
 * .tools/pnpm (ignored by git). npm scripts and CI call pnpm through this file, so they neither
 * depend on nor replace a pnpm the user installed globally. Before set-up has run, it falls back
 * to the pnpm on PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const local = fileURLToPath(new URL('../.tools/pnpm/node_modules/.bin/pnpm', import.meta.url));
const r = spawnSync(existsSync(local) ? local : 'pnpm', process.argv.slice(2), { stdio: 'inherit' });
if (r.error) {
  console.error(`pnpm: ${r.error.message} (run \`npm run setup\` first)`);
  process.exit(1);
}
process.exit(r.status ?? 1);
