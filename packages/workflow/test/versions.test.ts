/**
 * Workflow versions: 100 runs of version 1 wait for a signal when version 2 is deployed, with a
 * full process restart in between. Matrix of what the new process registers:
 * - v1 and v2: the old runs finish on v1, new runs start on v2;
 * - v2 declaring `migrate` from v1 (v1 removed): the old runs move to v2 at their next step;
 * - v2 alone, no migration: the old runs fail at their next step with the reason.
 * Machine workflows: the stored snapshot carries its version; `migrate` moves it.
 */
import type { ManualClock as Clock, Runtime, VigilEvents } from '@vigil/runtime';
import { ManualClock } from '@vigil/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { defineMachineWorkflow } from '../src/durable-machine.js';
import { InvalidSchedulerOptionError } from '../src/errors.js';
import { schedulerWorker } from '../src/scheduler.js';
import { defineWorkflow, end, waitFor } from '../src/workflow.js';
import { boot, DAY, T0, tempDb } from './scheduler-helpers.js';

let db: string;
let cleanup: () => void;
let clock: Clock;

beforeEach(() => {
  ({ db, cleanup } = tempDb());
  clock = new ManualClock(T0);
});
afterEach(() => cleanup());

const RUNS = 100;

type Ctx = { n: number; migrated?: boolean };

/** v1: welcome, then wait a day for 'confirm'; confirmed or reminded ends the run. */
const v1 = defineWorkflow<Ctx>({
  name: 'signup',
  start: 'welcome',
  steps: {
    welcome: ({ context }) =>
      waitFor('confirm', { onSignal: 'confirmed', timeout: '1 day', onTimeout: 'remind', context }),
    confirmed: () => end({ result: 'v1 confirmed' }),
    remind: () => end({ result: 'v1 reminded' }),
  },
});

/** v2 renames the steps; `withMigration` declares how a v1 run moves onto it. */
function v2(withMigration: boolean) {
  return defineWorkflow<Ctx>({
    name: 'signup',
    version: 2,
    start: 'hello',
    steps: {
      hello: ({ context }) =>
        waitFor('confirm', { onSignal: 'thanks', timeout: '1 day', onTimeout: 'nudge', context }),
      thanks: () => end({ result: 'v2 thanks' }),
      nudge: ({ context }) => end({ result: context.migrated ? 'v2 nudged a v1 run' : 'v2 nudged' }),
    },
    migrate: withMigration
      ? {
          1: ({ step, context }) => ({
            step:
              ({ welcome: 'hello', confirmed: 'thanks', remind: 'nudge' } as Record<string, string>)[step] ??
              step,
            context: { ...(context as Ctx), migrated: true },
          }),
        }
      : {},
  });
}

/** Resolves with the first `n` `workflow.ended` events from now on. */
function ends(runtime: Runtime, n: number): Promise<VigilEvents['workflow.ended'][]> {
  const seen: VigilEvents['workflow.ended'][] = [];
  return new Promise((resolve) => {
    const off = runtime.events.on('workflow.ended', (e) => {
      seen.push(e);
      if (seen.length === n) {
        off();
        resolve(seen);
      }
    });
  });
}

/** Resolves once `n` runs have reached their `waitFor` (the `wait` outcome is committed). */
function waits(runtime: Runtime, n: number): Promise<void> {
  let count = 0;
  return new Promise((resolve) => {
    const off = runtime.events.on('workflow.stepped', (e) => {
      if (e.outcome === 'wait' && ++count === n) {
        off();
        resolve();
      }
    });
  });
}

/** Process 1: v1 only, 100 runs started and waiting; then the process stops. */
async function hundredWaitingOnV1(): Promise<void> {
  const first = await boot(db, clock, [v1]);
  const waiting = waits(first.runtime, RUNS);
  for (let i = 0; i < RUNS; i++)
    await first.workflows.start('signup', { n: i }, { runId: `r${String(i).padStart(3, '0')}` });
  await waiting;
  const runs = await first.workflows.list({ workflow: 'signup' });
  expect(runs.map((r) => [r.status, r.version])).toEqual(Array(RUNS).fill(['waiting', 1]));
  await first.runtime.stop();
}

describe('100 runs of version 1 waiting when version 2 is deployed, across a restart', () => {
  it('v1 still registered: the old runs finish on v1, new runs start on v2', async () => {
    await hundredWaitingOnV1();
    const second = await boot(db, clock, [v1, v2(false)]);
    const fresh = await second.workflows.start('signup', { n: -1 }, { runId: 'new' });
    expect(fresh.version).toBe(2);
    expect(fresh.step).toBe('hello');
    // Half confirm, the other half time out a day later.
    const all = ends(second.runtime, RUNS);
    for (let i = 0; i < RUNS; i += 2)
      await second.workflows.signal(`r${String(i).padStart(3, '0')}`, 'confirm');
    await clock.advance(DAY);
    const ended = await all;
    expect(new Set(ended.map((e) => e.runId)).size).toBe(RUNS);
    expect(ended.every((e) => e.status === 'completed')).toBe(true);
    const runs = await second.workflows.list({ workflow: 'signup', limit: 1000 });
    const old = runs.filter((r) => r.id !== 'new');
    expect(old.map((r) => r.result)).toEqual(
      Array.from({ length: RUNS }, (_, i) => (i % 2 === 0 ? 'v1 confirmed' : 'v1 reminded')),
    );
    expect(old.every((r) => r.version === 1)).toBe(true);
    await second.runtime.stop();
  });

  it('v2 declares migrate from v1 (v1 removed): the runs move to v2 at their next step', async () => {
    await hundredWaitingOnV1();
    const second = await boot(db, clock, [v2(true)]);
    // Nothing moved yet: the move happens at each run's next step, not at boot.
    expect((await second.workflows.get('r000'))?.version).toBe(1);
    const all = ends(second.runtime, RUNS);
    for (let i = 0; i < RUNS; i += 2)
      await second.workflows.signal(`r${String(i).padStart(3, '0')}`, 'confirm');
    await clock.advance(DAY);
    await all;
    const runs = await second.workflows.list({ workflow: 'signup', limit: 1000 });
    expect(runs.map((r) => r.result)).toEqual(
      Array.from({ length: RUNS }, (_, i) => (i % 2 === 0 ? 'v2 thanks' : 'v2 nudged a v1 run')),
    );
    expect(
      runs.every((r) => r.version === 2 && r.status === 'completed' && r.context.migrated === true),
    ).toBe(true);
    const history = (await second.workflows.get('r001'))?.history ?? [];
    expect(history.find((h) => h.outcome === 'migrated')).toMatchObject({
      step: 'nudge',
      detail: 'version 1 -> 2',
    });
    await second.runtime.stop();
  });

  it('v1 removed without a migration: each run fails at its next step with the reason', async () => {
    await hundredWaitingOnV1();
    const second = await boot(db, clock, [v2(false)]);
    // Still waiting after the boot: a run fails at its next step, not before.
    expect((await second.workflows.get('r000'))?.status).toBe('waiting');
    const all = ends(second.runtime, RUNS);
    await clock.advance(DAY);
    const ended = await all;
    expect(ended.every((e) => e.status === 'failed')).toBe(true);
    expect(ended[0]?.error).toBe(
      "workflow 'signup' version 1 is not registered any more (registered: 2) and no version declares a migration from it",
    );
    const run = await second.workflows.get('r042');
    expect(run).toMatchObject({ status: 'failed', version: 1, result: null });
    await second.runtime.stop();
  });
});

describe('a migration that fails', () => {
  it('fails the run with the migration error as the reason', async () => {
    const first = await boot(db, clock, [v1]);
    const waiting = waits(first.runtime, 1);
    await first.workflows.start('signup', { n: 0 }, { runId: 'r' });
    await waiting;
    await first.runtime.stop();
    const broken = defineWorkflow<Ctx>({
      ...v2(false),
      steps: { ...v2(false).steps },
      migrate: {
        1: () => {
          throw new Error('cannot map this context');
        },
      },
    });
    const second = await boot(db, clock, [broken]);
    const ended = ends(second.runtime, 1);
    await clock.advance(DAY);
    expect((await ended)[0]?.error).toBe(
      "migration of workflow 'signup' from version 1 to 2 failed: cannot map this context",
    );
    await second.runtime.stop();
  });
});

describe('machine workflows carry their version', () => {
  const m1 = defineMachineWorkflow({
    name: 'trial',
    machine: createMachine({
      initial: 'active',
      states: { active: { after: { '1 day': 'expired' } }, expired: { type: 'final' } },
    }),
  });
  // v2 keeps the state ids (a delay pending in a stored run is keyed by its state) and moves
  // the context to a new shape.
  const m2 = (withMigration: boolean) =>
    defineMachineWorkflow({
      name: 'trial',
      version: 2,
      machine: createMachine({
        context: ({ input }: { input: unknown }) => ({ plan: 'basic', ...(input as object) }),
        initial: 'active',
        states: { active: { after: { '1 day': 'expired' } }, expired: { type: 'final' } },
      }),
      migrate: withMigration
        ? {
            1: (s) => {
              const snapshot = s as { context: Record<string, unknown> };
              return { ...snapshot, context: { ...snapshot.context, plan: 'legacy' } };
            },
          }
        : {},
    });

  async function oneRunOnV1(): Promise<void> {
    const first = await boot(db, clock, [m1]);
    const run = await first.workflows.start('trial', {}, { runId: 't' });
    expect(run.version).toBe(1);
    await first.runtime.stop();
  }

  it('a changed machine without migration fails the stored run with the reason', async () => {
    await oneRunOnV1();
    const second = await boot(db, clock, [m2(false)]);
    const run = await second.workflows.get('t');
    expect(run).toMatchObject({ status: 'failed', version: 1 });
    expect(run?.error).toContain("workflow 'trial' version 1 is not registered any more");
    await second.runtime.stop();
  });

  it('a changed machine with migrate: the snapshot moves to v2 and the run goes on there', async () => {
    await oneRunOnV1();
    const second = await boot(db, clock, [m2(true)]);
    const ended = ends(second.runtime, 1);
    const moved = await second.workflows.get('t');
    expect(moved).toMatchObject({
      status: 'running',
      version: 2,
      step: '"active"',
      context: { plan: 'legacy' },
    });
    expect(moved?.history.find((h) => h.outcome === 'migrated')?.detail).toBe('version 1 -> 2');
    await clock.advance(DAY);
    expect((await ended)[0]).toMatchObject({ runId: 't', status: 'completed' });
    await second.runtime.stop();
  });
});

describe('registration', () => {
  it('the same version twice is refused; several versions of one name are not', () => {
    expect(() => schedulerWorker({ db, workflows: [v1, v1] })).toThrow(InvalidSchedulerOptionError);
    expect(() => schedulerWorker({ db, workflows: [v1, v1] })).toThrow(
      "workflow 'signup' version 1 is registered twice",
    );
    expect(() => schedulerWorker({ db, workflows: [v1, v2(false)] })).not.toThrow();
  });

  it('a version that is not an integer >= 1 is refused by defineWorkflow', () => {
    expect(() => defineWorkflow({ ...v1, version: 0 })).toThrow(/version must be an integer >= 1/);
    expect(() => defineWorkflow({ ...v1, version: 1.5 })).toThrow(/version must be an integer >= 1/);
  });
});
