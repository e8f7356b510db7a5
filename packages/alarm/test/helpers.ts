/**
 * Shared fixtures for the Alarm and Timer tests: a temp-dir database, a recording target whose
 * behaviour each test chooses, a store wrapper that logs calls, and a harness that starts the
 * alarm service on a ManualClock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createRuntime,
  Exit,
  exit,
  ManualClock,
  type Runtime,
  reply,
  replyError,
  settle,
  VigilError,
  type VigilEventName,
  type VigilEvents,
  worker,
} from '@vigil/runtime';
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { type AnyActorLogic, fromCallback } from 'xstate';
import { AlarmClient } from '../src/client.js';
import type { AlarmOptions } from '../src/options.js';
import type { Delivery } from '../src/request.js';
import { alarmSupervisor } from '../src/spec.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmRow, AlarmStore, NewAlarm } from '../src/store/types.js';
import '../src/events.js';

/** 2026-01-01T00:00:00Z: every ManualClock test starts here. */
export const T0 = Date.UTC(2026, 0, 1);

/** A fresh directory with a database path in it; `cleanup` removes it. */
export function tempDb(prefix = 'vigil-alarm-'): { dir: string; file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    file: path.join(dir, 'alarms.db'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A temporary database (see `tempDb`). */
export type TempDb = ReturnType<typeof tempDb>;

/** What `perTest` gives a test file: this test's database, and a slot for its harness. */
export interface PerTest {
  db: TempDb;
  h: Harness | undefined;
}

/**
 * A fresh database for every test of the file, and a harness slot: after each test the harness
 * put in `h` is stopped and the database directory removed.
 */
export function perTest(): PerTest {
  const t = { h: undefined } as PerTest;
  beforeEach(() => {
    t.db = tempDb();
  });
  afterEach(async () => {
    await t.h?.stop();
    t.h = undefined;
    t.db.cleanup();
  });
  return t;
}

/** Writes `count` alarms for target 'Log' straight into the store at `file`, as a process that was down left them. */
export async function seed(file: string, count: number, fireAt: (i: number) => number): Promise<void> {
  const store = openSqliteStore(file);
  const rows: NewAlarm[] = Array.from({ length: count }, (_, i) => ({
    fireAt: fireAt(i),
    target: 'Log',
    message: `{"i":${i}}`,
    createdAt: T0,
  }));
  await store.insert(rows);
  await store.close();
}

/** Every row of the table, read through a separate raw connection (what is really on disk). */
export function rawRows(file: string): AlarmRow[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT id, fire_at AS fireAt, target, message, status, attempts, last_error AS lastError,
         created_at AS createdAt, fired_at AS firedAt, settled_at AS settledAt, key, recurrence,
         misfire, max_attempts AS maxAttempts, backoff, scheduled_for AS scheduledFor
         FROM alarms ORDER BY id`,
      )
      .all() as AlarmRow[];
  } finally {
    db.close();
  }
}

/** Runs `sql` on a separate raw connection: a write behind the running store's back. */
export function rawExec(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

/** What a recording target does with one delivery. */
export type Behaviour =
  /** `reply`: accepted. */
  | 'ok'
  /** `replyError` with a plain error: refused, the alarm fails. */
  | 'refuse'
  /** `replyError` with `retryable: true`: retried with backoff. */
  | 'retryable'
  /** Never answers: the delivery times out. */
  | 'hang'
  /** The target crashes while handling it. */
  | 'crash';

/** A target actor that records every delivery and behaves as `behave` says. */
export interface Recorder {
  logic: AnyActorLogic;
  deliveries: Delivery[];
  behave: (delivery: Delivery) => Behaviour;
}

export function recorder(behave: (delivery: Delivery) => Behaviour = () => 'ok'): Recorder {
  const rec: Recorder = { deliveries: [], behave, logic: undefined as unknown as AnyActorLogic };
  rec.logic = fromCallback(({ receive, self }) => {
    receive((event) => {
      const delivery = event as unknown as Delivery;
      rec.deliveries.push(delivery);
      switch (rec.behave(delivery)) {
        case 'ok':
          reply(event, true);
          return;
        case 'refuse':
          replyError(event, new VigilError('REFUSED', 'not for me'));
          return;
        case 'retryable':
          replyError(event, Object.assign(new VigilError('BUSY', 'try later'), { retryable: true }));
          return;
        case 'hang':
          return;
        case 'crash':
          exit(self, Exit.error(new Error('target crashed')));
          return;
      }
    });
  });
  return rec;
}

/** One logged store call. */
export interface StoreCall {
  method: keyof AlarmStore;
  args: unknown[];
}

/**
 * Wraps the store each (re)start opens, logging every call into `calls`. Pass `store` as the
 * `store` option of the alarm service.
 */
export function spyStore(file: string): { store: () => AlarmStore; calls: StoreCall[] } {
  const calls: StoreCall[] = [];
  const store = (): AlarmStore => {
    const inner = openSqliteStore(file);
    return new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push({ method: prop as keyof AlarmStore, args });
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
  return { store, calls };
}

/** A running alarm service on a ManualClock. */
export interface Harness {
  runtime: Runtime;
  clock: ManualClock;
  client: AlarmClient;
  /** Stops the runtime (idempotent). */
  stop: () => Promise<void>;
}

export interface HarnessOptions {
  file: string;
  clock?: ManualClock;
  /** Target actors by name; started before the alarm service so first deliveries find them. */
  targets?: Record<string, AnyActorLogic>;
  /** Alarm options; `db` defaults to `file`, `pollMs` to 0 (no poll timer on the ManualClock). */
  options?: Partial<AlarmOptions>;
  budget?: number;
  /**
   * The drain loop's time budget per turn (default here: 60 s, so in effect none). It is measured
   * on the real clock: these tests run on a ManualClock and count messages per turn (group
   * commits), which a loaded machine must not change.
   */
  turnMs?: number;
}

export async function startAlarms(h: HarnessOptions): Promise<Harness> {
  const clock = h.clock ?? new ManualClock(T0);
  const runtime = createRuntime({ clock, budget: h.budget, turnMs: h.turnMs ?? 60_000 });
  const targets = Object.entries(h.targets ?? {}).map(([name, logic]) => worker(name, logic));
  await runtime.start([
    ...targets,
    alarmSupervisor({
      db: h.file,
      pollMs: 0,
      backoff: { minMs: 1000, maxMs: 60_000, factor: 2 },
      ...h.options,
    }),
  ]);
  await settle(5);
  return { runtime, clock, client: new AlarmClient(runtime), stop: () => runtime.stop() };
}

/** Records the payloads of one event, in order. */
export function collect<K extends VigilEventName>(runtime: Runtime, event: K): VigilEvents[K][] {
  const log: VigilEvents[K][] = [];
  runtime.events.on(event, (payload) => log.push(payload));
  return log;
}

/** Lets mailbox drains, store promises and completions run to quiescence (no time passes). */
export function quiesce(): Promise<void> {
  return settle(10);
}
