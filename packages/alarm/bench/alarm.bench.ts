/**
 * Alarm benchmark (not a test). Prints one table, every figure beside a bare baseline measured
 * in the same run on the same machine:
 * 1. durable `set` throughput, 100 concurrent callers, synchronous=FULL, file DB in os.tmpdir()
 *    vs a bare better-sqlite3 loop of one insert per transaction at FULL (goal >= 10x);
 * 2. bulk `setMany` of 1000 alarms vs bare batched inserts, 1000 per transaction (goal >= 0.7x);
 * 3. firing lateness p50/p99/max of 10,000 alarms due uniformly over 2 s vs a bare `setTimeout`
 *    per item (goal: p99 no worse than setTimeout's), at FULL with the store on the main thread
 *    and on a worker thread (`storeThread: true`), and at NORMAL for comparison;
 * 4. a backlog of 100,000 due alarms delivered to an in-process target (goal >= 100k/s), one
 *    message per alarm and to a batch target (`batchTargets`);
 * 5. with 1,000,000 pending alarms: restart-to-armed time (goal < 50 ms) and RSS growth from 1k
 *    to 1M pending (goal < 10 MB), each measured in a fresh child process after a forced gc.
 *
 * Run: pnpm --filter @vigil/alarm bench   (tsx bench/alarm.bench.ts; `--only 3` runs one part)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRuntime, type Runtime, reply, worker } from '@vigil/runtime';
import Database from 'better-sqlite3';
import { fromCallback } from 'xstate';
import {
  type AlarmBatch,
  AlarmClient,
  type AlarmInput,
  type AlarmStore,
  alarmSupervisor,
  openSqliteStore,
} from '../src/index.js';

interface Row {
  metric: string;
  vigil: string;
  baseline: string;
  ratio: string;
  goal: string;
  met: boolean | undefined;
}
const rows: Row[] = [];
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const dirs: string[] = [];

function tempFile(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  dirs.push(dir);
  return path.join(dir, name);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A target that answers every delivery at once and calls `onDelivery` first; with `batch`, a
 * batch target (`batchTargets`) answering one `true` per item.
 */
function sink(onDelivery: (event: { alarm: { scheduledFor: number } }) => void = () => {}, batch = false) {
  return fromCallback(({ receive }) => {
    receive((event) => {
      if (batch) {
        const { alarms } = event as unknown as AlarmBatch;
        for (const d of alarms) onDelivery(d);
        reply(
          event,
          alarms.map(() => true),
        );
        return;
      }
      onDelivery(event as unknown as { alarm: { scheduledFor: number } });
      reply(event, true);
    });
  });
}

async function withService<T>(
  db: string,
  run: (runtime: Runtime, client: AlarmClient) => Promise<T>,
  onDelivery?: (event: { alarm: { scheduledFor: number } }) => void,
  options: { synchronous?: 'FULL' | 'NORMAL'; storeThread?: boolean; budget?: number; batch?: boolean } = {},
): Promise<T> {
  const { budget, batch, ...alarmOptions } = options;
  const runtime = createRuntime({ budget });
  await runtime.start([
    worker('Sink', sink(onDelivery, batch)),
    alarmSupervisor({
      db,
      synchronous: 'FULL',
      pollMs: 0,
      ...(batch ? { batchTargets: { Sink: {} } } : {}),
      ...alarmOptions,
    }),
  ]);
  try {
    return await run(runtime, new AlarmClient(runtime, { timeoutMs: 120_000 }));
  } finally {
    await runtime.stop();
  }
}

/** The bare baseline's database: the same schema, created by the store, then a raw connection. */
function bareDb(): Database.Database {
  const file = tempFile('bare.db');
  void openSqliteStore(file).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return db;
}

const INSERT = `INSERT INTO alarms (fire_at, scheduled_for, target, message, key, recurrence, misfire, max_attempts, backoff, created_at)
  VALUES (?, ?, 'Sink', ?, NULL, NULL, NULL, 10, NULL, ?)`;

// ---------------------------------------------------------------------------------------------
// 1. Durable set throughput.

async function setThroughput(): Promise<void> {
  const seconds = 3;
  const far = Date.now() + 86_400_000;
  const vigil = await withService(tempFile('set.db'), async (_runtime, client) => {
    let done = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: 100 }, async (_, caller) => {
        while (performance.now() < until) {
          await client.set(far + done, 'Sink', { type: 'job', caller });
          done++;
        }
      }),
    );
    return done / seconds;
  });
  const db = bareDb();
  const insert = db.prepare(INSERT);
  const tx = db.transaction((i: number) => insert.run(far + i, far + i, '{"type":"job"}', Date.now()));
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < 2000) tx(n++);
  const bare = n / ((performance.now() - start) / 1000);
  db.close();
  rows.push({
    metric: 'durable set, 100 callers, FULL (sets/s)',
    vigil: fmt(vigil),
    baseline: `${fmt(bare)} (1 insert/tx)`,
    ratio: `${fmt(vigil / bare, 1)}x`,
    goal: '>= 10x',
    met: vigil / bare >= 10,
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Bulk set.

async function bulkSet(): Promise<void> {
  const batches = 50;
  const size = 1000;
  const far = Date.now() + 86_400_000;
  const vigil = await withService(tempFile('bulk.db'), async (_runtime, client) => {
    const items: AlarmInput[][] = Array.from({ length: batches }, (_, b) =>
      Array.from({ length: size }, (_, i) => ({
        when: far + b * size + i,
        target: 'Sink',
        message: { type: 'job', n: i },
      })),
    );
    await client.setMany(items[0]!); // warm-up
    const start = performance.now();
    for (const batch of items.slice(1)) await client.setMany(batch);
    return ((batches - 1) * size) / ((performance.now() - start) / 1000);
  });
  const db = bareDb();
  const insert = db.prepare(INSERT);
  const tx = db.transaction((b: number) => {
    for (let i = 0; i < size; i++) {
      const at = far + b * size + i;
      insert.run(at, at, JSON.stringify({ type: 'job', n: i }), Date.now());
    }
  });
  tx(0);
  const start = performance.now();
  for (let b = 1; b < batches; b++) tx(b);
  const bare = ((batches - 1) * size) / ((performance.now() - start) / 1000);
  db.close();
  rows.push({
    metric: 'bulk setMany x1000, FULL (alarms/s)',
    vigil: fmt(vigil),
    baseline: `${fmt(bare)} (1000 inserts/tx)`,
    ratio: `${fmt(vigil / bare, 2)}x`,
    goal: '>= 0.7x',
    met: vigil / bare >= 0.7,
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Firing lateness.

async function lateness(): Promise<void> {
  await latenessAt('FULL');
  // The same at FULL with the store on a worker thread (`storeThread: true`): the fsyncs no
  // longer run on the event loop, so what is left of the tail is the Alarm's own work.
  await latenessAt('FULL', true);
  // Not a goal: the same run without an fsync per commit shows what the fsyncs cost in lateness.
  await latenessAt('NORMAL');
}

async function latenessAt(synchronous: 'FULL' | 'NORMAL', storeThread = false): Promise<void> {
  const count = 10_000;
  const spreadMs = 2000;
  const lead = 1500;
  const vigilLate: number[] = [];
  await withService(
    tempFile('late.db'),
    async (_runtime, client) => {
      const t0 = Date.now() + lead;
      const items = Array.from({ length: count }, (_, i) => ({
        when: t0 + Math.floor((i * spreadMs) / count),
        target: 'Sink',
        message: { type: 'job' },
      }));
      for (let i = 0; i < count; i += 1000) await client.setMany(items.slice(i, i + 1000));
      const deadline = Date.now() + lead + spreadMs + 10_000;
      while (vigilLate.length < count && Date.now() < deadline) await sleep(20);
    },
    (event) => vigilLate.push(Date.now() - event.alarm.scheduledFor),
    { synchronous, storeThread },
  );
  const bareLate: number[] = [];
  await new Promise<void>((resolve) => {
    const t0 = Date.now() + lead;
    for (let i = 0; i < count; i++) {
      const at = t0 + Math.floor((i * spreadMs) / count);
      setTimeout(() => {
        bareLate.push(Date.now() - at);
        if (bareLate.length === count) resolve();
      }, at - Date.now());
    }
  });
  const v = vigilLate.sort((a, b) => a - b);
  const b = bareLate.sort((a, b) => a - b);
  const show = (s: number[]) => `${percentile(s, 50)} / ${percentile(s, 99)} / ${s[s.length - 1]} ms`;
  rows.push({
    metric: `firing lateness p50/p99/max, ${fmt(count)} over 2 s, ${synchronous}${storeThread ? ', store thread' : ''}`,
    vigil: v.length === count ? show(v) : `${v.length}/${count} delivered`,
    baseline: `${show(b)} (setTimeout)`,
    ratio: `p99 ${percentile(v, 99) - percentile(b, 99) >= 0 ? '+' : ''}${percentile(v, 99) - percentile(b, 99)} ms`,
    goal: synchronous === 'FULL' ? 'p99 <= setTimeout p99' : '(for comparison)',
    met: synchronous === 'FULL' ? v.length === count && percentile(v, 99) <= percentile(b, 99) : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Backlog.

async function seed(store: AlarmStore, count: number, fireAt: (i: number) => number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < count; i += 10_000) {
    const n = Math.min(10_000, count - i);
    await store.insert(
      Array.from({ length: n }, (_, j) => ({
        fireAt: fireAt(i + j),
        target: 'Sink',
        message: '{"type":"job"}',
        createdAt: now,
      })),
    );
  }
}

async function backlog(): Promise<void> {
  await backlogWith(undefined);
  // Not a goal: the runtime's mailbox budget (64 messages per actor per turn) bounds how many
  // replies share a commit; the same backlog with a budget of 1024 shows its weight.
  await backlogWith(1024);
  // The target takes its deliveries in batches (`batchTargets`): one call per page.
  await backlogWith(undefined, true);
}

async function backlogWith(budget: number | undefined, batch = false): Promise<void> {
  const count = 100_000;
  const file = tempFile('backlog.db');
  const store = openSqliteStore(file, { synchronous: 'NORMAL' });
  const now = Date.now();
  await seed(store, count, (i) => now - count + i);
  await store.close();
  let delivered = 0;
  const check = new Database(file, { readonly: true });
  const pending = check.prepare(`SELECT count(*) AS n FROM alarms WHERE status = 'pending'`);
  const start = performance.now();
  const elapsed = await withService(
    file,
    async () => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (delivered >= count && (pending.get() as { n: number }).n === 0) break;
        await sleep(5);
      }
      return (performance.now() - start) / 1000;
    },
    () => {
      delivered++;
    },
    { budget, batch },
  );
  check.close();
  const rate = count / elapsed;
  // The baseline: the same deliveries as bare function calls reading and updating one row each
  // in 1024-row transactions (what the Alarm does, minus actors and validation).
  const db = new Database(file);
  db.pragma('synchronous = FULL');
  db.exec(`UPDATE alarms SET status = 'pending', attempts = 0, fired_at = NULL, settled_at = NULL`);
  const due = db.prepare(
    `SELECT id, message FROM alarms WHERE status = 'pending' AND fire_at <= ? ORDER BY fire_at, id LIMIT 1024`,
  );
  const mark = db.prepare(
    `UPDATE alarms SET status = 'fired', fired_at = ?, settled_at = ?, attempts = 1 WHERE id = ?`,
  );
  const markAll = db.transaction((ids: number[], at: number) => {
    for (const id of ids) mark.run(at, at, id);
  });
  let sinkCount = 0;
  const bareStart = performance.now();
  for (;;) {
    const batch = due.all(Date.now()) as { id: number; message: string }[];
    if (batch.length === 0) break;
    for (const r of batch) if (JSON.parse(r.message)) sinkCount++;
    markAll(
      batch.map((r) => r.id),
      Date.now(),
    );
  }
  const bare = sinkCount / ((performance.now() - bareStart) / 1000);
  db.close();
  rows.push({
    metric: batch
      ? `backlog of ${fmt(count)} due, in-process batch target (alarms/s)`
      : `backlog of ${fmt(count)} due, in-process target, budget ${budget ?? 64} (alarms/s)`,
    vigil: fmt(rate),
    baseline: `${fmt(bare)} (bare select+update)`,
    ratio: `${fmt(rate / bare, 2)}x`,
    goal: budget === undefined ? '>= 100,000/s' : '(for comparison)',
    met: budget === undefined ? rate >= 100_000 : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// 5. One million pending: restart-to-armed and RSS, each in a fresh process.

interface ChildReport {
  armedMs: number;
  rssBefore: number;
  rssAfter: number;
}

/** In a child process: start the service on `db`, report time to armed and RSS after a gc. */
async function childMeasure(db: string): Promise<void> {
  const gc = findGc();
  gc();
  const rssBefore = process.memoryUsage().rss;
  const runtime = createRuntime();
  const start = performance.now();
  const armed = runtime.events.waitFor('alarm.armed');
  await runtime.start([worker('Sink', sink()), alarmSupervisor({ db, pollMs: 0 })]);
  await armed;
  const armedMs = performance.now() - start;
  await sleep(200);
  gc();
  await sleep(50);
  gc();
  const report: ChildReport = { armedMs, rssBefore, rssAfter: process.memoryUsage().rss };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await runtime.stop();
}

function findGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function measureInChild(db: string): ChildReport {
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', db], {
    encoding: 'utf8',
    cwd: path.dirname(self),
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`child failed: ${result.stderr}`);
  return JSON.parse(line) as ChildReport;
}

async function million(): Promise<void> {
  const small = tempFile('1k.db');
  const large = tempFile('1m.db');
  const future = Date.now() + 86_400_000;
  for (const [file, count] of [
    [small, 1000],
    [large, 1_000_000],
  ] as const) {
    const store = openSqliteStore(file, { synchronous: 'NORMAL' });
    await seed(store, count, (i) => future + i * 10);
    await store.close();
  }
  // Warm both files into the OS cache once, then measure each in a fresh process (twice, best of).
  measureInChild(small);
  measureInChild(large);
  const a = [measureInChild(small), measureInChild(small)];
  const b = [measureInChild(large), measureInChild(large)];
  const armed = Math.min(...b.map((r) => r.armedMs));
  const armedSmall = Math.min(...a.map((r) => r.armedMs));
  const rssSmall = Math.min(...a.map((r) => r.rssAfter));
  const rssLarge = Math.min(...b.map((r) => r.rssAfter));
  const growthMb = (rssLarge - rssSmall) / 2 ** 20;
  rows.push({
    metric: 'restart-to-armed, 1M pending (ms)',
    vigil: fmt(armed, 1),
    baseline: `${fmt(armedSmall, 1)} (1k pending)`,
    ratio: `${fmt(armed / armedSmall, 2)}x`,
    goal: '< 50 ms',
    met: armed < 50,
  });
  rows.push({
    metric: 'RSS growth 1k -> 1M pending (MB)',
    vigil: fmt(growthMb, 1),
    baseline: `${fmt(rssSmall / 2 ** 20, 1)} MB at 1k`,
    ratio: '',
    goal: '< 10 MB',
    met: growthMb < 10,
  });
}

// ---------------------------------------------------------------------------------------------

function printTable(): void {
  const header: Row = {
    metric: 'metric',
    vigil: 'vigil',
    baseline: 'baseline',
    ratio: 'ratio',
    goal: 'goal',
    met: undefined,
  };
  const cols = ['metric', 'vigil', 'baseline', 'ratio', 'goal'] as const;
  const width = Object.fromEntries(
    cols.map((c) => [c, Math.max(...[header, ...rows].map((r) => String(r[c]).length))]),
  ) as Record<(typeof cols)[number], number>;
  const line = (r: Row, met: string) =>
    `${cols.map((c) => String(r[c]).padEnd(width[c])).join(' | ')} | ${met}`;
  console.log(
    `\nVigil alarm benchmark — node ${process.version}, ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, ${os.platform()}`,
  );
  console.log(line(header, 'met'));
  console.log(
    line({ metric: '-', vigil: '-', baseline: '-', ratio: '-', goal: '-', met: undefined }, '-').replace(
      / /g,
      '-',
    ),
  );
  for (const r of rows) console.log(line(r, r.met === undefined ? '' : r.met ? 'yes' : 'NO'));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    await childMeasure(args[1]!);
    return;
  }
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? Number(args[onlyIndex + 1]) : undefined;
  const parts = [setThroughput, bulkSet, lateness, backlog, million];
  try {
    for (const [i, part] of parts.entries()) {
      if (only !== undefined && only !== i + 1) continue;
      const start = performance.now();
      await part();
      console.error(`part ${i + 1} (${part.name}) took ${fmt((performance.now() - start) / 1000, 1)} s`);
    }
    printTable();
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

await main();
