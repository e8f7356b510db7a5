/**
 * Shared set-up of the Scheduler tests: a runtime on a ManualClock with the alarm service and
 * the Scheduler on one temporary database file, and a way to let asynchronous work finish.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmClient, alarmSupervisor } from '@vigil/alarm';
import { createRuntime, type ManualClock, type Runtime, settle } from '@vigil/runtime';
import { WorkflowClient } from '../src/client.js';
import { schedulerWorker } from '../src/scheduler.js';
import type { Workflow } from '../src/workflow.js';

export const T0 = Date.parse('2026-03-02T09:00:00Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

/** A temporary directory holding `vigil.db`; `cleanup` removes it. */
export function tempDb(): { db: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-scheduler-'));
  return { db: join(dir, 'vigil.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Booted {
  runtime: Runtime;
  workflows: WorkflowClient;
  alarms: AlarmClient;
}

/** Starts the alarm service and the Scheduler on `db`, with `workflows` registered. */
export async function boot(db: string, clock: ManualClock, registered: Workflow[]): Promise<Booted> {
  const runtime = createRuntime({ clock, callTimeoutMs: 60_000 });
  await runtime.start(
    [
      // Long Timer slices: the ManualClock moves wall and elapsed time together, so no jump to
      // catch, and weeks of advance() stay cheap.
      alarmSupervisor({
        db,
        pollMs: 0,
        sliceMs: 10 * DAY,
        backoff: { minMs: 1000, maxMs: 60_000, factor: 2 },
      }),
      schedulerWorker({ db, workflows: registered }),
    ],
    { maxRestarts: 10, withinMs: 1000 },
  );
  await quiesce();
  return {
    runtime,
    workflows: new WorkflowClient(runtime, { timeoutMs: 60_000 }),
    alarms: new AlarmClient(runtime, { timeoutMs: 60_000 }),
  };
}

/** Lets mailboxes, microtasks and SQLite-backed replies run until nothing moves. */
export async function quiesce(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await settle();
}
