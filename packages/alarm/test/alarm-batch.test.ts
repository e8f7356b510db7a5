/**
 * Batch delivery (`batchTargets`): a target that opts in gets one `alarm.batch` message per due
 * page and answers one outcome per item; every per-alarm guarantee holds per item (attempts,
 * backoff, maxAttempts, misfire, recurrence, cancel in flight, timeout, in-flight limits, events),
 * a reply of the wrong shape is a retryable typed error for every item, and targets that did not
 * opt in keep one message per alarm.
 */
import { type Runtime, reply, replyError, VigilError } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { type AnyActorLogic, fromCallback } from 'xstate';
import type { AlarmBatch, BatchOutcome } from '../src/batch.js';
import { InvalidOptionError } from '../src/errors.js';
import type { AlarmOptions } from '../src/options.js';
import type { Delivery } from '../src/request.js';
import { alarmSupervisor } from '../src/spec.js';
import { collect, perTest, rawRows, recorder, startAlarms, T0 } from './helpers.js';

const t = perTest();
const TRACE = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;

/** How a batch target answers one batch: per item, or as a whole. */
type BatchAnswer =
  | { items: (d: Delivery) => 'ok' | 'refuse' | 'retryable' }
  | { whole: 'hang' | 'reject' | 'wrong-length' | 'no-value' | 'bad-item' };

interface BatchRecorder {
  logic: AnyActorLogic;
  batches: AlarmBatch[];
  /** Replies held back by a `hang` answer, to be answered later by the test. */
  held: { event: unknown; alarms: Delivery[] }[];
  answer: (batch: AlarmBatch) => BatchAnswer;
  /** Resolves when the target has received its `n`th batch (from 1). */
  received: (n: number) => Promise<void>;
}

function batchRecorder(answer: (batch: AlarmBatch) => BatchAnswer = () => ({ items: () => 'ok' })) {
  const waiters: { n: number; resolve: () => void }[] = [];
  const rec: BatchRecorder = {
    batches: [],
    held: [],
    answer,
    logic: undefined as unknown as AnyActorLogic,
    received: (n) =>
      new Promise((resolve) => {
        if (rec.batches.length >= n) resolve();
        else waiters.push({ n, resolve });
      }),
  };
  rec.logic = fromCallback(({ receive }) => {
    receive((event) => {
      const batch = event as unknown as AlarmBatch;
      rec.batches.push(batch);
      for (const w of waiters.filter((w) => w.n === rec.batches.length)) w.resolve();
      const a = rec.answer(batch);
      if ('items' in a) {
        reply(
          event,
          batch.alarms.map((d) => outcome(a.items(d))),
        );
        return;
      }
      switch (a.whole) {
        case 'hang':
          rec.held.push({ event, alarms: batch.alarms });
          return;
        case 'reject':
          replyError(
            event,
            Object.assign(new VigilError('BUSY', 'whole batch refused'), { retryable: true }),
          );
          return;
        case 'wrong-length':
          reply(
            event,
            batch.alarms.slice(1).map(() => true),
          );
          return;
        case 'no-value':
          reply(event);
          return;
        case 'bad-item':
          reply(
            event,
            batch.alarms.map((_, i) => (i === 0 ? 'done' : true)),
          );
          return;
      }
    });
  });
  return rec;
}

function outcome(kind: 'ok' | 'refuse' | 'retryable'): BatchOutcome {
  if (kind === 'ok') return true;
  if (kind === 'refuse') return new VigilError('REFUSED', 'not for me');
  return Object.assign(new VigilError('BUSY', 'try later'), { retryable: true });
}

async function start(targets: Record<string, AnyActorLogic>, options: Partial<AlarmOptions> = {}) {
  t.h = await startAlarms({
    file: t.db.file,
    targets,
    options: { batchTargets: { Batch: {} }, ...options },
  });
  return t.h;
}

/** Resolves once `n` outcomes (delivered, retried, failed, missed) have been announced. */
function outcomes(runtime: Runtime, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    if (n === 0) resolve();
    const count = () => {
      if (++seen === n) resolve();
    };
    for (const e of ['alarm.delivered', 'alarm.retried', 'alarm.failed', 'alarm.missed'] as const)
      runtime.events.on(e, count);
  });
}

const jobs = (n: number, when: number, target = 'Batch') =>
  Array.from({ length: n }, (_, i) => ({ when, target, message: { type: 'job', i } }));

describe('the batch message', () => {
  it('one message per page, each item the delivery a per-alarm target gets; others unchanged', async () => {
    const batch = batchRecorder();
    const single = recorder();
    const { client, clock, runtime } = await start({ Batch: batch.logic, Log: single.logic });
    const fired = collect(runtime, 'alarm.fired');
    const delivered = collect(runtime, 'alarm.delivered');
    const a = await client.setMany(jobs(5, T0 + 1000));
    const traced = await client.set(T0 + 1000, 'Batch', { type: 'job', i: 5 }, { trace: TRACE });
    const b = await client.setMany(jobs(3, T0 + 1000, 'Log'));
    const done = outcomes(runtime, 9);
    await clock.advance(1000);
    await done;
    expect(batch.batches).toHaveLength(1);
    const items = batch.batches[0]!.alarms;
    expect(batch.batches[0]!.type).toBe('alarm.batch');
    expect(items.map((d) => d.i)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(items[0]).toEqual({
      type: 'job',
      i: 0,
      alarm: {
        alarmId: a[0]!.id,
        occurrence: 1,
        occurrenceId: `${a[0]!.id}.1`,
        attempt: 1,
        firedAt: T0 + 1000,
        scheduledFor: T0 + 1000,
      },
    });
    expect(items[5]!.alarm).toMatchObject({ alarmId: traced.id, trace: TRACE });
    // The per-alarm target still gets one message per alarm.
    expect(single.deliveries.map((d) => d.alarm.alarmId)).toEqual(b.map((x) => x.id));
    // Events per item, with the trace of the item that had one.
    expect(fired.filter((e) => e.target === 'Batch')).toHaveLength(6);
    expect(delivered.filter((e) => e.target === 'Batch')).toHaveLength(6);
    expect(delivered.find((e) => e.id === traced.id)).toMatchObject({ trace: TRACE, attempt: 1 });
    expect(rawRows(t.db.file).map((r) => [r.status, r.attempts])).toEqual(Array(9).fill(['fired', 1]));
  });

  it('maxBatch splits a page into batches of at most that many, in fire_at order', async () => {
    const batch = batchRecorder();
    const { client, clock, runtime } = await start(
      { Batch: batch.logic },
      { batchTargets: { Batch: { maxBatch: 4 } } },
    );
    await client.setMany(jobs(10, T0 + 1000));
    const done = outcomes(runtime, 10);
    await clock.advance(1000);
    await done;
    expect(batch.batches.map((b) => b.alarms.map((d) => d.i))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it('a batch of n counts n against maxInFlight', async () => {
    const batch = batchRecorder(() => ({ whole: 'hang' }));
    const { client, clock } = await start({ Batch: batch.logic }, { maxInFlight: 4 });
    await client.setMany(jobs(10, T0 + 1000));
    await clock.advance(1000);
    await batch.received(1);
    expect((await client.stats()).inFlight).toBe(4);
    expect(batch.batches.map((b) => b.alarms.length)).toEqual([4]);
    // Answering frees the window: the next page goes, four at a time.
    const { event, alarms } = batch.held.shift()!;
    reply(
      event as never,
      alarms.map(() => true),
    );
    await batch.received(2);
    expect(batch.batches.map((b) => b.alarms.map((d) => d.i))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect((await client.stats()).inFlight).toBe(4);
  });

  it('maxInFlightPerTarget holds a hanging batch target; another target is served meanwhile', async () => {
    const batch = batchRecorder(() => ({ whole: 'hang' }));
    const single = recorder();
    const { client, clock, runtime } = await start(
      { Batch: batch.logic, Log: single.logic },
      { maxInFlight: 8, maxInFlightPerTarget: 4 },
    );
    await client.setMany(jobs(20, T0 + 1000));
    const others = await client.setMany(jobs(6, T0 + 2000, 'Log'));
    const done = outcomes(runtime, 6);
    await clock.advance(2000);
    await done;
    expect(single.deliveries.map((d) => d.alarm.alarmId)).toEqual(others.map((a) => a.id));
    expect(batch.batches.flatMap((b) => b.alarms)).toHaveLength(4);
  });
});

describe('per-item outcomes', () => {
  it('delivered, refused and retryable items are each settled as a single delivery would be', async () => {
    const kinds = ['ok', 'refuse', 'retryable', 'ok'] as const;
    const batch = batchRecorder(() => ({
      items: (d) => (d.alarm.attempt === 1 ? kinds[d.i as number]! : 'ok'),
    }));
    const { client, clock, runtime } = await start({ Batch: batch.logic });
    const retried = collect(runtime, 'alarm.retried');
    const failed = collect(runtime, 'alarm.failed');
    const a = await client.setMany(jobs(4, T0 + 1000));
    const first = outcomes(runtime, 4);
    await clock.advance(1000);
    await first;
    expect(retried).toEqual([
      expect.objectContaining({ id: a[2]!.id, attempt: 1, nextAt: T0 + 2000, reason: 'try later' }),
    ]);
    expect(failed).toEqual([expect.objectContaining({ id: a[1]!.id })]);
    expect(failed[0]!.reason).toMatch(/refused it: not for me/);
    expect(await client.get(a[0]!.id)).toMatchObject({ status: 'fired', attempts: 1 });
    expect(await client.get(a[1]!.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await client.get(a[2]!.id)).toMatchObject({ status: 'pending', attempts: 1, fireAt: T0 + 2000 });
    // The retry comes after its backoff, alone, with the next attempt number.
    const second = outcomes(runtime, 1);
    await clock.advance(1000);
    await second;
    expect(batch.batches.at(-1)!.alarms.map((d) => [d.alarm.alarmId, d.alarm.attempt])).toEqual([
      [a[2]!.id, 2],
    ]);
    expect(await client.get(a[2]!.id)).toMatchObject({ status: 'fired', attempts: 2 });
  });

  it('outcomes as plain data (a target on a worker thread): { error, code, retryable, retryAfterMs }', async () => {
    const answers = [
      { error: 'busy', retryable: true, retryAfterMs: 5000 },
      { error: 'no such user', code: 'NO_USER' },
    ];
    const batch = batchRecorder();
    const target = fromCallback(({ receive }) => {
      receive((event) => {
        const { alarms } = event as unknown as AlarmBatch;
        batch.batches.push(event as unknown as AlarmBatch);
        reply(
          event,
          alarms.map((d) => (d.alarm.attempt === 1 ? answers[d.i as number]! : true)),
        );
      });
    });
    const { client, clock, runtime } = await start({ Batch: target });
    const retried = collect(runtime, 'alarm.retried');
    const failed = collect(runtime, 'alarm.failed');
    const a = await client.setMany(jobs(2, T0 + 1000));
    const first = outcomes(runtime, 2);
    await clock.advance(1000);
    await first;
    // retryAfterMs (5 s) is longer than the backoff (1 s): it wins, as for a replyError.
    expect(retried).toEqual([expect.objectContaining({ id: a[0]!.id, nextAt: T0 + 6000, reason: 'busy' })]);
    expect(failed).toEqual([expect.objectContaining({ id: a[1]!.id })]);
    expect(failed[0]!.reason).toMatch(/refused it: no such user/);
  });

  it('maxAttempts holds per item: a retryable item fails once it has used them', async () => {
    const batch = batchRecorder(() => ({ items: (d) => (d.i === 0 ? 'retryable' : 'ok') }));
    const { client, clock, runtime } = await start({ Batch: batch.logic });
    const failed = collect(runtime, 'alarm.failed');
    const a = await client.setMany(
      [0, 1].map((i) => ({ when: T0 + 1000, target: 'Batch', message: { i }, options: { maxAttempts: 2 } })),
    );
    const first = outcomes(runtime, 2);
    await clock.advance(1000);
    await first;
    const second = outcomes(runtime, 1);
    await clock.advance(1000);
    await second;
    expect(failed).toEqual([expect.objectContaining({ id: a[0]!.id })]);
    expect(failed[0]!.reason).toMatch(/gave up after 2 attempt/);
    expect(await client.get(a[0]!.id)).toMatchObject({ status: 'failed', attempts: 2 });
    expect(await client.get(a[1]!.id)).toMatchObject({ status: 'fired', attempts: 1 });
  });
});

describe('a batch answered as a whole', () => {
  for (const whole of ['wrong-length', 'no-value', 'bad-item'] as const) {
    it(`a reply of the wrong shape (${whole}) is INVALID_BATCH_REPLY for every item, retried`, async () => {
      let answer: 'bad' | 'ok' = 'bad';
      const batch = batchRecorder(() => (answer === 'bad' ? { whole } : { items: () => 'ok' }));
      const { client, clock, runtime } = await start({ Batch: batch.logic });
      const retried = collect(runtime, 'alarm.retried');
      const delivered = collect(runtime, 'alarm.delivered');
      const a = await client.setMany(jobs(3, T0 + 1000));
      const first = outcomes(runtime, 3);
      await clock.advance(1000);
      await first;
      expect(delivered).toEqual([]);
      expect(retried.map((e) => e.id)).toEqual(a.map((x) => x.id));
      for (const e of retried) expect(e.reason).toMatch(/batch target 'Batch' must answer a batch of 3/);
      expect(rawRows(t.db.file).map((r) => [r.status, r.attempts])).toEqual(Array(3).fill(['pending', 1]));
      answer = 'ok';
      const second = outcomes(runtime, 3);
      await clock.advance(1000);
      await second;
      expect(delivered.map((e) => e.attempt)).toEqual([2, 2, 2]);
    });
  }

  it('a whole-batch replyError is that error for each item', async () => {
    const batch = batchRecorder(() => ({ whole: 'reject' }));
    const { client, clock, runtime } = await start({ Batch: batch.logic });
    const retried = collect(runtime, 'alarm.retried');
    await client.setMany(jobs(2, T0 + 1000));
    const first = outcomes(runtime, 2);
    await clock.advance(1000);
    await first;
    expect(retried.map((e) => e.reason)).toEqual(['whole batch refused', 'whole batch refused']);
  });

  it('a batch that times out (deliveryTimeoutMs) is a failed, retryable attempt of each item', async () => {
    const batch = batchRecorder((b) =>
      b.alarms[0]!.alarm.attempt === 1 ? { whole: 'hang' } : { items: () => 'ok' },
    );
    const { client, clock, runtime } = await start({ Batch: batch.logic }, { deliveryTimeoutMs: 5000 });
    const retried = collect(runtime, 'alarm.retried');
    const a = await client.setMany(jobs(3, T0 + 1000));
    const fired = new Promise<void>((resolve) => {
      let n = 0;
      runtime.events.on('alarm.fired', () => ++n === 3 && resolve());
    });
    await clock.advance(1000);
    await fired;
    const timedOut = outcomes(runtime, 3);
    await clock.advance(5000);
    await timedOut;
    expect(retried.map((e) => [e.id, e.attempt, e.nextAt])).toEqual(a.map((x) => [x.id, 1, T0 + 7000]));
    for (const e of retried) expect(e.reason).toMatch(/no reply within 5000 ms/);
    const again = outcomes(runtime, 3);
    await clock.advance(1000);
    await again;
    expect(rawRows(t.db.file).map((r) => [r.status, r.attempts])).toEqual(Array(3).fill(['fired', 2]));
  });

  it('a target that is down: each item retried with backoff', async () => {
    const batch = batchRecorder();
    const { client, clock, runtime } = await start({ Batch: batch.logic });
    await runtime.terminateChild('Batch');
    const retried = collect(runtime, 'alarm.retried');
    await client.setMany(jobs(2, T0 + 1000));
    const first = outcomes(runtime, 2);
    await clock.advance(1000);
    await first;
    expect(retried.map((e) => e.attempt)).toEqual([1, 1]);
    expect(retried[0]!.reason).toMatch(/not running/);
  });
});

describe('series, misfire and cancel, per item', () => {
  it('a recurring item moves its series to the next occurrence, delivered in a later batch', async () => {
    const batch = batchRecorder();
    const { client, clock, runtime } = await start({ Batch: batch.logic });
    const s = await client.set(T0 + 1000, 'Batch', { type: 'tick' }, { recurrence: { every: '1 second' } });
    const one = await client.set(T0 + 1000, 'Batch', { type: 'once' });
    const first = outcomes(runtime, 2);
    await clock.advance(1000);
    await first;
    expect(await client.get(s.id)).toMatchObject({ status: 'pending', occurrence: 2, fireAt: T0 + 2000 });
    const second = outcomes(runtime, 1);
    await clock.advance(1000);
    await second;
    expect(batch.batches.map((b) => b.alarms.map((d) => d.alarm.occurrenceId))).toEqual([
      [`${s.id}.1`, `${one.id}.1`],
      [`${s.id}.2`],
    ]);
    expect((await client.history(s.id))?.map((o) => o.outcome)).toEqual(['delivered', 'delivered']);
  });

  it('misfire skip: an item later than its tolerance is missed and left out of the batch', async () => {
    const batch = batchRecorder();
    const { client, clock, runtime } = await start({ Batch: batch.logic });
    const missed = collect(runtime, 'alarm.missed');
    const late = await client.set(
      T0 + 1000,
      'Batch',
      { i: 0 },
      { misfire: { policy: 'skip', toleranceMs: 500 } },
    );
    const ok = await client.set(T0 + 1000, 'Batch', { i: 1 });
    const done = outcomes(runtime, 2);
    await clock.suspend(2000); // one wake, a second late
    await done;
    expect(missed.map((e) => e.id)).toEqual([late.id]);
    expect(batch.batches.map((b) => b.alarms.map((d) => d.alarm.alarmId))).toEqual([[ok.id]]);
    expect(await client.get(late.id)).toMatchObject({ status: 'missed' });
  });

  it('a cancel that meets an item in flight is recorded as asked; its outcome is recorded as it happened', async () => {
    const batch = batchRecorder(() => ({ whole: 'hang' }));
    const { client, clock, runtime } = await start({ Batch: batch.logic });
    const cancelled = collect(runtime, 'alarm.cancelled');
    const a = await client.setMany(jobs(2, T0 + 1000));
    const s = await client.set(T0 + 1000, 'Batch', { i: 2 }, { recurrence: { every: '1 minute' } });
    const fired = new Promise<void>((resolve) => {
      let n = 0;
      runtime.events.on('alarm.fired', () => ++n === 3 && resolve());
    });
    await clock.advance(1000);
    await fired;
    expect(await client.cancel(a[0]!.id)).toMatchObject({ status: 'pending', cancelRequestedAt: T0 + 1000 });
    expect(await client.cancel(s.id)).toMatchObject({ status: 'pending', cancelRequestedAt: T0 + 1000 });
    const done = outcomes(runtime, 3);
    const { event, alarms } = batch.held.shift()!;
    reply(
      event as never,
      alarms.map(() => true),
    );
    await done;
    expect(await client.get(a[0]!.id)).toMatchObject({ status: 'fired', cancelRequestedAt: T0 + 1000 });
    expect(await client.get(a[1]!.id)).toMatchObject({ status: 'fired', cancelRequestedAt: null });
    expect(await client.get(s.id)).toMatchObject({ status: 'cancelled', counts: { delivered: 1 } });
    expect(cancelled.map((e) => e.id)).toEqual([s.id]);
  });
});

describe('the option', () => {
  it('is validated when the spec is built', () => {
    for (const batchTargets of [
      { Batch: { maxBatch: 0 } },
      { Batch: 5 },
      'Batch',
      { Batch: { maxBatch: 'x' } },
    ]) {
      expect(() => alarmSupervisor({ db: ':memory:', batchTargets } as never)).toThrow(InvalidOptionError);
    }
    expect(() => alarmSupervisor({ db: ':memory:', batchTargets: { Batch: {} } })).not.toThrow();
  });
});
