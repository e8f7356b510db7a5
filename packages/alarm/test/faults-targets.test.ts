/**
 * Fault injection, targets: a target that crashes on every Nth message and one that hangs past
 * the delivery timeout, under a stream of alarms. Whatever the target does, every acknowledged
 * alarm ends up delivered (and marked fired), none before its instant, and the only repeats are
 * the attempts the faults caused. (Single faults, one alarm each, are in alarm-fire.test.ts.)
 */
import { createRuntime, ManualClock, supervisor, worker } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { AlarmClient } from '../src/client.js';
import type { Delivery } from '../src/request.js';
import { alarmSupervisor } from '../src/spec.js';
import {
  collect,
  type Harness,
  perTest,
  quiesce,
  type Recorder,
  rawRows,
  recorder,
  startAlarms,
  T0,
} from './helpers.js';

const t = perTest();

/**
 * The target under a supervisor patient enough for a crash every few seconds (the default,
 * OTP's 1 restart in 5 s, would rightly give up and take the runtime down).
 */
async function startPatient(flaky: Recorder): Promise<Harness> {
  const clock = new ManualClock(T0);
  const runtime = createRuntime({ clock });
  await runtime.start([
    supervisor('targets', [worker('Flaky', flaky.logic)], { maxRestarts: 1000, withinMs: 1000 }),
    alarmSupervisor({ db: t.db.file, pollMs: 0, backoff: { minMs: 1000, maxMs: 60_000, factor: 2 } }),
  ]);
  await quiesce();
  return { runtime, clock, client: new AlarmClient(runtime), stop: () => runtime.stop() };
}

/** Sets `count` alarms one second apart from T0 + 1 s, then runs the clock until all are settled. */
async function runStream(count: number, horizonMs: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 1; i <= count; i++) ids.push((await t.h!.client.set(T0 + i * 1000, 'Flaky', { i })).id);
  for (let elapsed = 0; elapsed < horizonMs; elapsed += 500) {
    await t.h!.clock.advance(500);
    await quiesce();
  }
  return ids;
}

/** Every delivery at or after its alarm's instant, and the accepted one is the last attempt. */
function checkDeliveries(deliveries: Delivery[], ids: number[]): void {
  for (const d of deliveries) expect(d.alarm.firedAt).toBeGreaterThanOrEqual(d.alarm.scheduledFor);
  expect(new Set(deliveries.map((d) => d.alarm.alarmId))).toEqual(new Set(ids));
  const rows = rawRows(t.db.file);
  expect(rows.map((r) => r.status)).toEqual(ids.map(() => 'fired'));
}

describe('a target that fails over and over', () => {
  it('crashing on every 3rd message: each crash is retried; all 30 alarms are delivered and marked fired', async () => {
    let n = 0;
    const flaky = recorder(() => (++n % 3 === 0 ? 'crash' : 'ok'));
    t.h = await startPatient(flaky);
    const crashed = collect(t.h.runtime, 'actor.crashed');
    const retried = collect(t.h.runtime, 'alarm.retried');
    const ids = await runStream(30, 120_000);
    checkDeliveries(flaky.deliveries, ids);
    expect(crashed.filter((c) => c.name === 'Flaky').length).toBe(retried.length);
    expect(retried.length).toBeGreaterThanOrEqual(10);
    // Attempts recorded on each row equal the deliveries it took.
    const perId = new Map<number, number>();
    for (const d of flaky.deliveries) perId.set(d.alarm.alarmId, (perId.get(d.alarm.alarmId) ?? 0) + 1);
    for (const row of rawRows(t.db.file)) expect(row.attempts).toBe(perId.get(row.id));
  });

  it('hanging past the delivery timeout on every first attempt: each is retried after the timeout and delivered', async () => {
    const flaky = recorder((d) => (d.alarm.attempt === 1 ? 'hang' : 'ok'));
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Flaky: flaky.logic },
      options: { deliveryTimeoutMs: 2000 },
    });
    const retried = collect(t.h.runtime, 'alarm.retried');
    const ids = await runStream(20, 60_000);
    checkDeliveries(flaky.deliveries, ids);
    expect(retried).toHaveLength(20);
    for (const r of retried) expect(r.reason).toMatch(/no reply within 2000 ms/);
    expect(flaky.deliveries.map((d) => d.alarm.attempt).sort()).toEqual(
      [...ids.map(() => 1), ...ids.map(() => 2)].sort(),
    );
  });

  it('a target that hangs forever: attempts run out and the alarm is failed with the reason, the others fire', async () => {
    const flaky = recorder((d) => (d.i === 2 ? 'hang' : 'ok'));
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Flaky: flaky.logic },
      options: { deliveryTimeoutMs: 1000, maxAttempts: 3 },
    });
    const ids = await runStream(3, 30_000);
    const rows = rawRows(t.db.file);
    expect(rows.map((r) => r.status)).toEqual(['fired', 'failed', 'fired']);
    expect(rows[1]).toMatchObject({ id: ids[1], attempts: 3 });
    expect(rows[1]!.lastError).toMatch(/gave up after 3 attempt/);
    await quiesce();
  });
});
