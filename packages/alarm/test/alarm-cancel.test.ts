/**
 * Cancel, and a cancel that meets a delivery in flight. The delivery cannot be recalled (the
 * target has it): the answer says `pending` with `cancelRequestedAt`, the delivery's outcome is
 * recorded as it happened, and nothing is delivered after it. Records never lie.
 *
 * Matrix: one-shot / series x the target's answer after the cancel (ok, retryable), plus a row
 * left pending with a cancel request by a process that stopped.
 */
import { reply, replyError, VigilError } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { Delivery } from '../src/request.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmStore } from '../src/store/types.js';
import { collect, perTest, quiesce, rawExec, rawRows, recorder, startAlarms, T0 } from './helpers.js';

const t = perTest();

/** A target that holds each delivery until the test answers it. */
function heldTarget() {
  const held: { delivery: Delivery; answer: (how: 'ok' | 'retryable') => void }[] = [];
  const logic = fromCallback(({ receive }) => {
    receive((event) => {
      held.push({
        delivery: event as unknown as Delivery,
        answer: (how) =>
          how === 'ok'
            ? reply(event, true)
            : replyError(event, Object.assign(new VigilError('BUSY', 'try later'), { retryable: true })),
      });
    });
  });
  return { held, logic };
}

async function startHeld() {
  const target = heldTarget();
  t.h = await startAlarms({ file: t.db.file, targets: { Held: target.logic } });
  return { ...t.h, held: target.held };
}

describe('cancel while a delivery is in flight', () => {
  it('one-shot: answered pending with the request; the delivery completes and the record says fired', async () => {
    const { client, clock, runtime, held } = await startHeld();
    const cancelled = collect(runtime, 'alarm.cancelled');
    const a = await client.set(T0 + 1000, 'Held', { type: 'job' });
    const fired = runtime.events.waitFor('alarm.fired', (e) => e.id === a.id);
    await clock.advance(1000);
    await fired;
    expect(await client.cancel(a.id)).toMatchObject({
      id: a.id,
      status: 'pending',
      cancelRequestedAt: T0 + 1000,
    });
    const delivered = runtime.events.waitFor('alarm.delivered', (e) => e.id === a.id);
    held[0]!.answer('ok');
    await delivered;
    await quiesce();
    expect(await client.get(a.id)).toMatchObject({
      status: 'fired',
      firedAt: T0 + 1000,
      attempts: 1,
      cancelRequestedAt: T0 + 1000,
      counts: { delivered: 1, missed: 0, failed: 0 },
    });
    expect((await client.history(a.id))?.map((o) => o.outcome)).toEqual(['delivered']);
    expect(cancelled).toEqual([]); // it was not cancelled: it was delivered
  });

  it('one-shot: an attempt that fails after the cancel is not retried; the record says cancelled', async () => {
    const { client, clock, runtime, held } = await startHeld();
    const a = await client.set(T0 + 1000, 'Held');
    const fired = runtime.events.waitFor('alarm.fired', (e) => e.id === a.id);
    await clock.advance(1000);
    await fired;
    await client.cancel(a.id);
    const cancelled = runtime.events.waitFor('alarm.cancelled', (e) => e.id === a.id);
    held[0]!.answer('retryable');
    await cancelled;
    await clock.advance(60_000);
    await quiesce();
    expect(held).toHaveLength(1);
    expect(await client.get(a.id)).toMatchObject({
      status: 'cancelled',
      attempts: 1,
      lastError: 'try later',
      counts: { delivered: 0, missed: 0, failed: 0 },
    });
  });

  it('series: the occurrence in flight is delivered and kept in the history; the series stops', async () => {
    const { client, clock, runtime, held } = await startHeld();
    const a = await client.set(T0 + 1000, 'Held', {}, { recurrence: { every: '1 s' } });
    const first = runtime.events.waitFor('alarm.fired', (e) => e.id === a.id);
    await clock.advance(1000);
    await first;
    held[0]!.answer('ok');
    const second = runtime.events.waitFor('alarm.fired', (e) => e.id === a.id && e.occurrence === 2);
    await clock.advance(1000);
    await second;
    expect(await client.cancel(a.id)).toMatchObject({ status: 'pending', cancelRequestedAt: T0 + 2000 });
    const cancelled = runtime.events.waitFor('alarm.cancelled', (e) => e.id === a.id);
    held[1]!.answer('ok');
    await cancelled;
    await clock.advance(10_000);
    await quiesce();
    expect(held.map((h) => h.delivery.alarm.occurrence)).toEqual([1, 2]);
    expect(await client.get(a.id)).toMatchObject({
      status: 'cancelled',
      occurrence: 2,
      counts: { delivered: 2, missed: 0, failed: 0 },
    });
    expect((await client.history(a.id))?.map((o) => [o.seq, o.outcome])).toEqual([
      [1, 'delivered'],
      [2, 'delivered'],
    ]);
  });

  it('a row left pending with a cancel request (the process stopped) is cancelled at once, not delivered', async () => {
    // What a process killed between the request and the outcome leaves behind.
    const first = await startAlarms({ file: t.db.file, targets: { Held: heldTarget().logic } });
    const a = await first.client.set(T0 + 1000, 'Held');
    await first.stop();
    rawExec(
      t.db.file,
      'UPDATE alarms SET cancel_requested_at = ?, attempts = 1 WHERE id = ?',
      T0 + 500,
      a.id,
    );
    const { client, clock, runtime, held } = await startHeld();
    const cancelled = runtime.events.waitFor('alarm.cancelled', (e) => e.id === a.id);
    await clock.advance(1000);
    await cancelled;
    expect(held).toEqual([]);
    const row = await client.get(a.id);
    expect(row).toMatchObject({ status: 'cancelled', attempts: 1, cancelRequestedAt: T0 + 500 });
    expect(row!.lastError).toMatch(/cancel asked while a delivery was in flight/);
    expect(rawRows(t.db.file)).toHaveLength(1);
  });
});

describe('cancel that commits while a read of due alarms is under way', () => {
  it('the row the read returned as pending is not delivered: the caller was told it is cancelled', async () => {
    // A store whose `due` reads the rows at once and answers only when the test lets it: the
    // cancel commits in between, as it can with a store on a worker thread. It has no read-ahead
    // (`upcoming`), so the wake reads due rows (the same race on the prefetch window's read is
    // in alarm-prefetch.test.ts).
    let release: () => void = () => {};
    let hold = false;
    let readStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      readStarted = resolve;
    });
    const store = (): AlarmStore => {
      const inner = openSqliteStore(t.db.file);
      const due: AlarmStore['due'] = async (...args) => {
        const rows = await inner.due(...args);
        if (hold && rows.length > 0) {
          hold = false;
          readStarted();
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
        return rows;
      };
      return new Proxy(inner, {
        get: (target, prop) => {
          if (prop === 'due') return due;
          if (prop === 'upcoming') return undefined;
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { store } });
    const a = await t.h.client.set(T0 + 1000, 'Log');
    hold = true;
    void t.h.clock.advance(1000);
    await started; // the read has the row, still pending
    expect(await t.h.client.cancel(a.id)).toMatchObject({ status: 'cancelled' });
    release();
    await t.h.clock.advance(10);
    await quiesce();
    expect(log.deliveries).toEqual([]);
    expect(await t.h.client.get(a.id)).toMatchObject({ status: 'cancelled', counts: { delivered: 0 } });
  });
});
