/**
 * Shared fixtures for the runtime tests: a probe machine that can be told to exit in each of
 * the ways the supervisor matrix needs, an event recorder, and small waiting helpers.
 */
import {
  type AnyActorRef,
  type AnyEventObject,
  type EventObject,
  fromCallback,
  setup,
  spawnChild,
} from 'xstate';
import {
  createRuntime,
  Exit,
  type ExitReason,
  exit,
  ManualClock,
  type Runtime,
  settle,
  type VigilEventName,
  type VigilEvents,
} from '../src/index.js';
import { type ReasonName, reasonOf } from './fixtures/actors.js';

// The logics both modes of test/parity.test.ts run live in a module a pool thread can load.
export { failsOnStart, probe, type ReasonName, reasonOf, stubborn } from './fixtures/actors.js';

export const REASONS: readonly ReasonName[] = ['normal', 'shutdown', 'error', 'killed'];

/**
 * Makes the probe running as `name` exit with `reason`, each the way a real actor would:
 * `normal` by reaching its final state, `error` by throwing in an action, `shutdown` by
 * `exit(self, ...)`, `killed` from outside with `runtime.exit`.
 */
export function makeExit(runtime: Runtime, name: string, reason: ReasonName): void {
  if (reason === 'normal') runtime.send(name, { type: 'STOP' });
  else if (reason === 'error') runtime.send(name, { type: 'CRASH' });
  else if (reason === 'shutdown') runtime.send(name, { type: 'EXIT', reason: 'shutdown' });
  else runtime.exit(name, Exit.killed);
}

/** A runtime on a ManualClock. */
export function manualRuntime(options: { budget?: number; callTimeoutMs?: number } = {}): {
  runtime: Runtime;
  clock: ManualClock;
} {
  const clock = new ManualClock();
  return { runtime: createRuntime({ clock, ...options }), clock };
}

/** Lets mailbox drains, supervisor operations and their promises run to quiescence. */
export function quiesce(): Promise<void> {
  return settle(8);
}

/**
 * One recorded event: its name and payload, loosely typed so a mixed log reads simply
 * (`name` and `reason` are there for the actor events that carry them).
 */
export interface Recorded {
  event: VigilEventName;
  name: string;
  reason: ExitReason;
  [field: string]: unknown;
}

/** Records every listed event, in order, for assertions on sequences. */
export function record(runtime: Runtime, names: VigilEventName[]): Recorded[] {
  const log: Recorded[] = [];
  for (const name of names) {
    runtime.events.on(name, (payload: VigilEvents[typeof name]) =>
      log.push({ event: name, ...payload } as unknown as Recorded),
    );
  }
  return log;
}

/** `name@incarnation` of every `actor.started` so far, e.g. `['A@1', 'B@1', 'A@2']`. */
export function startedLog(runtime: Runtime): string[] {
  const log: string[] = [];
  runtime.events.on('actor.started', (e) => log.push(`${e.name}@${e.incarnation}`));
  return log;
}

/** `{ id: incarnation }` of every child of `supervisor`. */
export function incarnations(runtime: Runtime, supervisor?: string): Record<string, number> {
  return Object.fromEntries(runtime.whichChildren(supervisor).map((c) => [c.id, c.incarnation]));
}

/**
 * Counts the XState actors that really run, per worker name, independent of the registry: every
 * incarnation of a `tracked` machine invokes one tracker and spawns another, each counted from
 * its start until its cleanup runs. An incarnation that is up adds exactly 2 under its name; an
 * incarnation that leaked (or leaked its children) shows as more.
 */
export class LiveActors {
  private readonly counts = new Map<string, number>();
  /** The tracker actor: counts itself under `input.name` while it runs. */
  readonly tracker = fromCallback<EventObject, { name: string }>(({ input }) => {
    this.counts.set(input.name, (this.counts.get(input.name) ?? 0) + 1);
    return () => {
      this.counts.set(input.name, (this.counts.get(input.name) ?? 0) - 1);
    };
  });

  /** Live trackers under `name`. */
  of(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** Live incarnations under `name` (2 trackers each; a half can only come from a leak). */
  incarnationsOf(name: string): number {
    return this.of(name) / 2;
  }

  /** Every live tracker. */
  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** Names with a live tracker. */
  names(): string[] {
    return [...this.counts].filter(([, c]) => c > 0).map(([name]) => name);
  }

  /**
   * A probe (same events as `probe`) that invokes and spawns a tracker. With `readyAfterMs`
   * it starts in `warming` and becomes `ready` after that delay: pair it with `readyWhen:
   * isReady` to make its start slow. `stubborn` ignores `vigil.shutdown`.
   */
  machine(options: { readyAfterMs?: number; stubborn?: boolean } = {}) {
    const running = {
      on: {
        STOP: '#tracked.done',
        CRASH: {
          actions: () => {
            throw new Error('boom');
          },
        },
        EXIT: {
          actions: ({ self, event }: { self: AnyActorRef; event: AnyEventObject }) =>
            exit(self, reasonOf(event.reason)),
        },
        ...(options.stubborn ? {} : { 'vigil.shutdown': '#tracked.done' }),
      },
    };
    return setup({
      types: { context: {} as { name: string }, input: {} as { name: string } },
      actors: { tracker: this.tracker },
    }).createMachine({
      id: 'tracked',
      context: ({ input }: { input: { name: string } }) => ({ name: input.name }),
      invoke: {
        src: 'tracker',
        input: ({ context }: { context: { name: string } }) => ({ name: context.name }),
      },
      entry: spawnChild('tracker', {
        input: ({ context }: { context: { name: string } }) => ({ name: context.name }),
      }),
      initial: options.readyAfterMs === undefined ? 'ready' : 'warming',
      states: {
        warming: { after: { [options.readyAfterMs ?? 0]: 'ready' }, ...running },
        ready: running,
        done: { type: 'final' },
      },
    } as never);
  }
}

/** `readyWhen` for `LiveActors.machine({ readyAfterMs })`. */
export function isReady(snapshot: unknown): boolean {
  return (snapshot as { value?: unknown }).value === 'ready';
}

/** The input every tracked worker needs: its own name. */
export const nameInput = ({ name }: { name: string }) => ({ name });

/** Resolves once the incarnation now running as `name` has exited (its exit event was emitted). */
export function exitOf(runtime: Runtime, name: string): Promise<unknown> {
  return Promise.race([
    runtime.events.waitFor('actor.crashed', (e) => e.name === name),
    runtime.events.waitFor('actor.stopped', (e) => e.name === name),
  ]);
}

/**
 * Resolves once each supervisor in `supervisors` (innermost first) has handled everything queued
 * on it before this call. A supervisor answers its operations in arrival order, so a request
 * queued now (terminateChild of an id no child has) is answered only after the exits and restarts
 * ahead of it: the answer is the event that means "done". A supervisor that is down or gone
 * (it escalated) has nothing left to do.
 */
export async function drained(runtime: Runtime, ...supervisors: string[]): Promise<void> {
  for (const name of supervisors.length > 0 ? supervisors : ['root']) {
    await runtime.terminateChild('(drained)', name).catch(() => {});
  }
}

/** `makeExit`, then waits until the exit was handled by `supervisors` (default: the root). */
export async function exitHandled(
  runtime: Runtime,
  name: string,
  reason: ReasonName,
  ...supervisors: string[]
): Promise<void> {
  const exited = exitOf(runtime, name);
  makeExit(runtime, name, reason);
  await exited;
  await drained(runtime, ...supervisors);
}
