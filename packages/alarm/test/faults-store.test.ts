/**
 * Fault injection, the database under the running service: another connection holding the write
 * lock past `busy_timeout`, and a full disk (`max_page_count`). A `set` that cannot be committed
 * rejects with a typed error and stores nothing; alarms already stored keep firing; once the
 * fault clears, everything works again. (The store alone is tested in store.test.ts; here the
 * faults go through the Alarm actor and `AlarmClient`.)
 */
import { ManualClock, VigilError } from '@vigil/runtime';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from '../src/errors.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { collect, perTest, quiesce, rawRows, recorder, startAlarms, T0 } from './helpers.js';

const t = perTest();
let locker: Database.Database | undefined;

// Registered after perTest's, so it runs first: the lock is released before the harness stops.
afterEach(() => {
  if (locker?.inTransaction) locker.exec('ROLLBACK');
  locker?.close();
  locker = undefined;
});

describe('SQLite busy: another connection holds the write lock', () => {
  it('set rejects with STORE_BUSY and stores nothing; after release it works and everything fires', async () => {
    const log = recorder();
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Log: log.logic },
      options: { store: () => openSqliteStore(t.db.file, { busyTimeoutMs: 50 }) },
    });
    const before = await t.h.client.set(T0 + 1000, 'Log', { n: 'before' });
    locker = new Database(t.db.file);
    locker.exec('BEGIN IMMEDIATE');
    const err = await t.h.client.set(T0 + 2000, 'Log', { n: 'during' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VigilError);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_BUSY', operation: 'insert' });
    // A whole group commit fails together and every member hears it.
    const group = await Promise.allSettled([1, 2, 3].map((n) => t.h!.client.set(T0 + 3000, 'Log', { n })));
    expect(group.map((g) => g.status === 'rejected' && (g.reason as StoreError).code)).toEqual([
      'STORE_BUSY',
      'STORE_BUSY',
      'STORE_BUSY',
    ]);
    // Reads are not blocked by the writer (WAL).
    expect(await t.h.client.get(before.id)).toMatchObject({ status: 'pending' });
    locker.exec('ROLLBACK');
    expect(rawRows(t.db.file).map((r) => r.id)).toEqual([before.id]);
    const after = await t.h.client.set(T0 + 2000, 'Log', { n: 'after' });
    await t.h.clock.advance(2000);
    await quiesce();
    expect(log.deliveries.map((d) => d.n)).toEqual(['before', 'after']);
    expect(rawRows(t.db.file).map((r) => [r.id, r.status])).toEqual([
      [before.id, 'fired'],
      [after.id, 'fired'],
    ]);
    expect(t.h.runtime.state).toBe('running');
  });

  it('a fired mark blocked by the lock is kept and committed after release, without redelivery', async () => {
    const log = recorder();
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Log: log.logic },
      options: { store: () => openSqliteStore(t.db.file, { busyTimeoutMs: 50 }) },
    });
    const a = await t.h.client.set(T0 + 1000, 'Log');
    const delivered = collect(t.h.runtime, 'alarm.delivered');
    locker = new Database(t.db.file);
    locker.exec('BEGIN IMMEDIATE');
    await t.h.clock.advance(1000);
    await quiesce();
    expect(log.deliveries).toHaveLength(1);
    expect(delivered).toEqual([]); // not announced: the mark is not committed yet
    expect(rawRows(t.db.file)[0]).toMatchObject({ status: 'pending' });
    locker.exec('ROLLBACK');
    await t.h.clock.advance(1000); // the Alarm tries the record again after a second
    await quiesce();
    expect(delivered.map((d) => d.id)).toEqual([a.id]);
    expect(rawRows(t.db.file)[0]).toMatchObject({ status: 'fired' });
    expect(log.deliveries).toHaveLength(1);
  });
});

describe('disk full: max_page_count reached', () => {
  /** The page count of the database as it stands, read on a side connection. */
  function pageCount(): number {
    const side = new Database(t.db.file);
    try {
      return side.pragma('page_count', { simple: true }) as number;
    } finally {
      side.close();
    }
  }

  it('set rejects with STORE_FULL, nothing stored is lost, stored alarms keep firing', async () => {
    // Fill a first life with alarms, then reopen the service with the file capped at its size.
    const first = await startAlarms({ file: t.db.file, targets: { Log: recorder().logic } });
    const stored = await first.client.setMany(
      Array.from({ length: 200 }, (_, i) => ({ when: T0 + 1000 + i, target: 'Log', message: { i } })),
    );
    await first.stop();
    const cap = pageCount();

    const log = recorder();
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Log: log.logic },
      options: { store: () => openSqliteStore(t.db.file, { maxPageCount: cap }) },
    });
    const recordErrors = collect(t.h.runtime, 'listener.error');
    const big = { pad: 'x'.repeat(64 * 1024) };
    const err = await t.h.client.set(T0 + 5000, 'Log', big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_FULL', operation: 'insert' });
    expect(rawRows(t.db.file)).toHaveLength(200);

    // Every stored alarm is delivered, once. Their fired marks need index pages too: those that
    // do not fit stay pending on disk (so a restart delivers them again: at least once), are
    // reported, and are retried by this life without delivering again.
    await t.h.clock.advance(1500);
    await quiesce();
    await t.h.clock.advance(3000);
    await quiesce();
    expect(log.deliveries.map((d) => d.i)).toEqual(stored.map((_, i) => i));
    const rows = rawRows(t.db.file);
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => r.status === 'fired' || r.status === 'pending')).toBe(true);
    const unmarked = rows.filter((r) => r.status === 'pending').length;
    if (unmarked > 0) {
      expect(recordErrors.length).toBeGreaterThan(0);
      expect(recordErrors[0]!.error).toMatchObject({ code: 'STORE_FULL' });
    }
    expect(t.h.runtime.state).toBe('running');
    await t.h.stop();

    // Space back (no cap): the unmarked ones are delivered again and marked; none is lost.
    const again = recorder();
    t.h = await startAlarms({
      file: t.db.file,
      clock: new ManualClock(T0 + 5000),
      targets: { Log: again.logic },
    });
    await quiesce();
    expect(again.deliveries).toHaveLength(unmarked);
    expect(rawRows(t.db.file).every((r) => r.status === 'fired')).toBe(true);
  });

  it('after space is freed (a larger cap on restart), set works again', async () => {
    const first = await startAlarms({ file: t.db.file, targets: { Log: recorder().logic } });
    await first.client.set(T0 + 1000, 'Log');
    await first.stop();
    const cap = pageCount();
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Log: recorder().logic },
      options: { store: () => openSqliteStore(t.db.file, { maxPageCount: cap }) },
    });
    await expect(t.h.client.set(T0 + 2000, 'Log', { pad: 'y'.repeat(64 * 1024) })).rejects.toMatchObject({
      code: 'STORE_FULL',
    });
    await t.h.stop();
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic } });
    const b = await t.h.client.set(T0 + 2000, 'Log', { pad: 'y'.repeat(64 * 1024) });
    await t.h.clock.advance(2000);
    await quiesce();
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual([1, b.id]);
  });
});

describe('store unavailable (a shared database restarting): STORE_UNAVAILABLE', () => {
  it('the Alarm waits for the store instead of crashing, then delivers what came due meanwhile', async () => {
    const log = recorder();
    let down = false;
    const store = () => {
      const inner = openSqliteStore(t.db.file);
      return new Proxy(inner, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) =>
            down && prop !== 'close'
              ? Promise.reject(new StoreError('STORE_UNAVAILABLE', String(prop), 'connection refused'))
              : (value as (...a: unknown[]) => unknown).apply(target, args);
        },
      });
    };
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { store } });
    const crashed = collect(t.h.runtime, 'actor.crashed');
    const before = await t.h.client.set(T0 + 1000, 'Log', { n: 'before' });
    down = true;
    await t.h.clock.advance(1000); // due now: the Timer wakes the Alarm, whose read fails
    await quiesce();
    const err = await t.h.client.set(T0 + 2000, 'Log', { n: 'during' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await t.h.clock.advance(1000); // retries while it is down: still no crash
    await quiesce();
    expect(log.deliveries).toEqual([]);
    down = false;
    const delivered = t.h.runtime.events.waitFor('alarm.delivered', (e) => e.id === before.id);
    await t.h.clock.advance(5000); // the longest wait between tries
    await delivered;
    expect(crashed).toEqual([]);
    expect(log.deliveries.map((d) => d.n)).toEqual(['before']);
    expect(rawRows(t.db.file).map((r) => r.status)).toEqual(['fired']);
  });
});
