/**
 * Firing: never early, in `fire_at` order, the delivery's shape, and what each target answer
 * does to the alarm (accepted, refused, retryable, down, crashed, timed out, gone), recurrence,
 * and rows that can no longer be decoded.
 */
import { ManualClock } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import {
  collect,
  type Harness,
  perTest,
  quiesce,
  type Recorder,
  rawExec,
  rawRows,
  recorder,
  spyStore,
  startAlarms,
  T0,
} from './helpers.js';

const t = perTest();

async function start(targets: Record<string, Recorder>, options = {}): Promise<Harness> {
  const logics = Object.fromEntries(Object.entries(targets).map(([n, r]) => [n, r.logic]));
  t.h = await startAlarms({ file: t.db.file, targets: logics, options });
  return t.h;
}

describe('when it fires', () => {
  it('fires at its instant, never a millisecond early', async () => {
    const log = recorder();
    const { client, clock, runtime } = await start({ Log: log });
    const fired = collect(runtime, 'alarm.fired');
    const a = await client.set(T0 + 10_000, 'Log', { type: 'ping' });
    await clock.advance(9_999);
    await quiesce();
    expect(log.deliveries).toEqual([]);
    expect(fired).toEqual([]);
    const delivered = runtime.events.waitFor('alarm.delivered', (e) => e.id === a.id);
    await clock.advance(1);
    await delivered;
    expect(log.deliveries).toHaveLength(1);
    expect(log.deliveries[0]!.alarm.firedAt).toBe(T0 + 10_000);
    expect(fired[0]).toMatchObject({ id: a.id, lateMs: 0, attempt: 1 });
    expect(await client.get(a.id)).toMatchObject({ status: 'fired', firedAt: T0 + 10_000, attempts: 1 });
  });

  it('delivers everything due in fire_at order (ties by id), once, after a late wake', async () => {
    const log = recorder();
    const { client, clock, runtime } = await start({ Log: log });
    const alarms = await client.setMany(
      [3000, 1000, 2000, 1000, 5000].map((dt, i) => ({ when: T0 + dt, target: 'Log', message: { i } })),
    );
    const delivered = collect(runtime, 'alarm.delivered');
    await quiesce(); // the Timer is armed just after the ack
    // One late wake (a host suspend) finds all five due at once.
    await clock.suspend(6000);
    await quiesce();
    expect(log.deliveries.map((d) => d.i)).toEqual([1, 3, 2, 0, 4]);
    expect(delivered).toHaveLength(5);
    expect(rawRows(t.db.file).every((r) => r.status === 'fired')).toBe(true);
    for (const d of log.deliveries) expect(d.alarm.firedAt).toBeGreaterThanOrEqual(d.alarm.scheduledFor);
    expect(alarms).toHaveLength(5);
  });

  it('a set earlier than the armed instant re-arms the Timer', async () => {
    const log = recorder();
    const { client, clock } = await start({ Log: log });
    await client.set(T0 + 60_000, 'Log', { n: 'late' });
    await client.set(T0 + 1_000, 'Log', { n: 'early' });
    await clock.advance(1_000);
    await quiesce();
    expect(log.deliveries.map((d) => d.n)).toEqual(['early']);
  });
});

describe('the delivery', () => {
  it('is the message plus `alarm: { alarmId, occurrence, occurrenceId, attempt, firedAt, scheduledFor }`', async () => {
    const log = recorder();
    const { client, clock } = await start({ Log: log });
    const a = await client.set(T0 + 1000, 'Log', { type: 'notify', text: 'hi', nested: { n: [1, 2] } });
    const b = await client.set(T0 + 1000, 'Log', { text: 'no type' });
    await clock.advance(1000);
    await quiesce();
    expect(log.deliveries[0]).toEqual({
      type: 'notify',
      text: 'hi',
      nested: { n: [1, 2] },
      alarm: {
        alarmId: a.id,
        occurrence: 1,
        occurrenceId: `${a.id}.1`,
        attempt: 1,
        firedAt: T0 + 1000,
        scheduledFor: T0 + 1000,
      },
    });
    // A message without a type is delivered as type 'alarm'.
    expect(log.deliveries[1]).toMatchObject({ type: 'alarm', text: 'no type', alarm: { alarmId: b.id } });
  });
});

describe('what the target answers', () => {
  it('declared but down: retried with backoff, then delivered with the next attempt number', async () => {
    const flaky = recorder();
    const { client, clock, runtime } = await start({ Flaky: flaky });
    await runtime.terminateChild('Flaky');
    const retried = collect(runtime, 'alarm.retried');
    const a = await client.set(T0 + 1000, 'Flaky', { type: 'job' });
    await clock.advance(1000);
    await quiesce();
    expect(retried).toEqual([expect.objectContaining({ id: a.id, attempt: 1, nextAt: T0 + 2000 })]);
    expect(retried[0]!.reason).toMatch(/not running/);
    await clock.advance(1000);
    await quiesce();
    expect(retried).toHaveLength(2);
    expect(retried[1]).toMatchObject({ attempt: 2, nextAt: T0 + 2000 + 2000 }); // doubled
    await runtime.restartChild('Flaky');
    await clock.advance(1999);
    await quiesce();
    expect(flaky.deliveries).toEqual([]);
    await clock.advance(1);
    await quiesce();
    expect(flaky.deliveries.map((d) => d.alarm)).toEqual([
      {
        alarmId: a.id,
        occurrence: 1,
        occurrenceId: `${a.id}.1`,
        attempt: 3,
        firedAt: T0 + 4000,
        scheduledFor: T0 + 1000,
      },
    ]);
    expect(await client.get(a.id)).toMatchObject({ status: 'fired', attempts: 3 });
  });

  it('a target that crashes on a delivery: retried, and delivered to its next incarnation', async () => {
    let first = true;
    const crashy = recorder(() => {
      if (!first) return 'ok';
      first = false;
      return 'crash';
    });
    const { client, clock, runtime } = await start({ Crashy: crashy });
    const a = await client.set(T0 + 1000, 'Crashy');
    const crashed = runtime.events.waitFor('actor.crashed', (e) => e.name === 'Crashy');
    await clock.advance(1000);
    await crashed;
    await quiesce();
    expect(await client.get(a.id)).toMatchObject({ status: 'pending', attempts: 1, fireAt: T0 + 2000 });
    await clock.advance(1000);
    await quiesce();
    expect(crashy.deliveries.map((d) => d.alarm.attempt)).toEqual([1, 2]);
    expect(await client.get(a.id)).toMatchObject({ status: 'fired', attempts: 2 });
  });

  it('a target that never answers: the delivery times out and is retried', async () => {
    let calls = 0;
    const slow = recorder(() => (++calls === 1 ? 'hang' : 'ok'));
    const { client, clock, runtime } = await start({ Slow: slow }, { deliveryTimeoutMs: 5000 });
    const retried = collect(runtime, 'alarm.retried');
    const a = await client.set(T0 + 1000, 'Slow');
    await clock.advance(1000 + 5000);
    await quiesce();
    expect(retried).toEqual([expect.objectContaining({ id: a.id, attempt: 1, nextAt: T0 + 7000 })]);
    await clock.advance(1000);
    await quiesce();
    expect(await client.get(a.id)).toMatchObject({ status: 'fired', attempts: 2 });
  });

  it('replyError (refusal): failed with the reason, not retried', async () => {
    const picky = recorder(() => 'refuse');
    const { client, clock, runtime } = await start({ Picky: picky });
    const failed = collect(runtime, 'alarm.failed');
    const a = await client.set(T0 + 1000, 'Picky');
    await clock.advance(60_000);
    await quiesce();
    expect(picky.deliveries).toHaveLength(1);
    expect(failed).toEqual([expect.objectContaining({ id: a.id, target: 'Picky' })]);
    expect(failed[0]!.reason).toMatch(/refused it: not for me/);
    expect(await client.get(a.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: failed[0]!.reason,
    });
  });

  it('replyError with retryable: true: retried, then delivered', async () => {
    let calls = 0;
    const busy = recorder(() => (++calls <= 2 ? 'retryable' : 'ok'));
    const { client, clock } = await start({ Busy: busy });
    const a = await client.set(T0 + 1000, 'Busy');
    await clock.advance(1000 + 1000 + 2000);
    await quiesce();
    expect(busy.deliveries.map((d) => [d.alarm.attempt, d.alarm.firedAt])).toEqual([
      [1, T0 + 1000],
      [2, T0 + 2000],
      [3, T0 + 4000],
    ]);
    expect(await client.get(a.id)).toMatchObject({ status: 'fired', attempts: 3 });
  });

  it('maxAttempts exhausted: failed, naming the attempts', async () => {
    const busy = recorder(() => 'retryable');
    const { client, clock, runtime } = await start({ Busy: busy });
    const failed = collect(runtime, 'alarm.failed');
    const a = await client.set(
      T0 + 1000,
      'Busy',
      {},
      { maxAttempts: 3, backoff: { minMs: 10, maxMs: 10, factor: 1 } },
    );
    await clock.advance(1000 + 100);
    await quiesce();
    expect(busy.deliveries.map((d) => d.alarm.attempt)).toEqual([1, 2, 3]);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatch(/gave up after 3 attempt/);
    expect(await client.get(a.id)).toMatchObject({ status: 'failed', attempts: 3 });
  });
});

describe('recurring alarms', () => {
  it('every: one row for the series; the fired mark moves it to the next occurrence in one store call', async () => {
    const spy = spyStore(t.db.file);
    const log = recorder();
    const { client, clock } = await start({ Log: log }, { store: spy.store });
    const a = await client.set(T0 + 10_000, 'Log', { type: 'tick' }, { recurrence: { every: '10 seconds' } });
    spy.calls.length = 0;
    await clock.advance(10_000);
    await quiesce();
    const completes = spy.calls.filter((c) => c.method === 'complete');
    expect(completes).toHaveLength(1);
    expect(completes[0]!.args[0]).toEqual([
      expect.objectContaining({
        kind: 'fired',
        id: a.id,
        occurrence: { seq: 1, scheduledFor: T0 + 10_000 },
        next: T0 + 20_000,
      }),
    ]);
    const rows = rawRows(t.db.file);
    expect(rows.map((r) => [r.id, r.status, r.fireAt])).toEqual([[a.id, 'pending', T0 + 20_000]]);
    await clock.advance(20_000);
    await quiesce();
    expect(log.deliveries.map((d) => [d.alarm.alarmId, d.alarm.occurrence, d.alarm.scheduledFor])).toEqual([
      [a.id, 1, T0 + 10_000],
      [a.id, 2, T0 + 20_000],
      [a.id, 3, T0 + 30_000],
    ]);
    expect(await client.get(a.id)).toMatchObject({
      id: a.id,
      status: 'pending',
      fireAt: T0 + 40_000,
      occurrence: 4,
      counts: { delivered: 3, missed: 0, failed: 0 },
      recurrence: { every: '10 seconds' },
    });
    expect((await client.history(a.id))?.map((o) => [o.seq, o.outcome, o.scheduledFor])).toEqual([
      [1, 'delivered', T0 + 10_000],
      [2, 'delivered', T0 + 20_000],
      [3, 'delivered', T0 + 30_000],
    ]);
  });

  it('cron in a zone: fires at each matching instant', async () => {
    const log = recorder();
    const { client, clock } = await start({ Log: log }, { sliceMs: 60_000 });
    // 09:00 Paris = 08:00 UTC in January.
    await client.set(
      Date.UTC(2026, 0, 1, 8),
      'Log',
      { type: 'standup' },
      { recurrence: { cron: '0 9 * * *', zone: 'Europe/Paris' } },
    );
    await clock.advance(2 * 86_400_000 + 8 * 3_600_000);
    await quiesce();
    expect(log.deliveries.map((d) => new Date(d.alarm.scheduledFor).toISOString())).toEqual([
      '2026-01-01T08:00:00.000Z',
      '2026-01-02T08:00:00.000Z',
      '2026-01-03T08:00:00.000Z',
    ]);
    expect(rawRows(t.db.file).map((r) => [r.status, new Date(r.fireAt).toISOString()])).toEqual([
      ['pending', '2026-01-04T08:00:00.000Z'],
    ]);
  });

  it('cancel(id) stops the series whichever occurrence is pending; get shows it', async () => {
    const log = recorder();
    const { client, clock, runtime } = await start({ Log: log });
    const a = await client.set(T0 + 1000, 'Log', {}, { recurrence: { every: '1 s' } });
    await clock.advance(2000);
    await quiesce();
    expect(log.deliveries).toHaveLength(2);
    const cancelled = collect(runtime, 'alarm.cancelled');
    expect(await client.cancel(a.id)).toMatchObject({
      id: a.id,
      status: 'cancelled',
      occurrence: 3,
      fireAt: T0 + 3000,
      counts: { delivered: 2, missed: 0, failed: 0 },
    });
    expect(cancelled).toEqual([expect.objectContaining({ id: a.id })]);
    await clock.advance(10_000);
    await quiesce();
    expect(log.deliveries).toHaveLength(2);
    expect(await client.list({ status: 'pending' })).toEqual([]);
    expect(await client.list()).toHaveLength(1);
  });

  it('the idempotency key resolves to the series, also after occurrences fired', async () => {
    const log = recorder();
    const { client, clock } = await start({ Log: log });
    const opts = { key: 'standup', recurrence: { every: '1 s' } };
    const a = await client.set(T0 + 1000, 'Log', {}, opts);
    await clock.advance(3000);
    await quiesce();
    const again = await client.set(T0 + 5000, 'Log', {}, opts);
    expect(again).toMatchObject({ id: a.id, status: 'pending', occurrence: 4, key: 'standup' });
  });

  it('an occurrence that fails does not end the series; the counts and history say so', async () => {
    let calls = 0;
    const picky = recorder(() => (++calls === 2 ? 'refuse' : 'ok'));
    const { client, clock } = await start({ Picky: picky });
    const a = await client.set(T0 + 1000, 'Picky', {}, { recurrence: { every: '1 s' } });
    await clock.advance(3000);
    await quiesce();
    expect(await client.get(a.id)).toMatchObject({
      status: 'pending',
      occurrence: 4,
      counts: { delivered: 2, missed: 0, failed: 1 },
    });
    expect((await client.history(a.id))?.map((o) => [o.seq, o.outcome])).toEqual([
      [1, 'delivered'],
      [2, 'failed'],
      [3, 'delivered'],
    ]);
    expect((await client.history(a.id))?.[1]?.error).toMatch(/refused it/);
    expect(await client.history(9999)).toBeNull();
  });
});

describe('rows that can no longer be delivered', () => {
  it('undecodable message (written behind the store): failed with the reason, the next one fires', async () => {
    const log = recorder();
    const { client, clock, runtime } = await start({ Log: log });
    const failed = collect(runtime, 'alarm.failed');
    const bad = await client.set(T0 + 1000, 'Log', { n: 1 });
    const badRecurrence = await client.set(T0 + 1500, 'Log', { n: 2 });
    const good = await client.set(T0 + 2000, 'Log', { n: 3 });
    rawExec(t.db.file, 'UPDATE alarms SET message = ? WHERE id = ?', '{"n": 1, oops', bad.id);
    rawExec(
      t.db.file,
      'UPDATE alarms SET recurrence = ? WHERE id = ?',
      '{"every": "soon"}',
      badRecurrence.id,
    );
    await clock.advance(2000);
    await quiesce();
    expect(failed.map((f) => f.id)).toEqual([bad.id, badRecurrence.id]);
    expect(failed[0]!.reason).toMatch(/cannot decode/);
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual([good.id]);
    expect(await client.get(bad.id)).toMatchObject({ status: 'failed', message: null });
    expect((await client.get(bad.id))!.lastError).toMatch(/cannot decode/);
  });

  it('target removed between runs: failed with the reason, the others fire', async () => {
    const log = recorder();
    const gone = recorder();
    const first = await start({ Log: log, Gone: gone });
    const a = await first.client.set(T0 + 60_000, 'Gone', { n: 1 });
    const b = await first.client.set(T0 + 60_000, 'Log', { n: 2 });
    await first.stop();
    // Restart with a tree that no longer declares 'Gone'.
    t.h = await startAlarms({
      file: t.db.file,
      clock: new ManualClock(T0 + 30_000),
      targets: { Log: log.logic },
    });
    const failed = collect(t.h.runtime, 'alarm.failed');
    await t.h.clock.advance(30_000);
    await quiesce();
    expect(failed).toEqual([expect.objectContaining({ id: a.id, target: 'Gone' })]);
    expect(failed[0]!.reason).toMatch(/'Gone' is not declared/);
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual([b.id]);
    expect(gone.deliveries).toEqual([]);
    expect(await t.h.client.get(a.id)).toMatchObject({ status: 'failed' });
  });
});
