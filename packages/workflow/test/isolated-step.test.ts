/**
 * A workflow step whose work runs in an isolated actor (issue 15), end to end on the real runtime
 * and the real clock (the watchdog measures real time): the Alarm, the Timer and the Scheduler
 * stay on the main thread; the step calls an actor in a pool thread.
 *
 * The actor spins on the step's first attempt: the watchdog preempts it (`TURN_TIMEOUT`), the
 * step's call rejects with `CALLEE_EXITED`, the step's throw is recorded as a retry, and the
 * retry comes as a new step alarm after the workflow's backoff; the restarted actor answers the
 * second attempt and the run completes. Each step alarm is delivered once: the retry is the
 * workflow's, not a redelivery.
 */
import { AlarmClient, alarmSupervisor } from '@vigil/alarm';
import {
  createRuntime,
  type Runtime,
  supervisor,
  type ThreadPool,
  threadPool,
  type VigilEventName,
  type VigilEvents,
  worker,
} from '@vigil/runtime';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WorkflowClient } from '../src/client.js';
import { schedulerWorker } from '../src/scheduler.js';
import { defineWorkflow, end } from '../src/workflow.js';
import { tempDb } from './scheduler-helpers.js';

const FIXTURE = new URL('./fixtures/isolated-parser.ts', import.meta.url);

let db: string;
let cleanup: () => void;
let runtime: Runtime | undefined;
let pool: ThreadPool | undefined;
beforeEach(() => {
  ({ db, cleanup } = tempDb());
});
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  await pool?.close();
  pool = undefined;
  cleanup();
});

/** Counts the words of its text in the isolated 'Parser', then ends with the count. */
const countWords = defineWorkflow<{ text: string }>({
  name: 'count-words',
  start: 'parse',
  // A short backoff: the second attempt comes 100 ms after the first one's failure is recorded.
  retry: { maxAttempts: 3, backoff: { minMs: 100, maxMs: 1000, factor: 2 } },
  steps: {
    parse: async ({ context, run, runtime }) => {
      const words = await runtime.call<number>(
        'Parser',
        { type: 'parse', text: context.text, attempt: run.attempt },
        { timeoutMs: 30_000 },
      );
      return end({ result: { words } });
    },
  },
});

/** Its one step calls 'Parser' with a message it spins on at every attempt. */
const alwaysSpins = defineWorkflow({
  name: 'always-spins',
  start: 'spin',
  retry: { maxAttempts: 2, backoff: { minMs: 100, maxMs: 1000, factor: 2 } },
  steps: {
    spin: async ({ runtime }) => {
      await runtime.call('Parser', { type: 'spin' }, { timeoutMs: 30_000 });
      return end();
    },
  },
});

/** Starts the isolated 'Parser' under its own supervisor, the alarm service and the Scheduler. */
async function start(): Promise<Runtime> {
  pool = threadPool({ threads: 1 });
  const rt = createRuntime();
  runtime = rt;
  await rt.start([
    // 1 s, not less: an attempt that answers must never be preempted, even on a loaded machine.
    supervisor('isolated', [worker('Parser', pool.actor(FIXTURE, 'parser', { maxTurnMs: 1000 }))], {
      maxRestarts: 5,
      withinMs: 60_000,
    }),
    alarmSupervisor({ db, pollMs: 0 }),
    schedulerWorker({ db, workflows: [countWords, alwaysSpins] }),
  ]);
  return rt;
}

/** The next `event` for which `match` holds. */
function next<K extends VigilEventName>(
  rt: Runtime,
  event: K,
  match: (payload: VigilEvents[K]) => boolean,
): Promise<VigilEvents[K]> {
  return new Promise((resolve) => {
    const off = rt.events.on(event, (payload) => {
      if (!match(payload)) return;
      off();
      resolve(payload);
    });
  });
}

it('a step whose isolated actor hangs the CPU on the first attempt is preempted, retried by the next step alarm, and the run completes', async () => {
  const rt = await start();
  const crashed = next(rt, 'actor.crashed', (e) => e.name === 'Parser');
  const restarted = next(rt, 'actor.started', (e) => e.name === 'Parser' && e.incarnation === 2);
  const ended = next(rt, 'workflow.ended', (e) => e.runId === 'r1');
  const workflows = new WorkflowClient(rt);

  await workflows.start('count-words', { text: 'one CPU-bound step, preempted once' }, { runId: 'r1' });

  const crash = await crashed;
  const error = crash.reason.kind === 'error' ? (crash.reason.error as Error & { code?: string }) : undefined;
  expect(error?.code).toBe('TURN_TIMEOUT');
  expect(error?.message).toContain("'parse'");
  await restarted;
  expect(await ended).toMatchObject({ status: 'completed', error: null });

  const run = await workflows.get('r1');
  expect(run?.result).toEqual({ words: 5 });
  expect(run?.history.map((h) => [h.seq, h.step, h.attempt, h.outcome])).toEqual([
    [1, 'parse', 1, 'retry'],
    [2, 'parse', 2, 'end'],
  ]);
  expect(run?.history[0]?.detail).toMatch(/'Parser' exited before replying/);
  // One step alarm per attempt, each fired at its first delivery: the retry was the workflow's
  // next step alarm, and nothing was delivered twice.
  const stepAlarms = await new AlarmClient(rt).list({ target: 'Scheduler' });
  expect(stepAlarms.map((a) => [a.key, a.status, a.attempts])).toEqual([
    ['run:r1:1', 'fired', 1],
    ['run:r1:2', 'fired', 1],
  ]);
});

it('a step whose isolated actor hangs the CPU on every attempt fails the run once its attempts run out, with the reason', async () => {
  const rt = await start();
  const crashes: string[] = [];
  rt.events.on('actor.crashed', (e) => {
    if (e.reason.kind === 'error') crashes.push(`${e.name} ${(e.reason.error as { code?: string }).code}`);
  });
  const ended = next(rt, 'workflow.ended', (e) => e.runId === 'r2');
  const workflows = new WorkflowClient(rt);
  await workflows.start('always-spins', {}, { runId: 'r2' });
  const end = await ended;
  expect(end.status).toBe('failed');
  expect(end.error).toMatch(
    /^step 'spin' failed after 2 attempt\(s\): actor 'Parser' exited before replying/,
  );
  expect(crashes).toEqual(['Parser TURN_TIMEOUT', 'Parser TURN_TIMEOUT']);
  const run = await workflows.get('r2');
  expect(run?.history.map((h) => [h.seq, h.attempt, h.outcome])).toEqual([
    [1, 1, 'retry'],
    [2, 2, 'error'],
  ]);
});
