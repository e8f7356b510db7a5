/**
 * The Alarm reads due rows with a keyset cursor: during a backlog each row is read once (not
 * once per refill while it is in flight), and anything that can land before the cursor (a new
 * set, a retry) is still delivered.
 */
import { expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmRow } from '../src/store/types.js';
import { perTest, quiesce, recorder, seed, spyStore, startAlarms, T0 } from './helpers.js';

const t = perTest();

it('the store reads due rows after a cursor, in (fireAt, id) order', async () => {
  await seed(t.db.file, 6, (i) => T0 + (i < 3 ? 10 : 20));
  const store = openSqliteStore(t.db.file);
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
  await seed(t.db.file, count, (i) => T0 - count + i);
  const log = recorder();
  const spy = spyStore(t.db.file);
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
  t.h = await startAlarms({
    file: t.db.file,
    targets: { Log: log.logic },
    options: { store, maxInFlight: 256 },
  });
  for (let i = 0; i < 200 && log.deliveries.length < count; i++) await quiesce();
  expect(log.deliveries.length).toBe(count);
  const total = rowsRead.reduce((a, b) => a + b, 0);
  // Without the cursor, each refill re-read the rows still in flight: several times the backlog.
  expect(total).toBeLessThan(count * 1.2);
});

it('a set due earlier than the cursor, made during a backlog, is delivered', async () => {
  const count = 2000;
  await seed(t.db.file, count, (i) => T0 - 1000 + i); // due between T0-1000 and T0+999
  const log = recorder();
  t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { maxInFlight: 64 } });
  await quiesce();
  // The cursor has moved past the first rows; this one sorts before all of them.
  const early = await t.h.client.set(t.h.clock.now(), 'Log', { early: true });
  await t.h.clock.advance(1000);
  for (let i = 0; i < 200 && log.deliveries.length < count + 1; i++) await quiesce();
  expect(log.deliveries.some((d) => d.alarm.alarmId === early.id)).toBe(true);
  expect(log.deliveries.length).toBe(count + 1);
});
