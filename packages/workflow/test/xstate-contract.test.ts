/**
 * The contract with XState's internals that durable machines rely on (durable-machine.ts). XState
 * is pinned exactly; this file is what fails, loudly and by name, when an upgrade changes any of
 * it. If it fails, durable delays are no longer durable: read durable-machine.ts before bumping.
 *
 * What durable-machine.ts assumes:
 * 1. `actor.system.scheduler` has `schedule` and `cancel` methods that can be replaced on the
 *    object, and an `after` of the root machine goes through `schedule(source, target, event,
 *    delay, id)` with source === target === the root actor and a string id; leaving the state
 *    goes through `cancel(source, id)` with the same id. Replaced, no timer reaches the clock.
 * 2. The scheduled event is plain JSON (`xstate.after.<delay>.<state id>`); sending it back to
 *    the actor (restored from its persisted snapshot) takes the delayed transition.
 * 3. A persisted snapshot does not carry the delay, and a restored actor does not schedule it
 *    again (statelyai/xstate#5331): the Scheduler re-arms it from its own record. If XState
 *    starts restoring delays, the Scheduler would count them twice.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, createMachine, type EventObject } from 'xstate';

const machine = createMachine({
  id: 'trial',
  initial: 'active',
  states: {
    active: { after: { 5000: 'expired' }, on: { upgrade: 'paid' } },
    expired: { type: 'final' },
    paid: { type: 'final' },
  },
});

interface Call {
  kind: 'schedule' | 'cancel';
  source: AnyActorRef;
  target?: AnyActorRef;
  event?: EventObject;
  delay?: number;
  id: string | undefined;
}

/** A clock that records what reaches it and never fires. */
function recordingClock() {
  const timeouts: number[] = [];
  return {
    timeouts,
    clock: {
      setTimeout: (_fn: () => void, ms: number) => {
        timeouts.push(ms);
        return timeouts.length;
      },
      clearTimeout: () => undefined,
    },
  };
}

/** Starts an actor with its scheduler replaced as durable-machine.ts replaces it. */
function intercepted(snapshot?: unknown) {
  const { clock, timeouts } = recordingClock();
  const actor = createActor(
    machine,
    snapshot === undefined ? { clock } : { clock, snapshot: snapshot as never },
  );
  const calls: Call[] = [];
  const scheduler = actor.system.scheduler;
  expect(typeof scheduler.schedule).toBe('function');
  expect(typeof scheduler.cancel).toBe('function');
  scheduler.schedule = (source, target, event, delay, id) => {
    calls.push({ kind: 'schedule', source, target, event, delay, id });
  };
  scheduler.cancel = (source, id) => {
    calls.push({ kind: 'cancel', source, id });
  };
  actor.start();
  return { actor, calls, timeouts };
}

describe('XState contract: the root scheduler durable machines replace', () => {
  it('xstate is the exact version this contract was checked against', () => {
    const require = createRequire(import.meta.url);
    const installed = JSON.parse(readFileSync(require.resolve('xstate/package.json'), 'utf8')).version;
    const declared = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(installed).toBe('5.33.3');
    expect(declared.peerDependencies.xstate).toBe(installed);
    expect(declared.devDependencies.xstate).toBe(installed);
  });

  it('an after delay of the root goes through scheduler.schedule, and never reaches the clock', () => {
    const { actor, calls, timeouts } = intercepted();
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.kind).toBe('schedule');
    expect(call?.source).toBe(actor);
    expect(call?.target).toBe(actor);
    expect(call?.delay).toBe(5000);
    expect(typeof call?.id).toBe('string');
    expect(timeouts).toEqual([]);
    actor.stop();
  });

  it('leaving the state cancels the delay by the same id', () => {
    const { actor, calls } = intercepted();
    const scheduledId = calls[0]?.id;
    actor.send({ type: 'upgrade' });
    expect(actor.getSnapshot().value).toBe('paid');
    expect(calls.map((c) => c.kind)).toEqual(['schedule', 'cancel']);
    expect(calls[1]?.source).toBe(actor);
    expect(calls[1]?.id).toBe(scheduledId);
  });

  it('the scheduled event is JSON, and sending it back takes the delayed transition', () => {
    const { actor, calls } = intercepted();
    const event = JSON.parse(JSON.stringify(calls[0]?.event)) as EventObject;
    expect(event.type).toMatch(/^xstate\.after\.5000\./);
    actor.send(event);
    expect(actor.getSnapshot().value).toBe('expired');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('a restored actor does not schedule its delay again (statelyai/xstate#5331)', () => {
    const first = intercepted();
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()));
    const event = first.calls[0]?.event as EventObject;
    first.actor.stop();
    const restored = intercepted(persisted);
    expect(restored.actor.getSnapshot().value).toBe('active');
    expect(restored.calls.filter((c) => c.kind === 'schedule')).toEqual([]);
    expect(restored.timeouts).toEqual([]);
    // The recorded event still fires the transition on the restored actor.
    restored.actor.send(JSON.parse(JSON.stringify(event)));
    expect(restored.actor.getSnapshot().value).toBe('expired');
  });
});
