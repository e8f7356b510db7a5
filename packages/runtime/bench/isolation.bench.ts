/**
 * Isolated actors (threadPool) against in-thread actors, in one run (a benchmark, not a test):
 *  1. call round trip, p50/p99 over 2,000 sequential calls;
 *  2. message throughput: 50,000 sends, then one call that answers after all of them;
 *  3. with one isolated actor spinning at 100% CPU (maxTurnMs 'infinity': never preempted), the
 *     p99 lateness of 200 timers 5 ms apart and of a main-thread ping actor's call latency, vs the
 *     same with no spinner (goal: within 2x and under 10 ms at p99);
 *  4. memory per actor with 1,000 actors: isolated on a pool of 2 threads vs in-thread (RSS
 *     growth after GC; the BEAM's process costs about 0.5 kB).
 *
 * Run: pnpm --filter @vigil/runtime bench   (this file runs after runtime.bench.ts)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { assign, fromCallback, setup } from 'xstate';
import { createRuntime, reply, threadPool, worker } from '../src/index.js';

const FIXTURE = new URL('../test/fixtures/isolated.ts', import.meta.url);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const inThread = setup({
  types: { context: {} as { count: number }, events: {} as { type: string } },
}).createMachine({
  context: { count: 0 },
  on: {
    inc: { actions: assign(({ context }) => ({ count: context.count + 1 })) },
    get: { actions: ({ context, event }) => reply(event, { count: context.count }) },
  },
});
const ping = worker(
  'Ping',
  fromCallback(({ receive }) => receive((e) => reply(e, 'pong'))),
);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const f = (n: number, d = 2) => n.toFixed(d);

async function roundTrip(isolated: boolean): Promise<{ p50: number; p99: number; rate: number }> {
  const pool = threadPool({ threads: 1 });
  const rt = createRuntime();
  await rt.start([worker('C', isolated ? pool.actor(FIXTURE, 'lean') : inThread)]);
  await rt.call('C', { type: 'get' });
  const times: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const t0 = performance.now();
    await rt.call('C', { type: 'get' });
    times.push(performance.now() - t0);
  }
  const n = 50_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) rt.send('C', { type: 'inc' });
  await rt.call('C', { type: 'get' }, { timeoutMs: 60_000 });
  const rate = n / ((performance.now() - t0) / 1000);
  await rt.stop();
  await pool.close();
  return { p50: pct(times, 50), p99: pct(times, 99), rate };
}

async function underSpin(spin: boolean): Promise<{ timerP99: number; pingP99: number }> {
  const pool = threadPool({ threads: 1 });
  const rt = createRuntime();
  await rt.start([ping, worker('Spinner', pool.actor(FIXTURE, 'counter', { maxTurnMs: 'infinity' }))]);
  await rt.call('Spinner', { type: 'get' });
  if (spin) rt.send('Spinner', { type: 'spin' });
  const lateness: number[] = [];
  const timers = new Promise<void>((resolve) => {
    let left = 200;
    const arm = () => {
      const due = performance.now() + 5;
      setTimeout(() => {
        lateness.push(performance.now() - due);
        if (--left === 0) resolve();
        else arm();
      }, 5);
    };
    arm();
  });
  const pings: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    await rt.call('Ping', { type: 'ping' });
    pings.push(performance.now() - t0);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await timers;
  await pool.close(); // ends the spinning thread
  await rt.stop();
  return { timerP99: pct(lateness, 99), pingP99: pct(pings, 99) };
}

async function memory(isolated: boolean): Promise<number> {
  const pool = threadPool({ threads: 2 });
  const rt = createRuntime();
  await rt.start([]);
  gc();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 1_000; i++)
    await rt.startChild(worker(`M${i}`, isolated ? pool.actor(FIXTURE, 'lean') : inThread));
  // Every actor started in its thread (the last one answers after all the starts before it).
  for (let i = 0; i < 1_000; i += 100) await rt.call(`M${i}`, { type: 'get' });
  gc();
  const after = process.memoryUsage().rss;
  await rt.stop();
  await pool.close();
  return (after - before) / 1_000;
}

const a = await roundTrip(false);
const b = await roundTrip(true);
console.log(
  `1. call round trip: in-thread p50 ${f(a.p50, 3)} ms p99 ${f(a.p99, 3)} ms; isolated p50 ${f(b.p50, 3)} ms p99 ${f(b.p99, 3)} ms (p50 ${f(b.p50 / a.p50, 1)}x)`,
);
console.log(
  `2. throughput: in-thread ${f(a.rate, 0)} msg/s; isolated ${f(b.rate, 0)} msg/s (${f(b.rate / a.rate, 2)}x)`,
);
const quiet = await underSpin(false);
const busy = await underSpin(true);
console.log(
  `3. one isolated actor spinning: timer lateness p99 ${f(busy.timerP99)} ms vs ${f(quiet.timerP99)} ms without (${f(busy.timerP99 / Math.max(quiet.timerP99, 0.01), 1)}x); ` +
    `ping call p99 ${f(busy.pingP99)} ms vs ${f(quiet.pingP99)} ms (${f(busy.pingP99 / quiet.pingP99, 1)}x); goal within 2x and < 10 ms`,
);
const mi = await memory(false);
const mt = await memory(true);
console.log(
  `4. memory per actor, 1,000 actors: in-thread ${f(mi / 1024, 1)} kB; isolated on 2 threads ${f(mt / 1024, 1)} kB (BEAM process ~0.5 kB)`,
);
