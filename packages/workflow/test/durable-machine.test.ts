/**
 * Durable XState: a machine whose `after` delays are hours long keeps its state, its context and
 * its pending delays through new runtimes on the same database, and fires at the right instant.
 */
import { ManualClock } from '@vigil/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, createMachine, setup } from 'xstate';
import { defineMachineWorkflow } from '../src/durable-machine.js';
import { boot, HOUR, quiesce, T0, tempDb } from './scheduler-helpers.js';

let db: string;
let cleanup: () => void;
let clock: ManualClock;

beforeEach(() => {
  ({ db, cleanup } = tempDb());
  clock = new ManualClock(T0);
});
afterEach(() => cleanup());

/** A trial: a reminder 3 hours in, expiry 2 hours after that, unless the user upgrades. */
const trialMachine = setup({
  types: {
    context: {} as { user: string; reminders: number; plan: string },
    input: {} as { user: string },
  },
  delays: { twoHours: 2 * HOUR },
}).createMachine({
  id: 'trial',
  context: ({ input }) => ({ user: input.user, reminders: 0, plan: 'trial' }),
  initial: 'trial',
  states: {
    trial: {
      after: {
        // A duration as text: Vigil reads it with parseDuration (XState alone would fire it at once).
        ['3 hours' as never]: {
          target: 'reminded',
          actions: assign({ reminders: ({ context }) => context.reminders + 1 }),
        },
      },
      on: { upgrade: { target: 'paid', actions: assign({ plan: ({ event }) => String(event.plan) }) } },
    },
    reminded: {
      after: { twoHours: 'expired' },
      on: { upgrade: { target: 'paid', actions: assign({ plan: ({ event }) => String(event.plan) }) } },
    },
    expired: { type: 'final' },
    paid: { type: 'final' },
  },
  output: ({ context }) => ({ user: context.user, reminders: context.reminders, plan: context.plan }),
});

const trial = () => defineMachineWorkflow({ name: 'trial', machine: trialMachine });

describe('durable XState delays', () => {
  it('fires an hours-long after at its instant across restarts, with its context intact', async () => {
    let booted = await boot(db, clock, [trial()]);
    const run = await booted.workflows.start('trial', { user: 'ada' }, { runId: 'm1' });
    expect(run.step).toBe('"trial"');
    expect((await booted.alarms.list({ status: 'pending' })).map((a) => a.fireAt)).toEqual([T0 + 3 * HOUR]);
    await clock.advance(HOUR);
    await booted.runtime.stop();

    // A new process, mid-wait: nothing in memory, the delay comes back from the database.
    booted = await boot(db, clock, [trial()]);
    const fired = booted.runtime.events.waitFor('workflow.stepped', (e) => e.outcome === 'delay');
    await clock.advance(2 * HOUR - 1);
    expect((await booted.workflows.get('m1'))?.step).toBe('"trial"');
    await clock.advance(1);
    await quiesce();
    expect(await fired).toMatchObject({ runId: 'm1', step: '"reminded"', at: T0 + 3 * HOUR });
    const reminded = await booted.workflows.get('m1');
    expect(reminded?.context).toEqual({ user: 'ada', reminders: 1, plan: 'trial' });
    expect((await booted.alarms.list({ status: 'pending' })).map((a) => a.fireAt)).toEqual([T0 + 5 * HOUR]);
    await booted.runtime.stop();

    booted = await boot(db, clock, [trial()]);
    const ended = booted.runtime.events.waitFor('workflow.ended', (e) => e.runId === 'm1');
    await clock.advance(2 * HOUR);
    await quiesce();
    expect(await ended).toMatchObject({ status: 'completed', at: T0 + 5 * HOUR });
    const done = await booted.workflows.get('m1');
    expect(done?.status).toBe('completed');
    expect(done?.result).toEqual({ user: 'ada', reminders: 1, plan: 'trial' });
    expect(done?.history.map((h) => [h.outcome, h.step])).toEqual([
      ['start', '"trial"'],
      ['delay', '"reminded"'],
      ['done', '"expired"'],
      ['completed', '"expired"'],
    ]);
    await booted.runtime.stop();
  });

  it('a signal that leaves the state cancels its pending delay', async () => {
    const booted = await boot(db, clock, [trial()]);
    await booted.workflows.start('trial', { user: 'bob' }, { runId: 'm2' });
    await clock.advance(HOUR);
    const after = await booted.workflows.signal('m2', 'upgrade', { plan: 'pro' });
    expect(after.status).toBe('completed');
    expect(after.result).toEqual({ user: 'bob', reminders: 0, plan: 'pro' });
    await quiesce();
    expect(await booted.alarms.list({ status: 'pending' })).toEqual([]);
    await clock.advance(10 * HOUR);
    await quiesce();
    expect((await booted.workflows.get('m2'))?.history.some((h) => h.outcome === 'delay')).toBe(false);
    await booted.runtime.stop();
  });

  it('fails a run whose snapshot the redeployed machine cannot restore, and the others go on', async () => {
    let booted = await boot(db, clock, [trial()]);
    await booted.workflows.start('trial', { user: 'eve' }, { runId: 'm3' });
    await booted.runtime.stop();
    const redeployed = createMachine({ id: 'trial', initial: 'fresh', states: { fresh: {} } });
    booted = await boot(db, clock, [defineMachineWorkflow({ name: 'trial', machine: redeployed })]);
    await quiesce();
    const run = await booted.workflows.get('m3');
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/^cannot restore the machine: /);
    expect(booted.runtime.status('Scheduler')).toBe('running');
    expect(await booted.alarms.list({ status: 'pending' })).toEqual([]);
    await booted.runtime.stop();
  });

  it('refuses an after key that is no number, named delay or duration', () => {
    const bad = createMachine({
      initial: 'a',
      states: { a: { after: { ['whenever' as never]: 'b' } }, b: {} },
    });
    expect(() => defineMachineWorkflow({ name: 'bad', machine: bad })).toThrow(/after 'whenever'/);
  });
});
