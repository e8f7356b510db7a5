#!/usr/bin/env node
// One-step setup for a machine that has only Node.js (>= 20.19) and npm:
// installs pnpm (pinned in package.json) when missing, then the workspace's packages.
//
// better-sqlite3 compiles a native addon with node-gyp. Where the Node headers are installed
// (/usr/include/node), point node-gyp at them so it does not try to download them: pnpm does
// not read the global npmrc that sets this on such machines.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const pinned = JSON.parse(readFileSync(new URL('../package.json', import.meta.url))).packageManager.split(
  '@',
)[1];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Vigil needs Node.js 20.19 or newer; this is ${process.versions.node}.`);
  process.exit(1);
}

const run = (cmd, env = process.env) => execSync(cmd, { stdio: 'inherit', cwd: root, env });
const version = (cmd) => {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};

if (version('pnpm -v') !== pinned) {
  console.log(`setup: installing pnpm ${pinned}`);
  run(`npm install -g pnpm@${pinned}`);
}

const env = { ...process.env };
if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
const frozen = process.env.CI ? ' --frozen-lockfile' : '';
run(`pnpm install${frozen}`, env);
console.log('setup: done');
