/**
 * Figures for the MCP server (a benchmark, not a test):
 *  1. `alarm_set` round trip over stdio: the SDK Client -> `vigil mcp --user` child process, 1,000
 *     sequential calls, p50/p99.
 *  2. The same over Streamable HTTP: `vigil mcp --http` child process on 127.0.0.1.
 *  3. Concurrent HTTP sessions one process holds with p99 < 50 ms: N sessions, each its own user
 *     (own token, own subtree, own database), each sets one alarm and then runs rounds of
 *     `alarm_list`, all sessions at once; N doubles until p99 >= 50 ms or N = MAX_SESSIONS.
 *  4. Memory of users: heap after GC of a server with 1,000 users whose alarms are an hour away
 *     (asleep, in the wake index), then with 100 of them connected (running subtrees), against
 *     the same server with no user.
 * Baselines from the same run: the MCP `ping` round trip on the same transport (what the
 * transport and the SDK cost without a tool), and the empty server's heap.
 *
 * Run: pnpm --filter @vigil/mcp bench [stdio|http|sessions|users]  (CALLS=1000 MAX_SESSIONS=512)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { openSqliteStore } from '@vigil/alarm';
import { addToken, createMcpServer } from '../src/index.js';

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

async function timePings(client: Client, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.ping();
    times.push(performance.now() - t0);
  }
  return times;
}

/** alarm_set round trips, then the transport's own ping round trips as the baseline. */
async function roundTrips(client: Client, transport: string): Promise<void> {
  await client.listTools();
  await timeSets(client, 50); // warm-up
  const t = await timeSets(client, CALLS);
  const b = await timePings(client, CALLS);
  console.log(`alarm_set over ${transport}, ${CALLS} calls: p50 ${fmt(pct(t, 50))}, p99 ${fmt(pct(t, 99))}`);
  console.log(
    `  baseline: MCP ping over ${transport}: p50 ${fmt(pct(b, 50))}, p99 ${fmt(pct(b, 99))}` +
      ` (alarm_set p50 = ${(pct(t, 50) / pct(b, 50)).toFixed(1)}x ping)`,
  );
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
  await roundTrips(client, 'stdio');
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
  await roundTrips(client, 'HTTP');
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
    // All sessions call at once, ROUNDS times (lockstep: the worst case for the tail).
    const rounds = async (call: (c: Client) => Promise<unknown>) => {
      const times: number[] = [];
      await Promise.all(clients.map(call)); // warms the new sessions' paths, not counted
      for (let r = 0; r < ROUNDS; r++) {
        await Promise.all(
          clients.map(async (c) => {
            const t0 = performance.now();
            await call(c);
            times.push(performance.now() - t0);
          }),
        );
      }
      return times;
    };
    const times = await rounds((c) => c.callTool({ name: 'alarm_list', arguments: {} }));
    const pings = await rounds((c) => c.ping());
    const p99 = pct(times, 99);
    console.log(
      `${n} concurrent HTTP sessions (one user each), alarm_list: p50 ${fmt(pct(times, 50))}, p99 ${fmt(p99)}` +
        `; baseline MCP ping, same sessions: p50 ${fmt(pct(pings, 50))}, p99 ${fmt(pct(pings, 99))}`,
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

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

async function users(): Promise<void> {
  const data = dataDir([]);
  const template = join(mkdtempSync(join(tmpdir(), 'vigil-mcp-bench-')), 'template.db');
  const store = openSqliteStore(template);
  const now = Date.now();
  await store.insert([{ fireAt: now + 3_600_000, target: 'Inbox', message: '{"text":"x"}', createdAt: now }]);
  await store.close();
  const empty = await createMcpServer({ data });
  const base = heapMiB();
  await empty.close();
  const ids = Array.from({ length: 1_000 }, (_, i) => `u${i}`);
  for (const id of ids) copyFileSync(template, join(data, `${id}.db`));
  const server = await createMcpServer({ data });
  const asleep = heapMiB();
  const runningAsleep = server.runningUsers().length;
  const clients: Client[] = [];
  for (const id of ids.slice(0, 100)) {
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(id, b);
    const c = new Client({ name: 'bench', version: '1' });
    await c.connect(a);
    clients.push(c);
  }
  const active = heapMiB();
  console.log(`users: server with no user: heap ${base.toFixed(1)} MiB (baseline)`);
  console.log(
    `users: 1,000 users asleep (alarms an hour away, ${runningAsleep} running): heap ` +
      `${asleep.toFixed(1)} MiB, ${(((asleep - base) * 1024) / 1000).toFixed(2)} KiB per user`,
  );
  console.log(
    `users: 100 of them connected (${server.runningUsers().length} running subtrees): heap ` +
      `${active.toFixed(1)} MiB, ${(((active - asleep) * 1024) / 100).toFixed(0)} KiB per running user`,
  );
  for (const c of clients) await c.close();
  await server.close();
}

const which = process.argv[2];
if (!which || which === 'stdio') await stdio();
if (!which || which === 'http') await http();
if (!which || which === 'sessions') await sessions();
if (!which || which === 'users') await users();
