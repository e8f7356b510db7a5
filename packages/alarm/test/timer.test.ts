/**
 * The Timer against a wall clock that misbehaves: delays beyond setTimeout's 2^31-1 ms limit,
 * the wall clock jumping forward and back, and a host suspend. Never early; at most one slice
 * late after a jump.
 */
import { ManualClock } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { collect, perTest, quiesce, recorder, startAlarms, T0 } from './helpers.js';

const SEC = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const t = perTest();

/** A ManualClock that records the delay of every timer set on it. */
function recordingClock(): { clock: ManualClock; delays: number[] } {
  const clock = new ManualClock(T0);
  const delays: number[] = [];
  const setTimeout = clock.setTimeout.bind(clock);
  clock.setTimeout = (fn, ms) => {
    delays.push(ms);
    return setTimeout(fn, ms);
  };
  return { clock, delays };
}

describe('long delays', () => {
  it('a 30-day alarm (beyond 2^31-1 ms) does not fire early; no sleep is longer than a slice', async () => {
    const { clock, delays } = recordingClock();
    const log = recorder();
    const sliceMs = HOUR;
    t.h = await startAlarms({ file: t.db.file, clock, targets: { Log: log.logic }, options: { sliceMs } });
    const at = T0 + 30 * DAY;
    expect(at - T0).toBeGreaterThan(2 ** 31 - 1);
    await t.h.client.set(at, 'Log', { type: 'anniversary' });
    for (let day = 1; day < 30; day++) {
      await clock.advance(DAY);
      expect(log.deliveries, `day ${day}`).toEqual([]);
    }
    await clock.advance(DAY - 1);
    await quiesce();
    expect(log.deliveries).toEqual([]);
    await clock.advance(1);
    await quiesce();
    expect(log.deliveries.map((d) => d.alarm.firedAt)).toEqual([at]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(sliceMs);
    expect(delays.filter((d) => d === sliceMs).length).toBeGreaterThanOrEqual(30 * 24 - 1);
  });
});

describe('wall clock jumps', () => {
  it('forward 1 h: the alarm that became due fires within one slice; timer.overdue names it', async () => {
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { sliceMs: SEC } });
    const overdue = collect(t.h.runtime, 'timer.overdue');
    await t.h.client.set(T0 + 30 * 60_000, 'Log');
    await quiesce();
    t.h.clock.jump(HOUR);
    await t.h.clock.advance(SEC);
    await quiesce();
    expect(log.deliveries).toHaveLength(1);
    const late = log.deliveries[0]!.alarm.firedAt - log.deliveries[0]!.alarm.scheduledFor;
    expect(late).toBeGreaterThanOrEqual(30 * 60_000);
    expect(late).toBeLessThanOrEqual(30 * 60_000 + SEC);
    expect(overdue.length).toBeGreaterThanOrEqual(1);
    expect(overdue[0]!.lateMs).toBeGreaterThanOrEqual(HOUR - SEC);
  });

  it('back 1 h: nothing fires early; timer.premature names how far ahead it woke', async () => {
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { sliceMs: SEC } });
    const premature = collect(t.h.runtime, 'timer.premature');
    const at = T0 + 10 * SEC;
    await t.h.client.set(at, 'Log');
    await quiesce();
    t.h.clock.jump(-HOUR);
    // Elapsed time passes the instant the alarm was planned for; the wall clock has not.
    await t.h.clock.advance(10 * SEC);
    await quiesce();
    expect(log.deliveries).toEqual([]);
    expect(premature.length).toBeGreaterThanOrEqual(1);
    expect(premature[0]!.aheadMs).toBeGreaterThan(HOUR - SEC);
    // Walk the wall clock up to the instant: it fires exactly then, not a millisecond before.
    await t.h.clock.advance(HOUR - 1);
    await quiesce();
    expect(log.deliveries).toEqual([]);
    await t.h.clock.advance(1);
    await quiesce();
    expect(log.deliveries.map((d) => d.alarm.firedAt)).toEqual([at]);
  });
});

describe('host suspend', () => {
  it('an overdue wake emits timer.overdue with its lateness, and the alarm fires at once', async () => {
    const log = recorder();
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Log: log.logic },
      options: { sliceMs: SEC, lateWakeMs: 250 },
    });
    const overdue = collect(t.h.runtime, 'timer.overdue');
    const fired = collect(t.h.runtime, 'alarm.fired');
    await t.h.client.set(T0 + 10 * SEC, 'Log');
    await quiesce();
    await t.h.clock.suspend(60 * SEC);
    await quiesce();
    expect(overdue).toEqual([{ lateMs: 59 * SEC, at: T0 + 60 * SEC }]);
    expect(fired).toEqual([expect.objectContaining({ lateMs: 50 * SEC, at: T0 + 60 * SEC })]);
    expect(log.deliveries).toHaveLength(1);
  });

  it('a wake within lateWakeMs of its plan is not reported', async () => {
    const log = recorder();
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Log: log.logic },
      options: { sliceMs: SEC, lateWakeMs: 250 },
    });
    const overdue = collect(t.h.runtime, 'timer.overdue');
    const premature = collect(t.h.runtime, 'timer.premature');
    await t.h.client.set(T0 + 5 * SEC, 'Log');
    await t.h.clock.advance(5 * SEC);
    await quiesce();
    expect(log.deliveries).toHaveLength(1);
    expect(overdue).toEqual([]);
    expect(premature).toEqual([]);
  });
});

describe('an instant already reached', () => {
  it('armed for an instant the wall clock has reached, the Timer fires at once, with no zero-delay timer', async () => {
    // In Node a zero-delay timer runs a millisecond or more later; with five alarms due a
    // millisecond the Alarm often arms for a row that is due by the time the Timer reads it.
    const { clock, delays } = recordingClock();
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, clock, targets: { Log: log.logic } });
    const at = T0 + 5 * SEC;
    const { id } = await t.h.client.set(at, 'Log');
    await quiesce();
    const armedDelays = delays.length;
    clock.jump(5 * SEC); // the instant is reached; no timer has run (no elapsed time passed)
    const fired = t.h.runtime.events.waitFor('alarm.fired', (e) => e.id === id);
    t.h.runtime.send('Timer', { type: 'timer.arm', at });
    // Only a wake that does not wait for a timer can get here: the ManualClock runs none.
    expect((await fired).lateMs).toBe(0);
    expect(delays.slice(armedDelays)).not.toContain(0);
  });

  it('armed for an instant 1 ms ahead, it sleeps and does not fire early', async () => {
    const { clock, delays } = recordingClock();
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, clock, targets: { Log: log.logic } });
    const at = T0 + 5 * SEC;
    await t.h.client.set(at, 'Log');
    await quiesce();
    clock.jump(5 * SEC - 1);
    const armedDelays = delays.length;
    t.h.runtime.send('Timer', { type: 'timer.arm', at });
    await quiesce();
    expect(log.deliveries).toEqual([]);
    expect(delays.slice(armedDelays)).toContain(1);
  });
});
