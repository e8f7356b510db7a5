/**
 * Found by the torture (seed 8, `--synchronous NORMAL`, 2 of 10,000 runs): a workflow run whose
 * next step came due while the process was down is failed at restart, and its committed step
 * alarm cancelled: a lost scheduled step.
 *
 * On start the Scheduler sets the alarm of every active run again, at `max(nextAt, its now)`.
 * When `nextAt` has passed, that instant is the Scheduler's now; a millisecond later the Alarm
 * validates it against its own now and rejects it with TIME_IN_PAST (the idempotency key that
 * would have returned the existing alarm is looked at only after validation). The recovery path
 * treats the rejection as final, fails the run and cancels the pending alarm.
 *
 * A ManualClock hides it (no time passes between the two reads), so this clock moves one
 * millisecond each time it is read, as a real clock does under load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alarmSupervisor } from '@vigil/alarm';
import { createRuntime, ManualClock, settle } from '@vigil/runtime';
import { defineWorkflow, end, next, schedulerWorker, type Workflow, WorkflowClient } from '@vigil/workflow';
import { afterEach, expect, it } from 'vitest';

const T0 = Date.parse('2026-03-02T09:00:00Z');

/** The alarm service and the Scheduler on `db`, as an application starts them. */
async function boot(db: string, clock: ManualClock, workflows: Workflow[]) {
  const runtime = createRuntime({ clock, callTimeoutMs: 60_000 });
  await runtime.start([alarmSupervisor({ db, pollMs: 0 }), schedulerWorker({ db, workflows })]);
  await quiesce();
  return { runtime, workflows: new WorkflowClient(runtime, { timeoutMs: 60_000 }) };
}

async function quiesce(): Promise<void> {
  for (let i = 0; i < 20; i++) await settle();
}

/** Wall time advances by 1 ms at every read. */
class TickingClock extends ManualClock {
  private ticks = 0;
  override now(): number {
    return super.now() + this.ticks++;
  }
}

const steps: string[] = [];
const chain = defineWorkflow({
  name: 'chain',
  start: 'a',
  steps: {
    a: () => {
      steps.push('a');
      return next('b', { after: 1000 });
    },
    b: () => {
      steps.push('b');
      return end();
    },
  },
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// Found by the torture: the Scheduler re-armed a past-due step at an instant the Alarm saw as past.
it('a run whose next step came due while the process was down runs it after the restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sched-restart-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const db = path.join(dir, 'vigil.db');
  const first = await boot(db, new TickingClock(T0), [chain]);
  const run = await first.workflows.start(chain, {}, { runId: 'r1', at: T0 + 60_000 });
  await first.runtime.stop();

  // The process comes back after the first step's instant.
  const second = await boot(db, new TickingClock(T0 + 120_000), [chain]);
  cleanups.push(() => second.runtime.stop());
  await quiesce();
  expect(steps).toEqual(['a']);
  expect(await second.workflows.get(run.id)).toMatchObject({ status: expect.not.stringMatching(/failed/) });
});
