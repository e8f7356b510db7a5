#!/usr/bin/env node
/**
 * The consumer test: Vigil as a user gets it, outside the workspace, with plain npm and node.
 *
 *  1. Packs every publishable package (`pnpm pack`: workspace versions and publishConfig applied)
 *     and checks each tarball: dist/ and README.md only (no src/, test/, tsconfig, api report),
 *     every exported file present, no export condition pointing at sources, no `workspace:` range.
 *  2. Installs the tarballs with npm into a temporary app (`"type": "module"`) in the OS temp dir.
 *  3. Runs the README's "Embedding Vigil" snippet (the ```js block of that section, taken from
 *     README.md, not a copy) with plain `node`, and compares its output with the ```text block
 *     that follows it.
 *  4. Type-checks a TypeScript consumer that imports every entry point of every package, with the
 *     app's own `tsc --strict`, the default `lib` (DOM included) and no skipLibCheck.
 *  5. Runs the installed `vigil` bin: `--version`, `alarms set` and `alarms list`, `demo`, and
 *     `vigil mcp` over stdio (the MCP handshake, the tool list and one `alarm_set` call, spoken
 *     as raw JSON-RPC lines as any MCP client would) and over Streamable HTTP (a token from
 *     `vigil mcp token add`, initialize and `alarm_set`; a wrong token refused).
 *
 * Run: `pnpm test:consumer` (after `npm run setup`; it builds first). Part of .ci/run. npm
 * compiles better-sqlite3 again in the app where no prebuilt binary can be downloaded (a minute
 * or two). The app directory is removed on success and kept, with its path printed, on failure.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'vigil-consumer-'));
const app = join(work, 'app');
const tarballs = join(work, 'tarballs');
mkdirSync(app);
mkdirSync(tarballs);

const env = { ...process.env };
// better-sqlite3 compiles against the installed Node headers when they are there (no download).
if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
// The app must not see the workspace's development condition.
env.NODE_OPTIONS = (env.NODE_OPTIONS ?? '').replace(/--conditions=\S+/g, '').trim();

let failures = 0;
const fail = (what) => {
  failures++;
  console.error(`consumer: FAIL ${what}`);
};
const step = (what) => console.log(`consumer: ${what}`);
const run = (file, args, options = {}) =>
  spawnSync(file, args, { encoding: 'utf8', env, timeout: 600_000, ...options });

// --- 1. Build and pack ----------------------------------------------------------------------

// From clean: `tsc -b` does not delete the output of a source file that was moved or removed,
// and a stale file in dist/ would be packed.
step('building the packages from clean');
for (const args of [['--clean'], []]) {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json', ...args],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({ dir: join(root, 'packages', dir), file: join(root, 'packages', dir, 'package.json') }))
  .filter((p) => existsSync(p.file))
  .map((p) => ({ ...p, json: JSON.parse(readFileSync(p.file, 'utf8')) }))
  .filter((p) => !p.json.private);
if (packages.length === 0) throw new Error('no publishable package found');

for (const p of packages) {
  const r = run(process.execPath, [join(root, 'scripts/pnpm.mjs'), 'pack', '--pack-destination', tarballs], {
    cwd: p.dir,
  });
  if (r.status !== 0) throw new Error(`pnpm pack failed in ${p.dir}:\n${r.stdout}${r.stderr}`);
  p.tarball = join(tarballs, `${p.json.name.replace(/^@/, '').replace('/', '-')}-${p.json.version}.tgz`);
  if (!existsSync(p.tarball)) throw new Error(`pnpm pack wrote no ${p.tarball}`);

  const files = run('tar', ['-tzf', p.tarball]).stdout.trim().split('\n');
  const packed = JSON.parse(run('tar', ['-xzOf', p.tarball, 'package/package.json']).stdout);
  const name = p.json.name;
  for (const f of files) {
    if (!/^package\/(dist\/|assets\/|README\.md$|package\.json$|LICENSE$)/.test(f))
      fail(`${name}: tarball holds ${f}`);
    if (/\/(test|src)\/|tsconfig[^/]*\.json$|\.tsbuildinfo$/.test(f)) fail(`${name}: tarball holds ${f}`);
  }
  if (!files.includes('package/README.md')) fail(`${name}: tarball has no README.md`);
  const entries = JSON.stringify([packed.exports, packed.bin, packed.main, packed.types]);
  if (/@vigil\/source|\bsrc\/|\.ts"/.test(entries.replaceAll('.d.ts"', '')))
    fail(`${name}: packed exports point at sources`);
  if (JSON.stringify(packed).includes('workspace:'))
    fail(`${name}: packed package.json keeps a workspace: range`);
  if (packed.private) fail(`${name}: packed package.json is private`);
  for (const [subpath, target] of Object.entries(packed.exports ?? {})) {
    for (const file of [target.import, target.types]) {
      if (!files.includes(`package/${file.replace(/^\.\//, '')}`))
        fail(`${name} (${subpath}): ${file} missing`);
    }
  }
  for (const bin of Object.values(packed.bin ?? {})) {
    if (!files.includes(`package/${bin.replace(/^\.\//, '')}`)) fail(`${name}: bin ${bin} missing`);
  }
  p.packed = packed;
  step(`packed ${name}@${p.json.version} (${files.length} files)`);
}

// --- 2. Install into an app outside the workspace --------------------------------------------

const dependencies = Object.fromEntries(packages.map((p) => [p.json.name, `file:${p.tarball}`]));
writeFileSync(
  join(app, 'package.json'),
  `${JSON.stringify(
    {
      name: 'vigil-consumer',
      private: true,
      type: 'module',
      dependencies,
      devDependencies: {
        typescript: rootPackage.devDependencies.typescript,
        '@types/node': rootPackage.devDependencies['@types/node'],
      },
      // The packages depend on each other by version, and none is on a registry yet: every
      // @vigil/* dependency is the tarball the app names.
      overrides: Object.fromEntries(packages.map((p) => [p.json.name, `$${p.json.name}`])),
    },
    null,
    2,
  )}\n`,
);
step(`npm install in ${app}`);
const install = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
  cwd: app,
  stdio: 'inherit',
});
if (install.status !== 0) throw new Error(`npm install failed in ${app}`);

// --- 3. The README's snippet, with plain node --------------------------------------------------

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Embedding Vigil'));
const code = /```js\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n## ', 3)));
const printed = code && /```text\n([\s\S]*?)```/.exec(section.slice(code.index + code[0].length));
if (!code || !printed) {
  fail('README.md: "Embedding Vigil" needs a ```js block followed by a ```text block of what it prints');
} else {
  writeFileSync(join(app, 'app.mjs'), code[1]);
  // The snippet is an app: it keeps running until SIGTERM. Wait until it has printed what the
  // README says (or 60 s), then stop it as a service manager would; it must exit 0.
  const r = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['app.mjs'], { cwd: app, env });
    let stdout = '';
    let stderr = '';
    const stop = () => child.kill('SIGTERM');
    const timer = setTimeout(stop, 60_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.length >= printed[1].length) stop();
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
  // The step's line comes from another actor's turn: compared as a set of lines, not in order.
  const lines = (text) => text.split('\n').sort().join('\n');
  if (r.status !== 0 || lines(r.stdout) !== lines(printed[1])) {
    fail(
      `README snippet: exit ${r.status}${r.signal ? ` (${r.signal})` : ''}, printed:\n${r.stdout}${r.stderr}` +
        `\nexpected:\n${printed[1]}`,
    );
  } else step(`README snippet ran with plain node and printed what the README says`);
}

// The worker-thread store loads its thread from compiled JavaScript: no tsx, no loader.
writeFileSync(
  join(app, 'thread.mjs'),
  [
    `import { openWorkerStore } from '@vigil/alarm';`,
    `const store = openWorkerStore('thread.db');`,
    `await store.insert([{ fireAt: Date.now() + 60_000, target: 'Log', message: '{}', createdAt: Date.now() }]);`,
    'console.log((await store.list({ limit: 10 })).length);',
    'await store.close();',
    '',
  ].join('\n'),
);
const thread = run(process.execPath, ['thread.mjs'], { cwd: app, timeout: 60_000 });
if (thread.status !== 0 || thread.stdout !== '1\n') {
  fail(`worker-thread store with plain node: exit ${thread.status}\n${thread.stdout}${thread.stderr}`);
} else step('the worker-thread store ran from compiled JavaScript');

// --- 4. A TypeScript consumer of every entry point -------------------------------------------

const imports = packages.flatMap((p) =>
  Object.keys(p.packed.exports).map((subpath, i) => ({
    specifier: subpath === '.' ? p.json.name : `${p.json.name}/${subpath.replace(/^\.\//, '')}`,
    local: `${p.json.name.replace(/^@vigil\//, '')}${i}`,
  })),
);
writeFileSync(
  join(app, 'consumer.ts'),
  [
    ...imports.map((m) => `import * as ${m.local} from '${m.specifier}';`),
    `import { createRuntime, worker } from '@vigil/runtime';`,
    `import { AlarmClient, alarmSupervisor } from '@vigil/alarm';`,
    `import { defineTarget } from '@vigil/targets';`,
    '',
    `const modules: object[] = [${imports.map((m) => m.local).join(', ')}];`,
    `const inbox = defineTarget(async (delivery: { type: 'note'; text: string }) => {`,
    '  console.log(delivery.text);',
    '});',
    `const runtime = createRuntime();`,
    `await runtime.start([alarmSupervisor({ db: 'typed.db' }), worker('Inbox', inbox)]);`,
    `const alarm = await new AlarmClient(runtime).set('in 1 hour', 'Inbox', { type: 'note', text: 'hi' });`,
    `const id: number = alarm.id;`,
    `console.log(modules.length, id);`,
    'await runtime.stop();',
    '',
  ].join('\n'),
);
writeFileSync(
  join(app, 'tsconfig.json'),
  `${JSON.stringify(
    {
      // No `lib` (the default for the target, DOM included), no skipLibCheck: what `tsc --init`
      // users get, checking every declaration file the packages ship and depend on.
      compilerOptions: {
        strict: true,
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        noEmit: true,
      },
      files: ['consumer.ts'],
    },
    null,
    2,
  )}\n`,
);
const tsc = run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
  cwd: app,
});
if (tsc.status !== 0) fail(`tsc --strict on a consumer of every package:\n${tsc.stdout}${tsc.stderr}`);
else step(`tsc --strict type-checked a consumer of ${imports.length} entry points`);

// --- 5. The installed bin ----------------------------------------------------------------------

const vigil = join(app, 'node_modules/.bin/vigil');
const cli = packages.find((p) => p.packed.bin?.vigil);
const version = run(vigil, ['--version'], { cwd: app });
if (version.status !== 0 || version.stdout !== `${cli.json.version}\n`) {
  fail(`vigil --version: exit ${version.status}, printed ${JSON.stringify(version.stdout + version.stderr)}`);
} else step(`vigil --version printed ${version.stdout.trim()}`);

const set = run(
  vigil,
  ['alarms', 'set', 'in 1 hour', '--target', 'Log', '--message', '{"n":1}', '--db', 'cli.db'],
  {
    cwd: app,
  },
);
const list = run(vigil, ['alarms', 'list', '--db', 'cli.db', '--json'], { cwd: app });
let listed = [];
try {
  listed = JSON.parse(list.stdout);
} catch {}
if (
  set.status !== 0 ||
  list.status !== 0 ||
  listed.length !== 1 ||
  listed[0].target !== 'Log' ||
  set.stderr
) {
  fail(
    `vigil alarms set/list: ${set.status} ${set.stdout}${set.stderr} / ${list.status} ${list.stdout}${list.stderr}`,
  );
} else step('vigil alarms set, then alarms list --json, on an app database');

// The demo ships in the package: it runs from node_modules, not from a path into the repository.
const demo = run(vigil, ['demo'], { cwd: app, timeout: 120_000 });
if (demo.status !== 0 || !/none lost/.test(demo.stdout)) {
  fail(`vigil demo: exit ${demo.status}\n${demo.stdout.slice(-2000)}${demo.stderr}`);
} else step('vigil demo ran from the installed package');

// `vigil mcp` from the installed package: an MCP client's session over stdio, newline-delimited
// JSON-RPC (the transport's framing), without the SDK on this side.
async function mcpSession() {
  const child = spawn(vigil, ['mcp', '--data', join(app, 'mcp-data'), '--user', 'ada'], { cwd: app, env });
  const answers = new Map();
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const message = JSON.parse(line);
      answers.get(message.id)?.(message);
    }
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let nextId = 0;
  const request = (method, params) => {
    const id = ++nextId;
    const answer = new Promise((resolve, reject) => {
      answers.set(id, resolve);
      setTimeout(
        () => reject(new Error(`no answer to ${method} in 60 s; stderr: ${stderr}`)),
        60_000,
      ).unref();
    });
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return answer;
  };
  try {
    const init = await request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'vigil-consumer', version: '1.0.0' },
    });
    if (!init.result?.serverInfo) throw new Error(`initialize: ${JSON.stringify(init)}`);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    const tools = (await request('tools/list', {})).result?.tools?.map((t) => t.name) ?? [];
    if (!tools.includes('alarm_set') || !tools.includes('workflow_start')) {
      throw new Error(`tools/list: ${tools.join(', ')}`);
    }
    const set = await request('tools/call', {
      name: 'alarm_set',
      arguments: { when: 'in 1 hour', target: 'Inbox', message: 'from the consumer test' },
    });
    const alarm = set.result?.structuredContent?.alarm;
    if (set.result?.isError || alarm?.status !== 'pending')
      throw new Error(`alarm_set: ${JSON.stringify(set)}`);
    return `${tools.length} tools, alarm #${alarm.id} pending`;
  } finally {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
try {
  step(`vigil mcp over stdio from the installed package: ${await mcpSession()}`);
} catch (err) {
  fail(`vigil mcp: ${err.message}`);
}

// `vigil mcp --http` from the installed package: a token made by `vigil mcp token add`, then an
// MCP session over Streamable HTTP (initialize, then alarm_set), and a wrong token refused.
async function mcpHttp() {
  const data = join(app, 'mcp-http-data');
  const added = run(vigil, ['mcp', 'token', 'add', '--data', data, '--user', 'bob'], { cwd: app });
  const token = added.stdout.trim();
  if (added.status !== 0 || !token) throw new Error(`token add: ${added.status} ${added.stderr}`);
  const child = spawn(vigil, ['mcp', '--data', data, '--http', '--port', '0'], { cwd: app, env });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const url = await new Promise((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`not listening in 60 s: ${stderr}`)), 60_000);
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        const m = /listening on (http:\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const post = (body, headers = {}) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${token}`,
          ...headers,
        },
        body: JSON.stringify(body),
      });
    const init = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'vigil-consumer', version: '1' },
      },
    });
    const session = init.headers.get('mcp-session-id');
    if (init.status !== 200 || !session) throw new Error(`initialize: ${init.status} ${await init.text()}`);
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    const set = await post(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {
          name: 'alarm_set',
          arguments: { when: 'in 1 hour', target: 'Inbox', message: 'over HTTP' },
        },
      },
      headers,
    );
    const answer = await set.json();
    const alarm = answer.result?.structuredContent?.alarm;
    if (answer.result?.isError || alarm?.status !== 'pending')
      throw new Error(`alarm_set: ${JSON.stringify(answer)}`);
    const wrong = await post(
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      { authorization: 'Bearer nope' },
    );
    if (wrong.status !== 401) throw new Error(`a wrong token got ${wrong.status}, not 401`);
    return `alarm #${alarm.id} pending, a wrong token refused with 401`;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
try {
  step(`vigil mcp over Streamable HTTP from the installed package: ${await mcpHttp()}`);
} catch (err) {
  fail(`vigil mcp --http: ${err.message}`);
}

// --- Outcome -------------------------------------------------------------------------------

if (failures > 0) {
  console.error(`consumer: ${failures} failed; the app is kept in ${app}`);
  process.exit(1);
}
rmSync(work, { recursive: true, force: true });
console.log('consumer: every check passed');
