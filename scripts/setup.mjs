#!/usr/bin/env node
// One-step setup for a machine that has only Node.js (>= 20.19) and npm: installs the pnpm
// pinned in package.json into .tools/pnpm (project-local, ignored by git; a global pnpm, of any
// version, is neither used nor replaced), then the workspace's packages, then builds the
// publishable packages to their dist/ (the `vigil` bin runs compiled JavaScript).
//
// better-sqlite3 compiles a native addon with node-gyp. Where the Node headers are installed
// (/usr/include/node), point node-gyp at them so it does not try to download them: pnpm does
// not read the global npmrc that sets this on such machines.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pinned = JSON.parse(readFileSync(new URL('../package.json', import.meta.url))).packageManager.split(
  '@',
)[1];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Vigil needs Node.js 20.19 or newer; this is ${process.versions.node}.`);
  process.exit(1);
}

const tools = `${root}.tools/pnpm`;
const pnpm = `${tools}/node_modules/.bin/pnpm`;
const run = (file, args, env = process.env) => execFileSync(file, args, { stdio: 'inherit', cwd: root, env });
const installedVersion = () => {
  try {
    return JSON.parse(readFileSync(`${tools}/node_modules/pnpm/package.json`, 'utf8')).version;
  } catch {
    return '';
  }
};

if (installedVersion() !== pinned || !existsSync(pnpm)) {
  console.log(`setup: installing pnpm ${pinned} into .tools/pnpm`);
  // `npm` is a script on Windows (npm.cmd): let the shell find it there.
  execFileSync('npm', ['install', '--prefix', tools, '--no-audit', '--no-fund', `pnpm@${pinned}`], {
    stdio: 'inherit',
    cwd: root,
    shell: process.platform === 'win32',
  });
}

const env = { ...process.env };
if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
run(pnpm, ['install', ...(process.env.CI ? ['--frozen-lockfile'] : [])], env);
run(pnpm, ['run', 'build']);
console.log('setup: done');
