/**
 * Where the time of a `set` or `setMany` goes: `pnpm --filter @vigil/bench profile <set|setMany>
 * [--total N] [--out file.cpuprofile]`.
 *
 * Runs the same load as `cases.ts schedule` (`set`: 100 concurrent callers; `setMany`: chunks of
 * 1,000), with V8's sampling profiler (the one `node --cpu-prof` uses) started once the service is
 * up and stopped when the last call resolved, so module loading and startup are not in it. Prints
 * the self time by stage — validation and time parsing, message encoding, the mailbox hops
 * (runtime and XState), the Alarm actor, the insert (SQLite, fsync included: better-sqlite3 runs
 * on this thread), building the answers, GC — and the heaviest functions, and writes the profile
 * (open it in Chrome DevTools or speedscope for the flame graph).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { AlarmClient, type AlarmInput, alarmSupervisor } from '@vigil/alarm';
import { createRuntime, reply, worker } from '@vigil/runtime';
import { fromCallback } from 'xstate';
import { tempDb } from './vigil.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const mode = args[0] === 'setMany' ? 'setMany' : 'set';
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const total = Number(flag('--total') ?? (mode === 'set' ? 20_000 : 100_000));
const out = flag('--out') ?? `${mode}.cpuprofile`;

/** The stage a sample's function belongs to, from its file and name. */
function stageOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting)';
  if (fn === '(program)') return 'V8 (program)';
  if (url.startsWith('node:inspector')) return 'the profiler itself (stopping)';
  if (/alarm\/src\/(parse|duration|recurrence)\.ts/.test(url) || /valibot|chrono-node/.test(url))
    return 'validation + time parsing';
  if (/alarm\/src\/request\.ts/.test(url))
    return /view|toInserted|toAlarm|splitReserved|tryRecurrence|tryDecode/.test(fn)
      ? 'answers (row -> Alarm)'
      : 'validation + time parsing';
  if (/alarm\/src\/message\.ts/.test(url)) return 'message encode/decode';
  if (/alarm\/src\/store\//.test(url) || /better-sqlite3/.test(url)) return 'insert (SQLite + fsync)';
  if (/alarm\/src\/alarm\.ts/.test(url)) return 'Alarm actor (batching, replies)';
  if (/runtime\/src|xstate|eventemitter3/.test(url)) return 'mailbox hops (runtime, XState)';
  if (/alarm\/src\/client\.ts|bench\/src/.test(url)) return 'client + bench loop';
  if (url.startsWith('node:') || url === '') return 'Node internals (promises, timers)';
  return 'other';
}

function summarise(profile: Profile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // A native function (better-sqlite3's `run`, JSON.stringify) has no URL: its time belongs to
  // the stage of the nearest caller that has one.
  const stageOfNode = (id: number): string => {
    const { url, functionName } = byId.get(id)!.callFrame;
    if (url !== '' || functionName.startsWith('(')) return stageOf(url, functionName);
    const up = parent.get(id);
    return up === undefined ? 'other' : stageOfNode(up);
  };
  let sum = 0;
  const stages = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const { url, functionName } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    sum += us;
    const stage = stageOfNode(id);
    stages.set(stage, (stages.get(stage) ?? 0) + us);
    const where = url
      .replace(/^.*\/node_modules\/\.pnpm\/([^/]+)\/.*$/, '$1')
      .replace(/^.*\/(packages|bench)\//, '$1/');
    const key = `${name}  ${where}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  const print = (title: string, m: Map<string, number>, n: number) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
      console.log(
        `${((100 * us) / sum).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      );
  };
  print(`self time by stage (${(sum / 1000).toFixed(0)} ms sampled)`, stages, 20);
  print('heaviest functions (self time)', functions, 25);
}

const sink = fromCallback(({ receive }) => {
  receive((event) => reply(event, true));
});
const db = tempDb();
const runtime = createRuntime({ callTimeoutMs: 120_000 });
await runtime.start([worker('Sink', sink), alarmSupervisor({ db: db.file, synchronous: 'FULL' })]);
const client = new AlarmClient(runtime, { timeoutMs: 120_000 });
const far = Date.now() + 3_600_000;
const item = (i: number): AlarmInput => ({ when: far + i, target: 'Sink', message: { type: 'job' } });
// Warm-up outside the profile: the first calls compile everything on the path.
await client.setMany(Array.from({ length: 1000 }, (_, i) => item(-1 - i)));

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 200 });
await session.post('Profiler.start');
const t0 = performance.now();
if (mode === 'set') {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await client.set(far + i, 'Sink', { type: 'job' });
    }
  };
  await Promise.all(Array.from({ length: 100 }, caller));
} else {
  for (let i = 0; i < total; i += 1000)
    await client.setMany(Array.from({ length: Math.min(1000, total - i) }, (_, j) => item(i + j)));
}
const ms = performance.now() - t0;
const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
session.disconnect();
await runtime.stop();
db.cleanup();
writeFileSync(out, JSON.stringify(profile));
console.log(
  `${mode}: ${total} alarms in ${ms.toFixed(0)} ms = ${Math.round((total / ms) * 1000)}/s (profiled)`,
);
summarise(profile);
console.log(`\nprofile written to ${out}`);
