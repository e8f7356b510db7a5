/**
 * Memory does not grow with the number of pending alarms: the Alarm never loads them all. It
 * reads the due ones in bounded pages (at most `maxInFlight` deliveries at once) and holds only
 * the next pending one for the Timer.
 */
import { reply } from '@vigil/runtime';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { NewAlarm } from '../src/store/types.js';
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

it('on start with 5,000 pending alarms: no list, due() bounded by maxInFlight, one next alarm', async () => {
  await seed(5000, (i) => T0 + 60_000 + i * 1000);
  const spy = spyStore(db.file);
  h = await startAlarms({
    file: db.file,
    targets: { Log: recorder().logic },
    options: { store: spy.store, maxInFlight: 64 },
  });
  await quiesce();
  const methods = new Set(spy.calls.map((c) => c.method));
  expect(methods.has('list')).toBe(false);
  for (const c of spy.calls.filter((c) => c.method === 'due')) expect(c.args[1]).toBeLessThanOrEqual(64);
  expect(spy.calls.some((c) => c.method === 'nextPending')).toBe(true);
  expect((await h.client.stats()).armedAt).toBe(T0 + 60_000);
});

it('a backlog of 500 due alarms is delivered with at most maxInFlight deliveries at once', async () => {
  await seed(500, (i) => T0 - 1000 + i);
  const held: object[] = [];
  let most = 0;
  let delivered = 0;
  const slow = fromCallback(({ receive }) => {
    receive((event) => {
      held.push(event);
      most = Math.max(most, held.length);
    });
  });
  const spy = spyStore(db.file);
  h = await startAlarms({
    file: db.file,
    targets: { Log: slow },
    options: { store: spy.store, maxInFlight: 8 },
  });
  for (let round = 0; round < 200 && delivered < 500; round++) {
    await quiesce();
    for (const event of held.splice(0)) {
      reply(event, true);
      delivered++;
    }
  }
  await quiesce();
  expect(delivered).toBe(500);
  expect(most).toBeLessThanOrEqual(8);
  expect(most).toBe(8);
  for (const c of spy.calls.filter((c) => c.method === 'due')) expect(c.args[1]).toBeLessThanOrEqual(8);
  expect((await h.client.stats()).byStatus.fired).toBe(500);
});
