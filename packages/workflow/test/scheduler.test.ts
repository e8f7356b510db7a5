/**
 * The Scheduler's workflows of steps: chains with delays that run to the end through crashes of
 * the Scheduler and of the Alarm and through a full restart; retries; cancel; a run whose
 * workflow disappeared.
 */
import { Exit, ManualClock } from '@vigil/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineWorkflow, end, next } from '../src/workflow.js';
import { boot, HOUR, quiesce, T0, tempDb } from './scheduler-helpers.js';

let db: string;
let cleanup: () => void;
let clock: ManualClock;
let calls: { step: string; at: number; attempt: number }[];

beforeEach(() => {
  ({ db, cleanup } = tempDb());
  clock = new ManualClock(T0);
  calls = [];
});
afterEach(() => cleanup());

/** a, then b one hour later, then c two hours later; c ends with the visited steps. */
const chain = () =>
  defineWorkflow<{ visited: string[] }>({
    name: 'chain',
    start: 'a',
    steps: {
      a: ({ context, run }) => {
        calls.push({ step: 'a', at: clock.now(), attempt: run.attempt });
        return next('b', { after: '1 hour', context: { visited: [...context.visited, 'a'] } });
      },
      b: ({ context, run }) => {
        calls.push({ step: 'b', at: clock.now(), attempt: run.attempt });
        return next('c', { after: 2 * HOUR, context: { visited: [...context.visited, 'b'] } });
      },
      c: ({ context, run }) => {
        calls.push({ step: 'c', at: clock.now(), attempt: run.attempt });
        return end({ result: [...context.visited, 'c'] });
      },
    },
  });

describe('a chain of steps with delays', () => {
  it('runs each step once, on time, through crashes of the Scheduler and of the Alarm', async () => {
    const { runtime, workflows } = await boot(db, clock, [chain()]);
    const run = await workflows.start('chain', { visited: [] }, { runId: 'r1' });
    expect(run.status).toBe('running');
    await quiesce();
    expect(calls).toEqual([{ step: 'a', at: T0, attempt: 1 }]);

    runtime.exit('Scheduler', Exit.error(new Error('crash between steps')));
    await quiesce();
    await clock.advance(HOUR - 1);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    await quiesce();
    expect(calls.map((c) => c.step)).toEqual(['a', 'b']);
    expect(calls[1]?.at).toBe(T0 + HOUR);

    runtime.exit('Alarm', Exit.error(new Error('alarm crash')));
    await quiesce();
    await clock.advance(2 * HOUR);
    await quiesce();
    expect(calls.map((c) => [c.step, c.at])).toEqual([
      ['a', T0],
      ['b', T0 + HOUR],
      ['c', T0 + 3 * HOUR],
    ]);
    const done = await workflows.get('r1');
    expect(done?.status).toBe('completed');
    expect(done?.result).toEqual(['a', 'b', 'c']);
    expect(done?.history.map((h) => [h.step, h.outcome])).toEqual([
      ['a', 'next'],
      ['b', 'next'],
      ['c', 'end'],
    ]);
    await runtime.stop();
  });

  it('runs a step again when the Scheduler crashes during it (at least once), then goes on', async () => {
    let crashes = 0;
    const flaky = defineWorkflow({
      name: 'flaky',
      start: 'a',
      steps: {
        a: ({ runtime }) => {
          calls.push({ step: 'a', at: clock.now(), attempt: 1 });
          if (crashes++ === 0) {
            runtime.exit('Scheduler', Exit.error(new Error('crash inside the step')));
            return new Promise<never>(() => {});
          }
          return next('b', { after: '1 hour' });
        },
        b: () => {
          calls.push({ step: 'b', at: clock.now(), attempt: 1 });
          return end();
        },
      },
    });
    const { runtime, workflows } = await boot(db, clock, [flaky]);
    await workflows.start(flaky, {}, { runId: 'r2' });
    await quiesce();
    // The Alarm saw its delivery fail (the Scheduler exited) and retries it after its backoff.
    await clock.advance(1000);
    await quiesce();
    expect(calls.map((c) => c.step)).toEqual(['a', 'a']);
    await clock.advance(HOUR);
    await quiesce();
    expect(calls.map((c) => c.step)).toEqual(['a', 'a', 'b']);
    expect((await workflows.get('r2'))?.status).toBe('completed');
    await runtime.stop();
  });

  it('survives a full stop of the runtime and a new runtime on the same database', async () => {
    let booted = await boot(db, clock, [chain()]);
    await booted.workflows.start('chain', { visited: [] }, { runId: 'r3' });
    await quiesce();
    await booted.runtime.stop();

    await clock.advance(30 * 60_000);
    booted = await boot(db, clock, [chain()]);
    await clock.advance(30 * 60_000);
    await quiesce();
    expect(calls.map((c) => [c.step, c.at])).toEqual([
      ['a', T0],
      ['b', T0 + HOUR],
    ]);
    await booted.runtime.stop();

    // Down past c's instant: c runs at once when the process comes back (misfire: fire).
    await clock.advance(3 * HOUR);
    booted = await boot(db, clock, [chain()]);
    await quiesce();
    expect(calls.map((c) => c.step)).toEqual(['a', 'b', 'c']);
    expect(calls[2]?.at).toBe(T0 + 4 * HOUR);
    const done = await booted.workflows.get('r3');
    expect(done?.status).toBe('completed');
    expect(done?.context).toEqual({ visited: ['a', 'b'] });
    await booted.runtime.stop();
  });

  it('starts at an instant, and starting the same run id twice returns the first run', async () => {
    const { runtime, workflows } = await boot(db, clock, [chain()]);
    const first = await workflows.start('chain', { visited: [] }, { runId: 'r4', at: 'in 2 hours' });
    const again = await workflows.start('chain', { visited: ['x'] }, { runId: 'r4' });
    expect(again.createdAt).toBe(first.createdAt);
    expect(again.context).toEqual({ visited: [] });
    await clock.advance(2 * HOUR - 1);
    expect(calls).toHaveLength(0);
    await clock.advance(1);
    await quiesce();
    expect(calls.map((c) => c.step)).toEqual(['a']);
    await expect(workflows.start('nope', {})).rejects.toMatchObject({ code: 'UNKNOWN_WORKFLOW' });
    await runtime.stop();
  });
});

describe('retries', () => {
  it('retries a step that throws, with backoff, then goes on when it succeeds', async () => {
    const wf = defineWorkflow({
      name: 'retry',
      start: 'call',
      retry: { maxAttempts: 3, backoff: { minMs: 10_000, maxMs: 60_000, factor: 3 } },
      steps: {
        call: ({ run }) => {
          calls.push({ step: 'call', at: clock.now(), attempt: run.attempt });
          if (run.attempt < 3) throw new Error(`upstream 503 (try ${run.attempt})`);
          return end({ result: 'ok' });
        },
      },
    });
    const { runtime, workflows } = await boot(db, clock, [wf]);
    await workflows.start(wf, {}, { runId: 'r5' });
    await quiesce();
    await clock.advance(10_000);
    await quiesce();
    await clock.advance(30_000);
    await quiesce();
    expect(calls).toEqual([
      { step: 'call', at: T0, attempt: 1 },
      { step: 'call', at: T0 + 10_000, attempt: 2 },
      { step: 'call', at: T0 + 40_000, attempt: 3 },
    ]);
    const run = await workflows.get('r5');
    expect(run?.status).toBe('completed');
    expect(run?.history.map((h) => [h.outcome, h.detail])).toEqual([
      ['retry', 'upstream 503 (try 1)'],
      ['retry', 'upstream 503 (try 2)'],
      ['end', '"ok"'],
    ]);
    await runtime.stop();
  });

  it('fails the run with the reason once the attempts are spent', async () => {
    const wf = defineWorkflow({
      name: 'doomed',
      start: 'call',
      retry: { maxAttempts: 2, backoff: { minMs: 1000, maxMs: 1000, factor: 1 } },
      steps: {
        call: () => {
          throw new Error('bad gateway');
        },
      },
    });
    const { runtime, workflows } = await boot(db, clock, [wf]);
    await workflows.start(wf, {}, { runId: 'r6' });
    const ended = runtime.events.waitFor('workflow.ended', (e) => e.runId === 'r6');
    await quiesce();
    await clock.advance(1000);
    await quiesce();
    expect(await ended).toMatchObject({ status: 'failed' });
    const run = await workflows.get('r6');
    expect(run?.status).toBe('failed');
    expect(run?.error).toBe("step 'call' failed after 2 attempt(s): bad gateway");
    await runtime.stop();
  });
});

describe('cancel and vanished workflows', () => {
  it('cancel marks the run cancelled, cancels its pending alarm, and nothing more runs', async () => {
    const { runtime, workflows, alarms } = await boot(db, clock, [chain()]);
    await workflows.start('chain', { visited: [] }, { runId: 'r7' });
    await quiesce();
    const pending = await alarms.list({ status: 'pending' });
    expect(pending).toHaveLength(1);
    const cancelled = await workflows.cancel('r7', 'customer left');
    expect(cancelled?.status).toBe('cancelled');
    expect(cancelled?.error).toBe('customer left');
    await quiesce();
    expect((await alarms.get(pending[0]!.id))?.status).toBe('cancelled');
    await clock.advance(5 * HOUR);
    await quiesce();
    expect(calls.map((c) => c.step)).toEqual(['a']);
    expect(await workflows.cancel('unknown')).toBeNull();
    expect((await workflows.list({ status: 'cancelled' })).map((r) => r.id)).toEqual(['r7']);
    await runtime.stop();
  });

  it('fails a run whose workflow is no longer registered, with the reason', async () => {
    let booted = await boot(db, clock, [chain()]);
    await booted.workflows.start('chain', { visited: [] }, { runId: 'r8' });
    await quiesce();
    await booted.runtime.stop();

    const other = defineWorkflow({ name: 'other', start: 's', steps: { s: () => end() } });
    booted = await boot(db, clock, [other]);
    await quiesce();
    const run = await booted.workflows.get('r8');
    expect(run?.status).toBe('failed');
    expect(run?.error).toBe("workflow 'chain' is not registered");
    await clock.advance(2 * HOUR);
    await quiesce();
    expect(calls.map((c) => c.step)).toEqual(['a']);
    expect((await booted.alarms.list({ status: 'pending' })).length).toBe(0);
    await booted.runtime.stop();
  });
});

describe('start refuses what no alarm can run', () => {
  it('a first step more than 100 years ahead is INVALID_TIME, and no run is stored', async () => {
    const { runtime, workflows } = await boot(db, clock, [chain()]);
    const at = T0 + 101 * 365 * 24 * HOUR;
    await expect(workflows.start('chain', { visited: [] }, { runId: 'far', at })).rejects.toMatchObject({
      code: 'INVALID_TIME',
    });
    expect(await workflows.get('far')).toBeNull();
    expect(await workflows.list()).toEqual([]);
    await runtime.stop();
  });
});
