/**
 * Fault injection, the supervision tree gives up: the Alarm crashes faster than its supervisor's
 * restart intensity allows, the `alarms` supervisor escalates, and the root (allowed no restart)
 * exits. The runtime must stop cleanly (`runtime.fatal`, then `stopped` resolves, nothing thrown
 * at anyone), and a new runtime on the same database (the process restarted) must deliver every
 * pending alarm at its instant.
 */
import { createRuntime, Exit, ManualClock, settle, worker } from '@vigil/runtime';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AlarmClient } from '../src/client.js';
import { alarmSupervisor } from '../src/spec.js';
import { collect, quiesce, rawRows, recorder, startAlarms, T0, tempDb } from './helpers.js';

let db: ReturnType<typeof tempDb>;
const stops: (() => Promise<void>)[] = [];

beforeEach(() => {
  db = tempDb();
});

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  db.cleanup();
});

it('root intensity exceeded: the runtime stops cleanly; a new runtime on the same DB resumes every pending alarm', async () => {
  const clock = new ManualClock(T0);
  const runtime = createRuntime({ clock });
  stops.push(() => runtime.stop());
  const log = recorder();
  await runtime.start([worker('Log', log.logic), alarmSupervisor({ db: db.file, pollMs: 0 })], {
    maxRestarts: 0,
    withinMs: 60_000,
  });
  const client = new AlarmClient(runtime);
  const fatal = collect(runtime, 'runtime.fatal');
  const escalated = collect(runtime, 'supervisor.escalated');
  // One alarm fires before the trouble; the others are pending when the tree gives up.
  await client.set(T0 + 500, 'Log', { n: 0 });
  const pending = await client.setMany(
    Array.from({ length: 50 }, (_, i) => ({
      when: T0 + 10_000 + i * 1000,
      target: 'Log',
      message: { n: i + 1 },
    })),
  );
  await clock.advance(500);
  await quiesce();
  expect(log.deliveries.map((d) => d.n)).toEqual([0]);

  // Six crashes in a row: more than the alarms supervisor's 5 restarts in 10 s.
  for (let i = 0; i < 6 && runtime.state === 'running'; i++) {
    runtime.exit('Alarm', Exit.error(new Error(`injected crash ${i + 1}`)));
    await settle(5);
  }
  const reason = await runtime.stopped;
  expect(runtime.state).toBe('stopped');
  expect(escalated.length).toBeGreaterThanOrEqual(1);
  expect(fatal).toHaveLength(1);
  expect(reason.kind).not.toBe('normal');
  expect(fatal[0]!.reason).toEqual(reason);
  // Calls after the stop reject with a typed error, they do not hang or throw synchronously.
  await expect(client.stats()).rejects.toMatchObject({ code: 'RUNTIME_STOPPED' });
  // Nothing pending was touched on disk.
  expect(
    rawRows(db.file)
      .filter((r) => r.status === 'pending')
      .map((r) => r.id),
  ).toEqual(pending.map((a) => a.id));

  // The process restarts: a new runtime on the same database delivers all of them, none early.
  const after = recorder();
  const h = await startAlarms({
    file: db.file,
    clock: new ManualClock(T0 + 1000),
    targets: { Log: after.logic },
  });
  stops.push(h.stop);
  for (let t = 0; t < 70_000; t += 1000) {
    await h.clock.advance(1000);
    await quiesce();
  }
  expect(after.deliveries.map((d) => d.alarm.alarmId)).toEqual(pending.map((a) => a.id));
  for (const d of after.deliveries) expect(d.alarm.firedAt).toBeGreaterThanOrEqual(d.alarm.scheduledFor);
  expect(rawRows(db.file).every((r) => r.status === 'fired')).toBe(true);
});

it('a store that cannot be opened makes the Alarm fail its restarts: the runtime stops, the data stays for the next process', async () => {
  const first = await startAlarms({ file: db.file, targets: { Log: recorder().logic } });
  const a = await first.client.set(T0 + 60_000, 'Log');
  await first.stop();

  // Second life: the store opens once, then every reopen fails (say the disk went away).
  let opens = 0;
  const { openSqliteStore } = await import('../src/store/sqlite.js');
  const clock = new ManualClock(T0);
  const runtime = createRuntime({ clock });
  stops.push(() => runtime.stop());
  await runtime.start(
    [
      worker('Log', recorder().logic),
      alarmSupervisor({
        pollMs: 0,
        store: () => {
          if (++opens > 1) throw new Error('disk went away');
          return openSqliteStore(db.file);
        },
      }),
    ],
    { maxRestarts: 0, withinMs: 60_000 },
  );
  const fatal = collect(runtime, 'runtime.fatal');
  runtime.exit('Alarm', Exit.error(new Error('injected crash')));
  await runtime.stopped;
  expect(fatal).toHaveLength(1);
  expect(runtime.state).toBe('stopped');
  expect(rawRows(db.file)).toEqual([expect.objectContaining({ id: a.id, status: 'pending' })]);
});
