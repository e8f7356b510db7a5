/**
 * An Alarm target that is an isolated actor (issue 15), end to end on the real runtime and the
 * real clock: the Alarm and Timer stay on the main thread, the target runs in a pool thread.
 *
 * - A target that spins on its first delivery is preempted (`TURN_TIMEOUT`), restarted by its
 *   supervisor, and the Alarm's ordinary retry path delivers the alarm again (attempt 2), which
 *   is recorded fired. Meanwhile an alarm for a main-thread target fires on time and a
 *   main-thread actor answers calls.
 * - With `maxTurnMs: 'infinity'` a delivery that runs longer than the default limit is not
 *   preempted: it is delivered at its first attempt.
 *
 * The clock is the system clock because the watchdog measures real time (work, not schedule).
 * Nothing here waits for a fixed time: each step waits for the event that means it happened.
 */
import {
  createRuntime,
  type ExitReason,
  type Runtime,
  reply,
  supervisor,
  type ThreadPool,
  threadPool,
  type VigilEventName,
  type VigilEvents,
  worker,
} from '@vigil/runtime';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type AnyActorLogic, fromCallback } from 'xstate';
import { AlarmClient } from '../src/client.js';
import { alarmSupervisor } from '../src/spec.js';
import { collect, rawRows, type TempDb, tempDb } from './helpers.js';

const FIXTURE = new URL('./fixtures/isolated-target.ts', import.meta.url);

let db: TempDb;
let runtime: Runtime | undefined;
let pool: ThreadPool | undefined;
beforeEach(() => {
  db = tempDb('vigil-isolated-target-');
});
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  await pool?.close();
  pool = undefined;
  db.cleanup();
});

const ping = worker(
  'Ping',
  fromCallback(({ receive }) => receive((e) => reply(e, 'pong'))),
);
/** A main-thread target that accepts every delivery. */
const log = worker(
  'Log',
  fromCallback(({ receive }) => receive((e) => reply(e, true))),
);

/** Starts Ping, Log, the isolated target 'Worker' under its own supervisor, then the alarm service. */
async function start(target: AnyActorLogic): Promise<{ rt: Runtime; alarms: AlarmClient }> {
  const rt = createRuntime();
  runtime = rt;
  await rt.start([
    ping,
    log,
    supervisor('isolated', [worker('Worker', target)], { maxRestarts: 5, withinMs: 60_000 }),
    // A short backoff: the retry after the preemption comes 200 ms later, not the default 1 s.
    alarmSupervisor({ db: db.file, pollMs: 0, backoff: { minMs: 200, maxMs: 1000, factor: 2 } }),
  ]);
  // The thread loads (and compiles) the module on the actor's first start: have that done. On a
  // loaded machine that can take longer than the default call timeout (5 s).
  expect(await rt.call('Worker', { type: 'ping' }, { timeoutMs: 30_000 })).toBe('pong');
  return { rt, alarms: new AlarmClient(rt) };
}

/** The next `event` for which `match` holds, with the instant (performance.now) it was emitted. */
function next<K extends VigilEventName>(
  rt: Runtime,
  event: K,
  match: (payload: VigilEvents[K]) => boolean,
): Promise<VigilEvents[K] & { seenAt: number }> {
  return new Promise((resolve) => {
    const off = rt.events.on(event, (payload) => {
      if (!match(payload)) return;
      off();
      resolve({ ...payload, seenAt: performance.now() });
    });
  });
}

const codeOf = (reason: ExitReason) =>
  reason.kind === 'error' ? (reason.error as { code?: string }).code : reason.kind;

it('a target spinning on its first delivery is preempted, restarted, and the Alarm retries it: fired at attempt 2; meanwhile the main thread fires alarms and answers calls', async () => {
  pool = threadPool({ threads: 1 });
  // Long enough that the main-thread alarm set after the spin began comes due well inside it.
  const maxTurnMs = 2000;
  const { rt, alarms } = await start(pool.actor(FIXTURE, 'target', { maxTurnMs }));
  const crashes = collect(rt, 'actor.crashed');
  const fired = next(rt, 'alarm.fired', (e) => e.target === 'Worker');
  const crashed = next(rt, 'actor.crashed', (e) => e.name === 'Worker');
  const retried = next(rt, 'alarm.retried', (e) => e.target === 'Worker');
  const restarted = next(rt, 'actor.started', (e) => e.name === 'Worker' && e.incarnation === 2);
  const delivered = next(rt, 'alarm.delivered', (e) => e.target === 'Worker');
  const logged = next(rt, 'alarm.delivered', (e) => e.target === 'Log');

  const job = await alarms.set({ in: 50 }, 'Worker', { type: 'job' });
  expect((await fired).attempt).toBe(1);
  // The first delivery is on its way to the thread, which spins on it from now on.
  const note = await alarms.set({ in: 100 }, 'Log', { type: 'note' });
  const pingedAt: number[] = [];
  for (let i = 0; i < 5; i++) {
    expect(await rt.call('Ping', { type: 'ping' })).toBe('pong');
    pingedAt.push(performance.now());
  }

  const noteDone = await logged;
  const crash = await crashed;
  // Both the main-thread alarm and every call were served while the target was still spinning:
  // a main thread blocked by the spin would have served them only after the preemption.
  expect(noteDone.seenAt).toBeLessThan(crash.seenAt);
  expect(Math.max(...pingedAt)).toBeLessThan(crash.seenAt);
  // On time: an idle machine delivers it within a few ms; this one is shared by several test
  // runs on 2 cores, where a turn of the event loop can wait tens of ms for a core. 500 ms is
  // far above that and far below what a main thread blocked by the spin would show (~1.9 s:
  // the rest of the 2 s turn).
  expect(noteDone.attempt).toBe(1);
  expect(noteDone.lateMs).toBeGreaterThanOrEqual(0);
  expect(noteDone.lateMs).toBeLessThan(500);

  expect(codeOf(crash.reason)).toBe('TURN_TIMEOUT');
  expect(crash.reason.kind === 'error' && crash.reason.error.message).toContain("'job'");
  // The unanswered delivery rejected with CALLEE_EXITED, which the Alarm retries with backoff.
  const retry = await retried;
  expect(retry.id).toBe(job.id);
  expect(retry.attempt).toBe(1);
  expect(retry.reason).toMatch(/exited before replying/);
  await restarted;
  const done = await delivered;
  expect(done).toMatchObject({ id: job.id, attempt: 2 });
  // The records say what happened: the job fired at its second attempt, the note at its first.
  const rows = rawRows(db.file);
  expect(rows.find((r) => r.id === job.id)).toMatchObject({ status: 'fired', attempts: 2 });
  expect(rows.find((r) => r.id === note.id)).toMatchObject({ status: 'fired', attempts: 1 });
  // One crash, the preemption; nothing on the main thread crashed.
  expect(crashes.map((c) => c.name)).toEqual(['Worker']);
});

it("with maxTurnMs 'infinity' a delivery that works longer than the default limit is not preempted", async () => {
  pool = threadPool({ threads: 1 });
  const { rt, alarms } = await start(pool.actor(FIXTURE, 'target', { maxTurnMs: 'infinity' }));
  const crashes = collect(rt, 'actor.crashed');
  const delivered = next(rt, 'alarm.delivered', (e) => e.target === 'Worker');
  // 1.5 s of CPU on the first attempt: past the default maxTurnMs (1 s), which would preempt it.
  const job = await alarms.set({ in: 10 }, 'Worker', { type: 'work', busyMs: 1500 });
  expect(await delivered).toMatchObject({ id: job.id, attempt: 1 });
  expect(crashes).toEqual([]);
  expect(rawRows(db.file).find((r) => r.id === job.id)).toMatchObject({ status: 'fired', attempts: 1 });
});

it('a target that spins on every delivery fails the alarm once its attempts run out, with the reason', async () => {
  pool = threadPool({ threads: 1 });
  // 1 s, not less: the answers to 'ping' must never be preempted, even on a loaded machine.
  const { rt, alarms } = await start(pool.actor(FIXTURE, 'target', { maxTurnMs: 1000 }));
  const crashes = collect(rt, 'actor.crashed');
  const failed = next(rt, 'alarm.failed', (e) => e.target === 'Worker');
  const restartedTwice = next(rt, 'actor.started', (e) => e.name === 'Worker' && e.incarnation === 3);
  const job = await alarms.set({ in: 10 }, 'Worker', { type: 'loop' }, { maxAttempts: 2 });
  expect((await failed).reason).toMatch(
    /^gave up after 2 attempt\(s\): actor 'Worker' exited before replying/,
  );
  expect(rawRows(db.file).find((r) => r.id === job.id)).toMatchObject({ status: 'failed', attempts: 2 });
  // Preempted at each attempt, and restarted after each: the target is up again.
  await restartedTwice;
  expect(crashes.map((c) => [c.name, codeOf(c.reason)])).toEqual([
    ['Worker', 'TURN_TIMEOUT'],
    ['Worker', 'TURN_TIMEOUT'],
  ]);
  expect(await rt.call('Worker', { type: 'ping' }, { timeoutMs: 30_000 })).toBe('pong');
});
