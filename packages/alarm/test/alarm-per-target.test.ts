/**
 * In-flight limits per target: a target that hangs holds at most `maxInFlightPerTarget`
 * deliveries, and the other targets' due alarms are delivered meanwhile, on a refill from the
 * cursor and on a Timer wake alike, also with a store that ignores `due`'s `exceptTargets`.
 */
import { expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmStore } from '../src/store/types.js';
import { perTest, recorder, startAlarms, T0 } from './helpers.js';

const t = perTest();

/** Resolves once every alarm of `ids` has been delivered. */
function deliveredAll(runtime: import('@vigil/runtime').Runtime, ids: number[]): Promise<void> {
  const left = new Set(ids);
  return new Promise((resolve) => {
    if (left.size === 0) resolve();
    runtime.events.on('alarm.delivered', (e) => {
      left.delete(e.id);
      if (left.size === 0) resolve();
    });
  });
}

async function hangingAndOther(store?: () => AlarmStore) {
  const stuck = recorder(() => 'hang');
  const log = recorder();
  // A limit of 4 of 8 per target. The hanging target's 20 alarms come due
  // first, so before per-target limits they filled the whole window and, with more than half of
  // it in flight, no refill read the others until the deliveries timed out (30 s, never here).
  t.h = await startAlarms({
    file: t.db.file,
    targets: { Stuck: stuck.logic, Log: log.logic },
    options: { maxInFlight: 8, maxInFlightPerTarget: 4, ...(store ? { store } : {}) },
  });
  const { client, clock, runtime } = t.h;
  await client.setMany(
    Array.from({ length: 20 }, (_, i) => ({ when: T0 + 1000, target: 'Stuck', message: { i } })),
  );
  const first = await client.setMany(
    Array.from({ length: 6 }, (_, i) => ({ when: T0 + 2000, target: 'Log', message: { i } })),
  );
  const delivered = deliveredAll(
    runtime,
    first.map((a) => a.id),
  );
  await clock.advance(2000);
  await delivered;
  expect(stuck.deliveries).toHaveLength(4);
  expect(log.deliveries.map((d) => d.i)).toEqual([0, 1, 2, 3, 4, 5]);

  // A later Timer wake (no cursor) still leaves the full target out and serves the other one.
  const later = await client.setMany(
    Array.from({ length: 3 }, (_, i) => ({ when: T0 + 5000, target: 'Log', message: { i: 10 + i } })),
  );
  const deliveredLater = deliveredAll(
    runtime,
    later.map((a) => a.id),
  );
  await clock.advance(3000);
  await deliveredLater;
  expect(log.deliveries.map((d) => d.i)).toEqual([0, 1, 2, 3, 4, 5, 10, 11, 12]);
  expect(stuck.deliveries).toHaveLength(4);
  expect((await client.stats()).inFlight).toBe(4);
}

it('a hanging target holds at most its limit; the other target is delivered meanwhile', async () => {
  await hangingAndOther();
});

it('the same with a store that ignores exceptTargets (the Alarm skips those rows itself)', async () => {
  const file = t.db.file;
  const store = (): AlarmStore => {
    const inner = openSqliteStore(file);
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'due') {
          return (now: number, limit: number, after?: { fireAt: number; id: number }) =>
            inner.due(now, limit, after);
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  await hangingAndOther(store);
});

it('a target that answers is not held back by its limit: 40 alarms, limit 4, all delivered in order', async () => {
  const log = recorder();
  t.h = await startAlarms({
    file: t.db.file,
    targets: { Log: log.logic },
    options: { maxInFlight: 16, maxInFlightPerTarget: 4 },
  });
  const { client, clock, runtime } = t.h;
  const alarms = await client.setMany(
    Array.from({ length: 40 }, (_, i) => ({ when: T0 + 1000, target: 'Log', message: { i } })),
  );
  const delivered = deliveredAll(
    runtime,
    alarms.map((a) => a.id),
  );
  await clock.advance(1000);
  await delivered;
  expect(log.deliveries.map((d) => d.i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
});
