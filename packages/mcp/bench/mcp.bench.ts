/**
 * Figures for the MCP server (a benchmark, not a test):
 *  1. `alarm_set` round trip over stdio: the SDK Client -> `vigil mcp --user` child process, 1,000
 *     sequential calls, p50/p99.
 *  2. The same over Streamable HTTP: `vigil mcp --http` child process on 127.0.0.1.
 *  3. Concurrent HTTP sessions one process holds with p99 < 50 ms: N sessions, each its own user
 *     (own token, own subtree, own database), each sets one alarm and then runs rounds of
 *     `alarm_list`, all sessions at once; N doubles until p99 >= 50 ms or N = MAX_SESSIONS.
 *
 * Run: pnpm --filter @vigil/mcp bench   (N=1000 CALLS=1000 MAX_SESSIONS=512 to change)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { addToken } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/src/main.ts');
const CALLS = Number(process.env.CALLS ?? 1000);
const MAX_SESSIONS = Number(process.env.MAX_SESSIONS ?? 512);
const ROUNDS = 5;

function dataDir(users: string[]): string {
  const data = mkdtempSync(join(tmpdir(), 'vigil-mcp-bench-'));
  const policy = { maxSetsPerMinute: 1e9, maxPendingAlarms: 1e9 };
  writeFileSync(join(data, 'users.json'), JSON.stringify(users.map((id) => ({ id, policy }))));
  return data;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function timeSets(client: Client, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await client.callTool({
      name: 'alarm_set',
      arguments: { when: 'in 1 hour', target: 'Inbox', message: `m${i}` },
    });
    times.push(performance.now() - t0);
    if (r.isError) throw new Error(JSON.stringify(r.content));
  }
  return times;
}

async function stdio(): Promise<void> {
  const data = dataDir(['bench']);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--conditions=@vigil/source', '--import', 'tsx', CLI, 'mcp', '--data', data, '--user', 'bench'],
    cwd: ROOT,
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  await client.listTools();
  await timeSets(client, 50); // warm-up
  const t = await timeSets(client, CALLS);
  console.log(`alarm_set over stdio, ${CALLS} calls: p50 ${fmt(pct(t, 50))}, p99 ${fmt(pct(t, 99))}`);
  await client.close();
}

function serveHttp(data: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@vigil/source', '--import', 'tsx', CLI, 'mcp', '--data', data, '--http', '--port', '0'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return new Promise((res, rej) => {
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on (http:\S+)/.exec(err);
      if (m?.[1]) res({ url: m[1], child });
    });
    child.once('exit', (code) => rej(new Error(`exited ${code}: ${err}`)));
  });
}

async function httpClient(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

async function http(): Promise<void> {
  const data = dataDir(['bench']);
  const { token } = await addToken(data, 'bench');
  const { url, child } = await serveHttp(data);
  const client = await httpClient(url, token);
  await client.listTools();
  await timeSets(client, 50);
  const t = await timeSets(client, CALLS);
  console.log(`alarm_set over HTTP, ${CALLS} calls: p50 ${fmt(pct(t, 50))}, p99 ${fmt(pct(t, 99))}`);
  await client.close();
  child.kill('SIGTERM');
}

async function sessions(): Promise<void> {
  const users = Array.from({ length: MAX_SESSIONS }, (_, i) => `u${i}`);
  const data = dataDir(users);
  const tokens: string[] = [];
  for (const u of users) tokens.push((await addToken(data, u)).token);
  const { url, child } = await serveHttp(data);
  const clients: Client[] = [];
  let best = 0;
  for (let n = 8; n <= MAX_SESSIONS; n *= 2) {
    while (clients.length < n) {
      const c = await httpClient(url, tokens[clients.length] as string);
      await c.callTool({
        name: 'alarm_set',
        arguments: { when: 'in 1 hour', target: 'Inbox', message: 'x' },
      });
      clients.push(c);
    }
    const times: number[] = [];
    // One round to warm the new sessions' paths, not counted.
    await Promise.all(clients.map((c) => c.callTool({ name: 'alarm_list', arguments: {} })));
    for (let r = 0; r < ROUNDS; r++) {
      await Promise.all(
        clients.map(async (c) => {
          const t0 = performance.now();
          await c.callTool({ name: 'alarm_list', arguments: {} });
          times.push(performance.now() - t0);
        }),
      );
    }
    const p99 = pct(times, 99);
    console.log(
      `${n} concurrent HTTP sessions (one user each), alarm_list: p50 ${fmt(pct(times, 50))}, p99 ${fmt(p99)}`,
    );
    if (p99 >= 50) break;
    best = n;
  }
  console.log(
    `=> sessions held with p99 < 50 ms: ${best}${best === MAX_SESSIONS ? ` (the most tried)` : ''}`,
  );
  for (const c of clients) await c.close().catch(() => undefined);
  child.kill('SIGTERM');
}

const which = process.argv[2];
if (!which || which === 'stdio') await stdio();
if (!which || which === 'http') await http();
if (!which || which === 'sessions') await sessions();
