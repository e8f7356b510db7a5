/**
 * The AlarmStore contract, shared by every backend (SQLite here, PostgreSQL in @vigil/postgres):
 * the same calls must give the same rows. A backend gives `open()` (a fresh, empty store whose
 * ids start at 1) and `openOther()` (a second connection to the same data).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../src/errors.js';
import type { AlarmStore, NewAlarm } from '../src/store/types.js';

/** How the contract suite opens stores of one backend. */
export interface StoreBackend {
  open(): Promise<AlarmStore>;
  openOther(): Promise<AlarmStore>;
  cleanup?(): Promise<void> | void;
}

export const T0 = Date.UTC(2026, 0, 1);

export function alarm(fireAt: number, extra: Partial<NewAlarm> = {}): NewAlarm {
  return { fireAt, target: 'Log', message: '{"type":"ping"}', createdAt: T0, ...extra };
}

/** Registers the contract tests for one backend. */
export function storeContract(name: string, backend: StoreBackend): void {
  describe(`AlarmStore contract: ${name}`, () => {
    let store: AlarmStore;
    beforeEach(async () => {
      store = await backend.open();
    });
    afterEach(async () => {
      await store.close();
      await backend.cleanup?.();
    });

    describe('insert and get', () => {
      it('returns full rows with defaults', async () => {
        const [r] = await store.insert([alarm(T0 + 1000)]);
        expect(r!.created).toBe(true);
        expect(r!.row).toEqual({
          id: 1,
          fireAt: T0 + 1000,
          scheduledFor: T0 + 1000,
          target: 'Log',
          message: '{"type":"ping"}',
          status: 'pending',
          attempts: 0,
          lastError: null,
          createdAt: T0,
          firedAt: null,
          settledAt: null,
          key: null,
          recurrence: null,
          misfire: null,
          maxAttempts: 1,
          backoff: null,
          occurrence: 1,
          deliveredCount: 0,
          missedCount: 0,
          failedCount: 0,
          cancelRequestedAt: null,
        });
        expect(await store.get(1)).toEqual(r!.row);
        expect(await store.get(99)).toBeUndefined();
      });

      it('idempotency key returns the first row, also within one batch', async () => {
        const [a] = await store.insert([alarm(T0 + 1, { key: 'k1' })]);
        const res = await store.insert([
          alarm(T0 + 2, { key: 'k1' }),
          alarm(T0 + 3, { key: 'k2' }),
          alarm(T0 + 4, { key: 'k2' }),
          alarm(T0 + 5),
        ]);
        expect(res.map((r) => r.created)).toEqual([false, true, false, true]);
        expect(res[0]!.row).toEqual(a!.row);
        expect(res[2]!.row).toEqual(res[1]!.row);
        expect(res[2]!.row.fireAt).toBe(T0 + 3);
        expect((await store.stats()).total).toBe(3);
      });

      it('a bad row rejects the whole batch and stores nothing', async () => {
        const bad = { ...alarm(T0), fireAt: Number.NaN };
        await expect(store.insert([alarm(T0), bad])).rejects.toMatchObject({ code: 'STORE_INVALID_ROW' });
        expect((await store.stats()).total).toBe(0);
      });

      it('a batch bigger than one INSERT statement: input order, keys deduplicated across statements', async () => {
        // 300 rows span several multi-row statements (SQLite: 128 + 128 + 32 + 8 + 4); 'dup'
        // appears twice inside the first statement and again past its boundary, 'pre' existed.
        const [pre] = await store.insert([alarm(T0, { key: 'pre' })]);
        const keyOf = (i: number) =>
          [5, 127, 128, 299].includes(i) ? 'dup' : i === 200 ? 'pre' : i === 130 ? 'k130' : null;
        const batch = Array.from({ length: 300 }, (_, i) => alarm(T0 + 1000 + i, { key: keyOf(i) }));
        const res = await store.insert(batch);
        expect(res).toHaveLength(300);
        const created = res.flatMap((r, i) => (r.created ? [i] : []));
        expect(created).toEqual(
          Array.from({ length: 300 }, (_, i) => i).filter((i) => ![127, 128, 299, 200].includes(i)),
        );
        // Created rows carry their own item's fields, in input order, with increasing ids.
        for (const i of created) expect(res[i]!.row.fireAt).toBe(T0 + 1000 + i);
        const ids = created.map((i) => res[i]!.row.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(ids.length);
        for (const i of [127, 128, 299]) expect(res[i]!.row).toEqual(res[5]!.row);
        expect(res[200]!.row).toEqual(pre!.row);
        // What insert answered is what is stored.
        for (const i of [0, 5, 126, 129, 130, 255, 256, 298])
          expect(await store.get(res[i]!.row.id)).toEqual(res[i]!.row);
        expect((await store.stats()).total).toBe(1 + created.length);
        expect((await store.list({ key: 'dup' })).map((r) => r.id)).toEqual([res[5]!.row.id]);
      });

      it('a bad row far into a big batch rejects all of it: bad input changes nothing', async () => {
        await store.insert([alarm(T0)]);
        const batch = Array.from({ length: 300 }, (_, i) => alarm(T0 + i, { key: `b${i}` }));
        batch[250] = { ...batch[250]!, target: '' };
        await expect(store.insert(batch)).rejects.toMatchObject({ code: 'STORE_INVALID_ROW' });
        expect((await store.stats()).total).toBe(1);
        expect(await store.list({ key: 'b0' })).toEqual([]);
      });

      it('a batch without keys keeps each row its own columns, raw text with NUL bytes included', async () => {
        const res = await store.insert([
          alarm(T0 + 1, { message: '{"n":1}', recurrence: '{"every":1000}', maxAttempts: 3 }),
          alarm(T0 + 2, { target: 'Other', misfire: '{"policy":"skip","toleranceMs":5}' }),
          alarm(T0 + 3, { message: '\u0000{"n":3}', backoff: '{"minMs":1,"maxMs":2,"factor":2}' }),
        ]);
        expect(res.map((r) => [r.created, r.row.id, r.row.fireAt])).toEqual([
          [true, 1, T0 + 1],
          [true, 2, T0 + 2],
          [true, 3, T0 + 3],
        ]);
        expect(res[0]!.row).toMatchObject({
          message: '{"n":1}',
          recurrence: '{"every":1000}',
          maxAttempts: 3,
        });
        expect(res[1]!.row).toMatchObject({ target: 'Other', misfire: '{"policy":"skip","toleranceMs":5}' });
        expect(res[1]!.row).toMatchObject({ recurrence: null, backoff: null, maxAttempts: 1 });
        expect(res[2]!.row).toMatchObject({
          message: '\u0000{"n":3}',
          backoff: '{"minMs":1,"maxMs":2,"factor":2}',
        });
        for (const r of res) expect(await store.get(r.row.id)).toEqual(r.row);
      });

      it('returns garbage JSON columns as raw text', async () => {
        const [r] = await store.insert([alarm(T0, { message: '{not json', recurrence: '\u0000garbage' })]);
        expect((await store.get(r!.row.id))?.message).toBe('{not json');
        expect((await store.due(T0, 10))[0]?.recurrence).toBe('\u0000garbage');
      });
    });

    describe('ordering', () => {
      it('due and nextPending follow (fireAt, id)', async () => {
        await store.insert([alarm(T0 + 30), alarm(T0 + 10), alarm(T0 + 10), alarm(T0 + 20)]);
        expect((await store.nextPending())?.id).toBe(2);
        expect((await store.due(T0 + 20, 10)).map((r) => r.id)).toEqual([2, 3, 4]);
        expect((await store.due(T0 + 20, 2)).map((r) => r.id)).toEqual([2, 3]);
        expect(await store.due(T0 + 9, 10)).toEqual([]);
      });

      it('nextPending(after) skips alarms at or before the instant', async () => {
        await store.insert([alarm(T0 + 30), alarm(T0 + 10), alarm(T0 + 20)]);
        expect((await store.nextPending(T0 + 10))?.id).toBe(3);
        expect((await store.nextPending(T0 + 9))?.id).toBe(2);
        expect(await store.nextPending(T0 + 30)).toBeUndefined();
      });

      it('upcoming (optional) reads pending rows after a key, due or not, in (fireAt, id) order', async () => {
        if (!store.upcoming) return; // a store without a read-ahead: the Alarm reads due rows only
        await store.insert([alarm(T0 + 30), alarm(T0 + 10), alarm(T0 + 10), alarm(T0 + 20), alarm(T0 + 40)]);
        await store.cancel(4, T0);
        const ids = (rows: { id: number }[]) => rows.map((r) => r.id);
        expect(ids(await store.upcoming({ fireAt: 0, id: 0 }, 10))).toEqual([2, 3, 1, 5]);
        expect(ids(await store.upcoming({ fireAt: T0 + 10, id: 2 }, 2))).toEqual([3, 1]);
        expect(ids(await store.upcoming({ fireAt: T0 + 10, id: Number.MAX_SAFE_INTEGER }, 10))).toEqual([
          1, 5,
        ]);
        expect(await store.upcoming({ fireAt: T0 + 40, id: 5 }, 10)).toEqual([]);
      });

      it('list filters and pages by id', async () => {
        await store.insert([alarm(T0), alarm(T0, { target: 'Other' }), alarm(T0), alarm(T0)]);
        await store.cancel(3, T0);
        expect((await store.list()).map((r) => r.id)).toEqual([1, 2, 3, 4]);
        expect((await store.list({ limit: 2, afterId: 1 })).map((r) => r.id)).toEqual([2, 3]);
        expect((await store.list({ status: 'cancelled' })).map((r) => r.id)).toEqual([3]);
        expect(
          (await store.list({ status: ['pending', 'cancelled'], target: 'Log' })).map((r) => r.id),
        ).toEqual([1, 3, 4]);
        expect((await store.list({ target: 'Other' })).map((r) => r.id)).toEqual([2]);
      });

      it('list filters by key and by a range of next instants, with the other filters and paging', async () => {
        await store.insert([
          alarm(T0, { key: 'a' }),
          alarm(T0 + 1000, { key: 'b' }),
          alarm(T0 + 2000),
          alarm(T0 + 3000, { target: 'Other' }),
          alarm(T0 + 4000),
        ]);
        expect((await store.list({ key: 'b' })).map((r) => r.id)).toEqual([2]);
        expect(await store.list({ key: 'missing' })).toEqual([]);
        expect((await store.list({ key: 'a', target: 'Other' })).map((r) => r.id)).toEqual([]);
        // fireFrom inclusive, fireTo exclusive.
        expect((await store.list({ fireFrom: T0 + 1000, fireTo: T0 + 4000 })).map((r) => r.id)).toEqual([
          2, 3, 4,
        ]);
        expect(
          (await store.list({ fireFrom: T0 + 1000, fireTo: T0 + 4000, target: 'Log' })).map((r) => r.id),
        ).toEqual([2, 3]);
        expect((await store.list({ fireFrom: T0 + 1000, limit: 2, afterId: 2 })).map((r) => r.id)).toEqual([
          3, 4,
        ]);
        expect((await store.list({ fireTo: T0 + 1 })).map((r) => r.id)).toEqual([1]);
      });
    });

    describe('cancel', () => {
      it('cancels only pending alarms', async () => {
        await store.insert([alarm(T0), alarm(T0)]);
        const c = await store.cancel(1, T0 + 7);
        expect(c).toMatchObject({ id: 1, status: 'cancelled', settledAt: T0 + 7 });
        await store.complete([{ kind: 'fired', id: 2, firedAt: T0 + 1, attempts: 1 }]);
        expect(await store.cancel(2, T0 + 8)).toMatchObject({ status: 'fired', settledAt: T0 + 1 });
        expect(await store.cancel(1, T0 + 9)).toMatchObject({ status: 'cancelled', settledAt: T0 + 7 });
        expect(await store.cancel(42, T0)).toBeUndefined();
        expect(await store.nextPending()).toBeUndefined();
      });
    });

    describe('complete', () => {
      it('applies every kind in one batch; a series moves to its next occurrence in the same row', async () => {
        await store.insert([alarm(T0, { recurrence: '{"every":60000}' }), alarm(T0), alarm(T0), alarm(T0)]);
        await store.complete([
          {
            kind: 'fired',
            id: 1,
            firedAt: T0 + 5,
            attempts: 1,
            occurrence: { seq: 1, scheduledFor: T0 },
            next: T0 + 60_000,
          },
          { kind: 'failed', id: 2, at: T0 + 5, attempts: 3, reason: 'target gone' },
          { kind: 'missed', id: 3, at: T0 + 5, lateMs: 5 },
          { kind: 'retry', id: 4, attempts: 1, fireAt: T0 + 1000, reason: 'ACTOR_DOWN' },
        ]);
        expect(await store.get(1)).toMatchObject({
          status: 'pending',
          fireAt: T0 + 60_000,
          scheduledFor: T0 + 60_000,
          firedAt: T0 + 5,
          attempts: 0,
          occurrence: 2,
          deliveredCount: 1,
          recurrence: '{"every":60000}',
        });
        expect(await store.history(1)).toEqual([
          {
            alarmId: 1,
            seq: 1,
            scheduledFor: T0,
            attempts: 1,
            outcome: 'delivered',
            error: null,
            settledAt: T0 + 5,
          },
        ]);
        expect(await store.get(2)).toMatchObject({
          status: 'failed',
          lastError: 'target gone',
          attempts: 3,
          failedCount: 1,
        });
        expect(await store.get(3)).toMatchObject({
          status: 'missed',
          lastError: 'missed: 5 ms late',
          missedCount: 1,
        });
        expect(await store.get(4)).toMatchObject({
          status: 'pending',
          fireAt: T0 + 1000,
          scheduledFor: T0,
          attempts: 1,
          lastError: 'ACTOR_DOWN',
        });
        expect(await store.get(5)).toBeUndefined(); // no new row for the next occurrence
        // A shared store may report more (clockSkewMs, unrouted); these are the contract's.
        const { clockSkewMs: _skew, unrouted: _unrouted, ...stats } = await store.stats();
        expect(stats).toEqual({
          byStatus: { pending: 2, fired: 0, failed: 1, cancelled: 0, missed: 1 },
          occurrences: { delivered: 1, missed: 1, failed: 1 },
          total: 4,
          nextFireAt: T0 + 1000,
        });
      });

      it('a run of one-shot deliveries: each row its own instant and attempts, each race recorded as it was', async () => {
        await store.insert([alarm(T0), alarm(T0), alarm(T0), alarm(T0), alarm(T0), alarm(T0)]);
        await store.cancel(2, T0 + 1, true); // asked while in flight
        await store.cancel(3, T0 + 1); // cancelled (by another connection, say) before the outcome
        await store.complete([{ kind: 'fired', id: 4, firedAt: T0 + 1, attempts: 1 }]); // already final
        // The last outcome repeats row 1: it meets a final row and changes nothing.
        const result = await store.complete(
          [1, 2, 3, 4, 5, 6, 1].map((id, i) => ({
            kind: 'fired' as const,
            id,
            firedAt: i < 6 ? T0 + 10 + id : T0 + 99,
            attempts: i < 6 ? id : 99,
          })),
        );
        // A one-shot that was delivered is fired, not cancelled; the outcomes for rows already
        // final (4 before the batch, 1 by the batch's own first outcome) are refused.
        expect(result).toEqual({ cancelled: [], refused: [4, 1] });
        for (const id of [1, 5, 6]) {
          expect(await store.get(id)).toMatchObject({
            status: 'fired',
            firedAt: T0 + 10 + id,
            settledAt: T0 + 10 + id,
            attempts: id,
            deliveredCount: 1,
            cancelRequestedAt: null,
          });
        }
        expect(await store.get(2)).toMatchObject({
          status: 'fired',
          firedAt: T0 + 12,
          cancelRequestedAt: T0 + 1,
          deliveredCount: 1,
        });
        expect(await store.get(3)).toMatchObject({ status: 'fired', firedAt: T0 + 13, deliveredCount: 1 });
        // Already final before this batch: untouched, counted once.
        expect(await store.get(4)).toMatchObject({ status: 'fired', firedAt: T0 + 1, deliveredCount: 1 });
        expect((await store.stats()).byStatus.fired).toBe(6);
      });

      it('a cancelled series stays stopped; a delivery that raced the cancel is still recorded', async () => {
        await store.insert([alarm(T0, { recurrence: '{"every":1000}' })]);
        await store.cancel(1, T0 + 1);
        const result = await store.complete([
          {
            kind: 'fired',
            id: 1,
            firedAt: T0 + 2,
            attempts: 1,
            occurrence: { seq: 1, scheduledFor: T0 },
            next: T0 + 1000,
          },
        ]);
        // It was already cancelled (not this batch's doing); the delivery is recorded, not refused.
        expect(result).toEqual({ cancelled: [], refused: [] });
        expect(await store.get(1)).toMatchObject({
          status: 'cancelled',
          fireAt: T0,
          settledAt: T0 + 1,
          cancelRequestedAt: T0 + 1,
          firedAt: T0 + 2,
          deliveredCount: 1,
        });
        expect((await store.history(1)).map((o) => o.outcome)).toEqual(['delivered']);
        expect((await store.stats()).total).toBe(1);
      });
    });

    describe('refused outcomes', () => {
      it('an outcome for a row that is absent or already final is refused and changes nothing', async () => {
        await store.insert([alarm(T0), alarm(T0, { recurrence: '{"every":1000}' }), alarm(T0)]);
        await store.complete([{ kind: 'failed', id: 1, at: T0 + 1, attempts: 1, reason: 'gone' }]);
        const before = await Promise.all([1, 2, 3].map((id) => store.get(id)));
        const result = await store.complete([
          { kind: 'fired', id: 1, firedAt: T0 + 2, attempts: 1 }, // final: failed
          { kind: 'retry', id: 1, attempts: 2, fireAt: T0 + 500, reason: 'busy' },
          { kind: 'missed', id: 99, at: T0 + 2, lateMs: 2 }, // absent
          { kind: 'fired', id: 3, firedAt: T0 + 2, attempts: 1 }, // applied
          { kind: 'cancelled', id: 2, at: T0 + 2, reason: 'asked' }, // not asked to cancel
        ]);
        expect(result).toEqual({ cancelled: [], refused: [1, 1, 99, 2] });
        expect(await store.get(1)).toEqual(before[0]);
        expect(await store.get(2)).toEqual(before[1]);
        expect(await store.get(3)).toMatchObject({ status: 'fired', firedAt: T0 + 2 });
        expect(await store.history(1)).toMatchObject([{ outcome: 'failed', error: 'gone' }]);
      });
    });

    describe('cancel in flight', () => {
      it('records the request, keeps the row pending, and lets the outcome settle it', async () => {
        await store.insert([alarm(T0), alarm(T0), alarm(T0, { recurrence: '{"every":1000}' })]);
        for (const id of [1, 2, 3]) {
          expect(await store.cancel(id, T0 + 1, true)).toMatchObject({
            status: 'pending',
            cancelRequestedAt: T0 + 1,
          });
        }
        const result = await store.complete([
          { kind: 'fired', id: 1, firedAt: T0 + 3, attempts: 1 },
          { kind: 'retry', id: 2, attempts: 1, fireAt: T0 + 500, reason: 'ACTOR_DOWN' },
          {
            kind: 'fired',
            id: 3,
            firedAt: T0 + 3,
            attempts: 1,
            occurrence: { seq: 1, scheduledFor: T0 },
            next: T0 + 1000,
          },
        ]);
        expect(result).toEqual({ cancelled: [2, 3], refused: [] });
        // The one-shot was delivered: the record says so, and that a cancel came too late.
        expect(await store.get(1)).toMatchObject({
          status: 'fired',
          firedAt: T0 + 3,
          settledAt: T0 + 3,
          cancelRequestedAt: T0 + 1,
          deliveredCount: 1,
        });
        expect(await store.history(1)).toMatchObject([{ seq: 1, outcome: 'delivered' }]);
        // The attempt failed: no more attempts; cancelled, with the attempt and its error kept.
        expect(await store.get(2)).toMatchObject({
          status: 'cancelled',
          attempts: 1,
          lastError: 'ACTOR_DOWN',
          deliveredCount: 0,
        });
        expect(await store.history(2)).toEqual([]);
        // The series: its occurrence was delivered and is history; no next occurrence.
        expect(await store.get(3)).toMatchObject({
          status: 'cancelled',
          fireAt: T0,
          occurrence: 1,
          deliveredCount: 1,
          settledAt: T0 + 3,
        });
        expect(await store.history(3)).toMatchObject([{ seq: 1, outcome: 'delivered', attempts: 1 }]);
        expect(await store.due(T0 + 10_000, 10)).toEqual([]);
      });

      it('a pending row whose cancel was asked is settled cancelled by a `cancelled` completion', async () => {
        await store.insert([alarm(T0)]);
        await store.cancel(1, T0 + 1, true);
        expect(await store.complete([{ kind: 'cancelled', id: 1, at: T0 + 9, reason: 'asked' }])).toEqual({
          cancelled: [1],
          refused: [],
        });
        expect(await store.get(1)).toMatchObject({
          status: 'cancelled',
          settledAt: T0 + 9,
          lastError: 'asked',
        });
      });
    });

    describe('history', () => {
      it('pages a series and derives the one occurrence of a settled one-shot alarm', async () => {
        await store.insert([alarm(T0, { recurrence: '{"every":1000}' }), alarm(T0)]);
        for (let k = 0; k < 3; k++) {
          const at = T0 + k * 1000;
          await store.complete([
            {
              kind: k === 1 ? 'missed' : 'fired',
              id: 1,
              at,
              firedAt: at,
              lateMs: 7,
              attempts: 1,
              occurrence: { seq: k + 1, scheduledFor: at },
              next: at + 1000,
            } as never,
          ]);
        }
        expect((await store.history(1)).map((o) => [o.seq, o.outcome])).toEqual([
          [1, 'delivered'],
          [2, 'missed'],
          [3, 'delivered'],
        ]);
        expect((await store.history(1, 1, 1)).map((o) => o.seq)).toEqual([2]);
        expect(await store.get(1)).toMatchObject({ occurrence: 4, deliveredCount: 2, missedCount: 1 });
        expect(await store.history(2)).toEqual([]); // pending one-shot: nothing settled yet
        await store.complete([{ kind: 'failed', id: 2, at: T0 + 4, attempts: 2, reason: 'refused' }]);
        expect(await store.history(2)).toEqual([
          {
            alarmId: 2,
            seq: 1,
            scheduledFor: T0,
            attempts: 2,
            outcome: 'failed',
            error: 'refused',
            settledAt: T0 + 4,
          },
        ]);
        expect(await store.history(99)).toEqual([]);
      });
    });

    describe('changeToken', () => {
      it('changes when another connection writes, not on our own writes', async () => {
        const t1 = await store.changeToken();
        await store.insert([alarm(T0)]);
        expect(await store.changeToken()).toBe(t1);
        const other = await backend.openOther();
        await other.insert([alarm(T0 + 1)]);
        await other.close();
        expect(await store.changeToken()).not.toBe(t1);
      });
    });

    describe('close', () => {
      it('closed store rejects with STORE_CLOSED; close is idempotent', async () => {
        await store.close();
        await store.close();
        await expect(store.get(1)).rejects.toBeInstanceOf(StoreError);
        await expect(store.get(1)).rejects.toMatchObject({ code: 'STORE_CLOSED' });
      });
    });
  });
}
