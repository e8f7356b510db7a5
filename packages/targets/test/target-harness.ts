/**
 * Shared fixture for the target tests: a real runtime on a ManualClock with the alarm service on
 * a temporary SQLite file, a record of every event emitted on the bus, and a helper that moves
 * time and then waits (in real time, since HTTP is real loopback I/O) for an alarm's outcome.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmClient, type AlarmOptions, alarmSupervisor } from '@vigil/alarm';
import {
  type ChildSpec,
  createRuntime,
  ManualClock,
  type Runtime,
  type VigilEventName,
} from '@vigil/runtime';

/** Every event name the tests listen to, so emitters that check `has()` emit them. */
const LISTENED: VigilEventName[] = [
  'actor.started',
  'actor.crashed',
  'actor.stopped',
  'actor.restarted',
  'supervisor.escalated',
  'runtime.fatal',
  'runtime.stopped',
  'deadLetter',
  'listener.error',
  'alarm.set',
  'alarm.armed',
  'alarm.fired',
  'alarm.delivered',
  'alarm.retried',
  'alarm.failed',
  'alarm.missed',
  'alarm.cancelled',
  'timer.premature',
  'timer.overdue',
  'pushover.quota',
];

/** The outcome of one delivery attempt, as the Alarm announced it. */
export type Settled =
  | { kind: 'delivered'; attempt: number }
  | { kind: 'retried'; attempt: number; nextAt: number; reason: string }
  | { kind: 'failed'; reason: string };

export interface Harness {
  clock: ManualClock;
  runtime: Runtime;
  alarms: AlarmClient;
  /** Every event emitted on the bus, in order, whatever its name. */
  events: { name: string; payload: unknown }[];
  /** Moves the clock by `ms`, then waits for the next outcome of alarm `id`. */
  advanceUntilSettled(id: number, ms: number, timeoutMs?: number): Promise<Settled>;
  stop(): Promise<void>;
}

/** A fresh database path in its own temporary directory; `cleanup` removes it. */
export function tempDb(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-targets-'));
  return { path: join(dir, 'alarms.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const START = Date.parse('2026-03-02T09:00:00Z');

/** Starts a runtime with the alarm service and `targets`. */
export async function startHarness(
  targets: ChildSpec[],
  options: { db: string; clock?: ManualClock; alarm?: Partial<AlarmOptions> },
): Promise<Harness> {
  const clock = options.clock ?? new ManualClock(START);
  const runtime = createRuntime({ clock });
  const events: Harness['events'] = [];
  const bus = runtime.events;
  const emit = bus.emit.bind(bus);
  // Wrap emit itself, so an event the list above misses is recorded all the same.
  bus.emit = ((name: VigilEventName, payload: never) => {
    events.push({ name, payload });
    emit(name, payload);
  }) as typeof bus.emit;
  for (const name of LISTENED) bus.on(name, () => undefined);

  await runtime.start([
    alarmSupervisor({
      db: options.db,
      pollMs: 0,
      backoff: { minMs: 1000, maxMs: 60_000, factor: 2 },
      ...options.alarm,
    }),
    ...targets,
  ]);

  return {
    clock,
    runtime,
    alarms: new AlarmClient(runtime),
    events,
    async advanceUntilSettled(id, ms, timeoutMs = 5000) {
      const outcome = nextOutcome(runtime, id, timeoutMs);
      await clock.advance(ms);
      return outcome;
    },
    stop: () => runtime.stop(),
  };
}

/** Resolves with the next delivered / retried / failed event of alarm `id`. */
export function nextOutcome(runtime: Runtime, id: number, timeoutMs = 5000): Promise<Settled> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = [];
    const done = (s: Settled) => {
      clearTimeout(timer);
      for (const off of offs) off();
      resolve(s);
    };
    const timer = setTimeout(() => {
      for (const off of offs) off();
      reject(new Error(`alarm ${id} had no outcome within ${timeoutMs} ms`));
    }, timeoutMs);
    offs.push(
      runtime.events.on('alarm.delivered', (e) => {
        if (e.id === id) done({ kind: 'delivered', attempt: e.attempt });
      }),
      runtime.events.on('alarm.retried', (e) => {
        if (e.id === id) done({ kind: 'retried', attempt: e.attempt, nextAt: e.nextAt, reason: e.reason });
      }),
      runtime.events.on('alarm.failed', (e) => {
        if (e.id === id) done({ kind: 'failed', reason: e.reason });
      }),
    );
  });
}

/** Everything a caller could print about a value: JSON, string form, and errors' stacks and causes. */
export function exposed(value: unknown): string {
  const seen = new Set<unknown>();
  const parts: string[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (depth > 6 || v === null || typeof v !== 'object' || seen.has(v)) {
      parts.push(String(v));
      return;
    }
    seen.add(v);
    if (v instanceof Error) {
      parts.push(String(v), v.stack ?? '', v.message);
      visit(v.cause, depth + 1);
    }
    try {
      parts.push(JSON.stringify(v) ?? '');
    } catch {
      parts.push('[unserialisable]');
    }
    for (const key of Object.keys(v)) visit((v as Record<string, unknown>)[key], depth + 1);
  };
  visit(value, 0);
  return parts.join('\n');
}
