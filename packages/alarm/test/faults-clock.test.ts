/**
 * Fault injection, the wall clock misbehaving under load: jumps and a suspend with recurring
 * alarms, retries and a stream of one-shot alarms. (A single alarm across a jump forward, a jump
 * back and a suspend is in timer.test.ts.) Whatever the clock does: no delivery before its
 * instant, no occurrence twice, none lost.
 */
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../src/request.js';
import { perTest, quiesce, rawRows, recorder, startAlarms, T0 } from './helpers.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

const t = perTest();

/** Moves elapsed time (and the wall clock with it) in 1 s steps, letting work run between. */
async function run(ms: number): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += SEC) {
    await t.h!.clock.advance(SEC);
    await quiesce();
  }
}

function neverEarly(deliveries: Delivery[]): void {
  for (const d of deliveries) expect(d.alarm.firedAt).toBeGreaterThanOrEqual(d.alarm.scheduledFor);
}

describe('recurring alarms across clock jumps', () => {
  it('back 1 h mid-series: no occurrence early or twice; the series resumes when the wall clock catches up', async () => {
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { sliceMs: SEC } });
    await t.h.client.set(T0 + MIN, 'Log', { s: 'every' }, { recurrence: { every: '1 min' } });
    await run(3 * MIN); // occurrences at +1, +2, +3 min
    expect(log.deliveries).toHaveLength(3);
    t.h.clock.jump(-HOUR);
    await run(10 * MIN); // elapsed time passes; the wall clock is an hour behind: nothing is due
    expect(log.deliveries).toHaveLength(3);
    await run(HOUR - 10 * MIN + 2 * MIN); // the wall clock is back at +3 min, then 2 more minutes
    neverEarly(log.deliveries);
    const scheduled = log.deliveries.map((d) => d.alarm.scheduledFor - T0);
    expect(scheduled).toEqual([1, 2, 3, 4, 5].map((m) => m * MIN));
    // One series, five distinct occurrences: the key a target de-duplicates on differs each time.
    expect(new Set(log.deliveries.map((d) => d.alarm.alarmId)).size).toBe(1);
    expect(log.deliveries.map((d) => d.alarm.occurrence)).toEqual([1, 2, 3, 4, 5]);
  });

  it('forward 1 day: the default misfire policy delivers every missed occurrence once, in order', async () => {
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { sliceMs: SEC } });
    await t.h.client.set(T0 + HOUR, 'Log', {}, { recurrence: { every: '1 hour' } });
    t.h.clock.jump(24 * HOUR);
    await run(5 * SEC);
    neverEarly(log.deliveries);
    expect(log.deliveries.map((d) => (d.alarm.scheduledFor - T0) / HOUR)).toEqual(
      Array.from({ length: 24 }, (_, i) => i + 1),
    );
    // One pending occurrence remains, for the next hour.
    expect(
      rawRows(t.db.file)
        .filter((r) => r.status === 'pending')
        .map((r) => r.fireAt),
    ).toEqual([T0 + 25 * HOUR]);
  });
});

describe('a stream of alarms while the clock jumps about', () => {
  it('back and forth and a suspend: 100 alarms, each delivered once, none early', async () => {
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { sliceMs: SEC } });
    const ids: number[] = [];
    for (let i = 1; i <= 100; i++) ids.push((await t.h.client.set(T0 + i * 7 * SEC, 'Log', { i })).id);
    await run(60 * SEC);
    t.h.clock.jump(-5 * MIN);
    await run(30 * SEC);
    t.h.clock.jump(3 * MIN);
    await run(30 * SEC);
    await t.h.clock.suspend(10 * MIN);
    await run(10 * SEC);
    t.h.clock.jump(-30 * SEC);
    await run(20 * MIN);
    neverEarly(log.deliveries);
    expect(log.deliveries.map((d) => d.alarm.alarmId).sort((a, b) => a - b)).toEqual(ids);
    expect(rawRows(t.db.file).every((r) => r.status === 'fired')).toBe(true);
  });

  it('a retry scheduled just before the clock jumps back is not delivered before its retry instant', async () => {
    let first = true;
    const flaky = recorder(() => {
      if (!first) return 'ok';
      first = false;
      return 'retryable';
    });
    t.h = await startAlarms({ file: t.db.file, targets: { Flaky: flaky.logic }, options: { sliceMs: SEC } });
    const retried: number[] = [];
    t.h.runtime.events.on('alarm.retried', (e) => retried.push(e.nextAt));
    await t.h.client.set(T0 + 10 * SEC, 'Flaky');
    await run(10 * SEC);
    expect(retried).toHaveLength(1);
    t.h.clock.jump(-MIN);
    await run(MIN + 5 * SEC);
    expect(flaky.deliveries).toHaveLength(2);
    expect(flaky.deliveries[1]!.alarm.firedAt).toBeGreaterThanOrEqual(retried[0]!);
  });
});
