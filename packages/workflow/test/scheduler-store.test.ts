/**
 * `schedulerWorker({ store })`: the Scheduler keeps its runs in the store the factory builds (no
 * `db` needed), as `alarmSupervisor({ store })` does for alarms; the factory is called when the
 * Scheduler starts, and the store is closed when it stops.
 */

import { AlarmClient, alarmSupervisor } from '@vigil/alarm';
import { createRuntime, ManualClock } from '@vigil/runtime';
import { afterEach, expect, it } from 'vitest';
import { WorkflowClient } from '../src/client.js';
import { schedulerWorker } from '../src/scheduler.js';
import { openSqliteRunStore } from '../src/store/sqlite.js';
import type { RunStore } from '../src/store/types.js';
import { defineWorkflow, end } from '../src/workflow.js';
import { T0, tempDb } from './scheduler-helpers.js';

const alarmsDb = tempDb();
const runsDb = tempDb();
afterEach(() => {
  alarmsDb.cleanup();
  runsDb.cleanup();
});

it('runs on the store the factory builds, and closes it when the Scheduler stops', async () => {
  const once = defineWorkflow({ name: 'once', start: 'a', steps: { a: () => end({ result: 'done' }) } });
  const built: RunStore[] = [];
  let closed = 0;
  const factory = () => {
    const store = openSqliteRunStore(runsDb.db);
    built.push(store);
    const close = store.close.bind(store);
    store.close = async () => {
      closed++;
      await close();
    };
    return store;
  };
  const runtime = createRuntime({ clock: new ManualClock(T0), callTimeoutMs: 60_000 });
  await runtime.start([
    alarmSupervisor({ db: alarmsDb.db, pollMs: 0 }),
    schedulerWorker({ store: factory, workflows: [once] }),
  ]);
  expect(built).toHaveLength(1);
  const workflows = new WorkflowClient(runtime, { timeoutMs: 60_000 });
  const ended = new Promise((resolve) => runtime.events.once('workflow.ended', resolve));
  await workflows.start(once, {}, { runId: 'r1' });
  await ended;
  // The step's alarm went to the Alarm's own database, not to the run store's.
  expect(await new AlarmClient(runtime).list()).toHaveLength(1);
  await runtime.stop();
  expect(closed).toBe(1);
  const reader = openSqliteRunStore(runsDb.db, { readonly: true });
  expect(await reader.get('r1')).toMatchObject({ status: 'completed', result: 'done' });
  await reader.close();
});
