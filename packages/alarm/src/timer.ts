/**
 * The Timer actor: one armed timer, for the earliest pending alarm.
 *
 * It never sleeps longer than one slice. Node's `setTimeout` fires at once for delays over
 * 2^31-1 ms, and it measures elapsed time, so it does not see wall-clock jumps or a host
 * suspend. Waking every slice and re-reading the wall clock bounds how late an alarm can be
 * after a jump (one slice) and makes it impossible to fire early: the Timer fires only when
 * `clock.now()` has reached the instant, whatever the timers did.
 */
import { type Clock, type EventBus, runtimeOf } from '@vigil/runtime';
import { assign, setup } from 'xstate';

/** What the Timer needs. */
export interface TimerInput {
  /** Registered name of the Alarm actor to wake. */
  alarmName: string;
  /** Longest single sleep, ms. */
  sliceMs: number;
  /** A wake later than planned by more than this is reported as `timer.overdue`. */
  lateWakeMs: number;
  clock: Clock;
  events: EventBus;
}

interface TimerContext extends TimerInput {
  /** The wall-clock instant to fire at, or null when disarmed. */
  at: number | null;
  /** The wall-clock instant the current slice should end at. */
  plannedWake: number;
}

/** Messages the Timer understands. */
export type TimerEvent = { type: 'timer.arm'; at: number } | { type: 'timer.disarm' };

/** The message the Timer sends to the Alarm when the armed instant has come. */
export interface DueMessage {
  type: 'alarm.due';
  at: number;
  lateMs: number;
}

const sliceFor = (c: TimerContext): number => Math.max(0, Math.min((c.at ?? 0) - c.clock.now(), c.sliceMs));

/** The Timer machine: idle, or sleeping one slice at a time towards `at`. */
export const timerMachine = setup({
  types: {} as { context: TimerContext; events: TimerEvent; input: TimerInput },
  delays: {
    slice: ({ context }) => sliceFor(context),
  },
  guards: {
    due: ({ context }) => context.at !== null && context.clock.now() >= context.at,
  },
  actions: {
    plan: assign({ plannedWake: ({ context }) => context.clock.now() + sliceFor(context) }),
    inspectWake: ({ context }) => {
      const now = context.clock.now();
      if (now < context.plannedWake) {
        context.events.emit('timer.premature', { aheadMs: context.plannedWake - now, at: now });
      } else if (now - context.plannedWake > context.lateWakeMs) {
        context.events.emit('timer.overdue', { lateMs: now - context.plannedWake, at: now });
      }
    },
    fire: ({ context, self }) => {
      const now = context.clock.now();
      const at = context.at ?? now;
      const due: DueMessage = { type: 'alarm.due', at, lateMs: now - at };
      runtimeOf(self).send(context.alarmName, due);
    },
  },
}).createMachine({
  id: 'Timer',
  context: ({ input }) => ({ ...input, at: null, plannedWake: 0 }),
  initial: 'idle',
  on: {
    'timer.arm': { target: '.checking', reenter: true, actions: assign({ at: ({ event }) => event.at }) },
    'timer.disarm': { target: '.idle', actions: assign({ at: null }) },
  },
  states: {
    idle: {},
    // An instant already reached fires now. Sleeping first would cost a `setTimeout(0)`, which
    // Node runs a millisecond or more later: the Alarm arms for the next row, and by the time
    // this mailbox gets to it that row is often due (five alarms a millisecond).
    checking: {
      always: [
        { guard: 'due', target: 'idle', actions: ['fire', assign({ at: null })] },
        { target: 'sleeping' },
      ],
    },
    sleeping: {
      entry: 'plan',
      after: { slice: 'woke' },
    },
    woke: {
      entry: 'inspectWake',
      always: 'checking',
    },
  },
});
