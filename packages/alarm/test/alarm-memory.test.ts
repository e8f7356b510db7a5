/**
 * Memory does not grow with the number of pending alarms: the Alarm never loads them all. It
 * reads the due ones in bounded pages (at most `maxInFlight` deliveries at once) and holds only
 * the next pending one for the Timer.
 */
import { reply } from '@vigil/runtime';
import { expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import { perTest, quiesce, recorder, seed, spyStore, startAlarms, T0 } from './helpers.js';

const t = perTest();

it('on start with 5,000 pending alarms: no list, due() bounded by maxInFlight, one next alarm', async () => {
  await seed(t.db.file, 5000, (i) => T0 + 60_000 + i * 1000);
  const spy = spyStore(t.db.file);
  t.h = await startAlarms({
    file: t.db.file,
    targets: { Log: recorder().logic },
    options: { store: spy.store, maxInFlight: 64 },
  });
  await quiesce();
  const methods = new Set(spy.calls.map((c) => c.method));
  expect(methods.has('list')).toBe(false);
  for (const c of spy.calls.filter((c) => c.method === 'due')) expect(c.args[1]).toBeLessThanOrEqual(64);
  expect(spy.calls.some((c) => c.method === 'nextPending')).toBe(true);
  expect((await t.h.client.stats()).armedAt).toBe(T0 + 60_000);
});

it('a backlog of 500 due alarms is delivered with at most maxInFlight deliveries at once', async () => {
  await seed(t.db.file, 500, (i) => T0 - 1000 + i);
  const held: object[] = [];
  let most = 0;
  let delivered = 0;
  const slow = fromCallback(({ receive }) => {
    receive((event) => {
      held.push(event);
      most = Math.max(most, held.length);
    });
  });
  const spy = spyStore(t.db.file);
  t.h = await startAlarms({
    file: t.db.file,
    targets: { Log: slow },
    // One target: its own limit is the window here (by default it would be half of it).
    options: { store: spy.store, maxInFlight: 8, maxInFlightPerTarget: 8 },
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
  expect((await t.h.client.stats()).byStatus.fired).toBe(500);
});
