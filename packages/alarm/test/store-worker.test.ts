/**
 * The SQLite store on a worker thread (`openWorkerStore`) keeps the contract of `openSqliteStore`:
 * the same rows, the same order, the same typed errors (rebuilt from the thread's, with code,
 * operation, message and cause), opening failures thrown synchronously, and a closed or dead
 * thread answered with a typed `StoreError`. Then the alarm service on it, on the real clock.
 */
import fs from 'node:fs';
import { createRuntime, Exit, worker } from '@vigil/runtime';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlarmClient } from '../src/client.js';
import { SchemaTooNewError, StoreError } from '../src/errors.js';
import { alarmSupervisor } from '../src/spec.js';
import { SCHEMA_VERSION } from '../src/store/migrations.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmStore, NewAlarm } from '../src/store/types.js';
import { openWorkerStore, storeThreadOf } from '../src/store/worker.js';
import { rawRows, recorder, tempDb } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);

function alarm(fireAt: number, extra: Partial<NewAlarm> = {}): NewAlarm {
  return { fireAt, target: 'Log', message: '{"type":"ping"}', createdAt: T0, ...extra };
}

let db: ReturnType<typeof tempDb>;
let store: AlarmStore;

beforeEach(() => {
  db = tempDb('vigil-store-worker-');
  store = openWorkerStore(db.file);
});

afterEach(async () => {
  await store.close();
  db.cleanup();
});

describe('open', () => {
  it('creates the database in WAL mode at the latest schema before returning', () => {
    const raw = new Database(db.file);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('accepts :memory: (the thread owns the only connection)', async () => {
    const mem = openWorkerStore(':memory:', { synchronous: 'NORMAL' });
    const [r] = await mem.insert([alarm(T0 + 1)]);
    expect(await mem.get(r!.row.id)).toEqual(r!.row);
    await mem.close();
  });

  it('throws SchemaTooNewError synchronously for a database from a newer schema', async () => {
    await store.close();
    const raw = new Database(db.file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    let err: unknown;
    try {
      store = openWorkerStore(db.file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect(err).toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW', found: SCHEMA_VERSION + 1 });
  });

  it('throws STORE_CORRUPT synchronously for a file that is not a database', () => {
    const junk = `${db.dir}/junk.db`;
    fs.writeFileSync(junk, 'this is not a database'.repeat(100));
    expect(() => openWorkerStore(junk)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });

  it('a database broken after the check fails every request with the typed open error', async () => {
    await store.close();
    const file = `${db.dir}/swapped.db`;
    store = openWorkerStore(file);
    // The thread opens its connection only once it has booted: replace the file before that.
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
    fs.writeFileSync(file, 'this is not a database'.repeat(100));
    const err = await store.get(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', operation: 'open' });
  });
});

describe('contract', () => {
  it('insert returns full rows with defaults; get reads them back', async () => {
    const [r] = await store.insert([alarm(T0 + 1000)]);
    expect(r).toEqual({
      created: true,
      row: {
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
      },
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
    ]);
    expect(res.map((r) => r.created)).toEqual([false, true, false]);
    expect(res[0]!.row).toEqual(a!.row);
    expect(res[2]!.row).toEqual(res[1]!.row);
    expect((await store.stats()).total).toBe(2);
  });

  it('due, nextPending and list follow their orders and filters', async () => {
    await store.insert([alarm(T0 + 30), alarm(T0 + 10), alarm(T0 + 10), alarm(T0 + 20, { target: 'Other' })]);
    expect((await store.nextPending())?.id).toBe(2);
    expect((await store.nextPending(T0 + 10))?.id).toBe(4);
    expect(await store.nextPending(T0 + 30)).toBeUndefined();
    expect((await store.due(T0 + 20, 10)).map((r) => r.id)).toEqual([2, 3, 4]);
    expect((await store.due(T0 + 20, 2)).map((r) => r.id)).toEqual([2, 3]);
    expect((await store.list({ limit: 2, afterId: 1 })).map((r) => r.id)).toEqual([2, 3]);
    expect((await store.list({ target: 'Other' })).map((r) => r.id)).toEqual([4]);
  });

  it('cancel moves only pending rows; complete applies every kind in one batch', async () => {
    await store.insert([
      alarm(T0, { recurrence: '{"every":60000}' }),
      alarm(T0),
      alarm(T0),
      alarm(T0),
      alarm(T0),
    ]);
    expect(await store.cancel(5, T0 + 7)).toMatchObject({ status: 'cancelled', settledAt: T0 + 7 });
    expect(await store.cancel(42, T0)).toBeUndefined();
    expect(
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
      ]),
    ).toEqual({ cancelled: [], refused: [] });
    expect(await store.complete([])).toEqual({ cancelled: [], refused: [] });
    expect(await store.get(1)).toMatchObject({ status: 'pending', fireAt: T0 + 60_000, occurrence: 2 });
    expect(await store.history(1)).toMatchObject([{ alarmId: 1, seq: 1, outcome: 'delivered' }]);
    expect(await store.get(3)).toMatchObject({ status: 'missed', lastError: 'missed: 5 ms late' });
    expect(await store.get(4)).toMatchObject({ status: 'pending', fireAt: T0 + 1000, scheduledFor: T0 });
    expect(await store.stats()).toEqual({
      byStatus: { pending: 2, fired: 0, failed: 1, cancelled: 1, missed: 1 },
      occurrences: { delivered: 1, missed: 1, failed: 1 },
      total: 5,
      nextFireAt: T0 + 1000,
    });
  });

  it('a cancel asked in flight keeps the row pending; the outcome then settles it', async () => {
    await store.insert([alarm(T0)]);
    expect(await store.cancel(1, T0 + 1, true)).toMatchObject({
      status: 'pending',
      cancelRequestedAt: T0 + 1,
    });
    expect(await store.complete([{ kind: 'fired', id: 1, firedAt: T0 + 2, attempts: 1 }])).toEqual({
      cancelled: [],
      refused: [],
    });
    expect(await store.get(1)).toMatchObject({ status: 'fired', cancelRequestedAt: T0 + 1, firedAt: T0 + 2 });
  });

  it('changeToken changes when another connection writes, not on its own writes', async () => {
    const t1 = await store.changeToken();
    await store.insert([alarm(T0)]);
    expect(await store.changeToken()).toBe(t1);
    const other = openSqliteStore(db.file);
    await other.insert([alarm(T0 + 1)]);
    await other.close();
    expect(await store.changeToken()).not.toBe(t1);
  });

  it('answers requests in the order they were made', async () => {
    const order: string[] = [];
    const track = <T>(name: string, p: Promise<T>) => p.then(() => void order.push(name));
    await Promise.all([
      track('insert', store.insert([alarm(T0)])),
      track('get', store.get(1)),
      track('cancel', store.cancel(1, T0)),
      track('stats', store.stats()),
    ]);
    expect(order).toEqual(['insert', 'get', 'cancel', 'stats']);
    // The get was served after the insert, the cancel after the get: each saw the one before.
    expect((await store.get(1))?.status).toBe('cancelled');
  });
});

describe('errors', () => {
  it('a bad row rejects with the same StoreError the SQLite store gives, and stores nothing', async () => {
    const bad = { ...alarm(T0), fireAt: Number.NaN };
    const fromThread = await store.insert([alarm(T0), bad]).catch((e: unknown) => e);
    const direct = openSqliteStore(':memory:');
    const fromMain = await direct.insert([alarm(T0), bad]).catch((e: unknown) => e);
    await direct.close();
    expect(fromThread).toBeInstanceOf(StoreError);
    expect(fromThread).toMatchObject({
      name: 'StoreError',
      code: 'STORE_INVALID_ROW',
      operation: 'insert',
      message: (fromMain as Error).message,
    });
    expect((await store.stats()).total).toBe(0);
  });

  it('arguments that cannot cross to the thread reject with STORE_INVALID_ROW', async () => {
    const bad = { ...alarm(T0), message: () => 'not data' } as unknown as NewAlarm;
    await expect(store.insert([bad])).rejects.toMatchObject({
      code: 'STORE_INVALID_ROW',
      operation: 'insert',
    });
    expect((await store.stats()).total).toBe(0);
  });

  it('disk full rejects with STORE_FULL, the driver error as cause, and loses nothing stored', async () => {
    await store.insert(Array.from({ length: 100 }, (_, i) => alarm(T0 + i)));
    await store.close();
    const raw = new Database(db.file);
    const pages = raw.pragma('page_count', { simple: true }) as number;
    raw.close();
    store = openWorkerStore(db.file, { maxPageCount: pages + 2 });
    const before = await store.list({ limit: 1000 });
    const big = 'x'.repeat(4000);
    const err = await store
      .insert(Array.from({ length: 50 }, (_, i) => alarm(T0 + i, { message: big })))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_FULL', operation: 'insert' });
    expect((err as StoreError).message).toMatch(/^alarm store insert failed: /);
    expect((err as StoreError).cause).toMatchObject({ name: 'SqliteError', code: 'SQLITE_FULL' });
    expect(await store.list({ limit: 1000 })).toEqual(before);
  });

  it('closed store rejects with STORE_CLOSED; close is idempotent and answers earlier requests first', async () => {
    const earlier = store.insert([alarm(T0)]);
    const closing = [store.close(), store.close()];
    expect(closing[0]).toBe(closing[1]);
    await expect(earlier).resolves.toHaveLength(1);
    await Promise.all(closing);
    const err = await store.get(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_CLOSED', operation: 'get' });
    expect(rawRows(db.file)).toHaveLength(1);
  });

  it('a thread that dies rejects what is waiting, and everything after, with STORE_FAILED', async () => {
    await store.insert([alarm(T0)]);
    await store.close();
    store = openWorkerStore(db.file, { busyTimeoutMs: 300 });
    // The request must still be unanswered when the thread dies. A read raced the terminate (the
    // thread could answer it first, and the test then failed): a write that waits for a lock
    // another connection holds cannot be answered before the lock is released or the busy timeout
    // ends, long after the terminate was requested.
    const blocker = new Database(db.file);
    blocker.exec('BEGIN IMMEDIATE');
    const waiting = store.insert([alarm(T0 + 1)]);
    const err = await Promise.all([waiting.catch((e: unknown) => e), storeThreadOf(store)!.terminate()]).then(
      ([e]) => e,
    );
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_FAILED', operation: 'insert' });
    await expect(store.get(1)).rejects.toMatchObject({ code: 'STORE_FAILED', operation: 'get' });
    await store.close(); // still resolves
  });
});

describe('alarm service with storeThread: true', () => {
  it('delivers on the real clock and again after the Alarm crashed and reopened its store', async () => {
    const target = recorder();
    const runtime = createRuntime();
    await runtime.start([
      worker('Log', target.logic),
      alarmSupervisor({ db: db.file, storeThread: true, pollMs: 0 }),
    ]);
    try {
      const client = new AlarmClient(runtime);
      const delivered = runtime.events.waitFor('alarm.delivered');
      const first = await client.set(Date.now() + 50, 'Log', { type: 'greet', n: 1 });
      expect((await delivered).id).toBe(first.id);

      const restarted = runtime.events.waitFor('actor.restarted', (e) => e.name === 'Alarm');
      runtime.exit('Alarm', Exit.error(new Error('injected crash')));
      await restarted;

      const again = runtime.events.waitFor('alarm.delivered');
      const second = await client.set(Date.now() + 50, 'Log', { type: 'greet', n: 2 });
      expect((await again).id).toBe(second.id);
      expect(target.deliveries.map((d) => (d as unknown as { n: number }).n)).toEqual([1, 2]);
    } finally {
      await runtime.stop();
    }
    // The fired marks were committed by the thread before the runtime stopped.
    expect(rawRows(db.file).map((r) => r.status)).toEqual(['fired', 'fired']);
  });
});
