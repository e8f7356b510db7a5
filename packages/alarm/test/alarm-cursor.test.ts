/**
 * The Alarm reads due rows with a keyset cursor: during a backlog each row is read once (not
 * once per refill while it is in flight), and anything that can land before the cursor (a new
 * set, a retry) is still delivered.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmRow, NewAlarm } from '../src/store/types.js';
import { type Harness, quiesce, recorder, spyStore, startAlarms, T0, tempDb } from './helpers.js';

let db: ReturnType<typeof tempDb>;
let h: Harness | undefined;

beforeEach(() => {
  db = tempDb();
});

afterEach(async () => {
  await h?.stop();
  h = undefined;
  db.cleanup();
});

async function seed(count: number, fireAt: (i: number) => number): Promise<void> {
  const store = openSqliteStore(db.file);
  const rows: NewAlarm[] = Array.from({ length: count }, (_, i) => ({
    fireAt: fireAt(i),
    target: 'Log',
    message: `{"i":${i}}`,
    createdAt: T0,
  }));
  await store.insert(rows);
  await store.close();
}

it('the store reads due rows after a cursor, in (fireAt, id) order', async () => {
  await seed(6, (i) => T0 + (i < 3 ? 10 : 20));
  const store = openSqliteStore(db.file);
  try {
    const ids = (rows: AlarmRow[]) => rows.map((r) => r.id);
    expect(ids(await store.due(T0 + 20, 10, { fireAt: T0 + 10, id: 2 }))).toEqual([3, 4, 5, 6]);
    expect(ids(await store.due(T0 + 20, 2, { fireAt: T0 + 10, id: 3 }))).toEqual([4, 5]);
    expect(ids(await store.due(T0 + 15, 10, { fireAt: T0 + 10, id: 3 }))).toEqual([]);
  } finally {
    await store.close();
  }
});

it('a backlog is read once: rows returned by due() add up to the backlog, not a multiple', async () => {
  const count = 3000;
  await seed(count, (i) => T0 - count + i);
  const log = recorder();
  const spy = spyStore(db.file);
  const rowsRead: number[] = [];
  const store = () => {
    const inner = spy.store();
    return new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'due') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: Parameters<typeof inner.due>) => {
          const rows = await inner.due(...args);
          rowsRead.push(rows.length);
          return rows;
        };
      },
    });
  };
  h = await startAlarms({ file: db.file, targets: { Log: log.logic }, options: { store, maxInFlight: 256 } });
  for (let i = 0; i < 200 && log.deliveries.length < count; i++) await quiesce();
  expect(log.deliveries.length).toBe(count);
  const total = rowsRead.reduce((a, b) => a + b, 0);
  // Without the cursor, each refill re-read the rows still in flight: several times the backlog.
  expect(total).toBeLessThan(count * 1.2);
});

it('a set due earlier than the cursor, made during a backlog, is delivered', async () => {
  const count = 2000;
  await seed(count, (i) => T0 - 1000 + i); // due between T0-1000 and T0+999
  const log = recorder();
  h = await startAlarms({ file: db.file, targets: { Log: log.logic }, options: { maxInFlight: 64 } });
  await quiesce();
  // The cursor has moved past the first rows; this one sorts before all of them.
  const early = await h.client.set(h.clock.now(), 'Log', { early: true });
  await h.clock.advance(1000);
  for (let i = 0; i < 200 && log.deliveries.length < count + 1; i++) await quiesce();
  expect(log.deliveries.some((d) => d.alarm.alarmId === early.id)).toBe(true);
  expect(log.deliveries.length).toBe(count + 1);
});
