/**
 * The Scheduler's zone is its own option (`schedulerWorker({ zone })`, default 'UTC'; the
 * runtime has none): checked when the spec is built, and used for `at: 'tomorrow at 9am'`.
 */
import { alarmSupervisor, InvalidZoneError } from '@vigil/alarm';
import { createRuntime, ManualClock } from '@vigil/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkflowClient } from '../src/client.js';
import { schedulerWorker } from '../src/scheduler.js';
import { defineWorkflow, end } from '../src/workflow.js';
import { T0, tempDb } from './scheduler-helpers.js';

let db: string;
let cleanup: () => void;
beforeEach(() => {
  ({ db, cleanup } = tempDb());
});
afterEach(() => cleanup());

const once = defineWorkflow({ name: 'once', start: 'only', steps: { only: async () => end() } });

async function nextAtOf(zone: string | undefined): Promise<number | null> {
  const runtime = createRuntime({ clock: new ManualClock(T0), callTimeoutMs: 60_000 });
  await runtime.start([
    alarmSupervisor({ db, pollMs: 0 }),
    schedulerWorker({ db, workflows: [once], ...(zone === undefined ? {} : { zone }) }),
  ]);
  try {
    const run = await new WorkflowClient(runtime).start('once', {}, { runId: 'r1', at: 'tomorrow at 9am' });
    return run.nextAt;
  } finally {
    await runtime.stop();
  }
}

describe('schedulerWorker zone', () => {
  it.each([['Mars/Olympus'], [''], [42]])('refuses %j when the spec is built', (zone) => {
    expect(() => schedulerWorker({ db, workflows: [once], zone: zone as string })).toThrow(InvalidZoneError);
  });

  it('reads at: in its zone, and in UTC by default', async () => {
    // T0 is Monday 2026-03-02 09:00 UTC (10:00 in Paris).
    expect(await nextAtOf('Europe/Paris')).toBe(Date.parse('2026-03-03T08:00:00Z'));
    cleanup();
    ({ db, cleanup } = tempDb());
    expect(await nextAtOf(undefined)).toBe(Date.parse('2026-03-03T09:00:00Z'));
  });
});
