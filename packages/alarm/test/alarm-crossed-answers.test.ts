/**
 * Answers that cross. A store on a pool of connections (PostgreSQL) may answer a `due` read after
 * a `complete` sent later: the read ran at the database before the outcome committed (so it holds
 * the row as still pending), but its answer reaches the Alarm after the Alarm processed the
 * commit. Such a row must not be delivered again: its outcome is recorded, the row is no longer
 * in flight, and only the read's age tells it apart (seen in the 3-node torture: the same node
 * delivering one occurrence twice, 14 ms apart, both outcomes committed).
 *
 * The store here is the SQLite store behind a wrapper that runs a chosen `due` read at once (the
 * snapshot of before the commit) and holds its answer until the test lets it go. It offers no
 * read-ahead (`upcoming`), as a shared store does not.
 */
import { reply } from '@vigil/runtime';
import { expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { Delivery } from '../src/request.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmRow, AlarmStore } from '../src/store/types.js';
import { perTest, quiesce, startAlarms, T0 } from './helpers.js';

const t = perTest();

/** The SQLite store without read-ahead; `holdNext` holds back the answer of the next `due` read. */
function crossingStore(file: string) {
  let held: { arrived: () => void; answer: Promise<void> } | undefined;
  let release: () => void = () => {};
  /** Resolves once the next `due` read has run; its answer waits for `release`. */
  const holdNext = (): Promise<void> =>
    new Promise((arrived) => {
      held = { arrived, answer: new Promise<void>((r) => (release = r)) };
    });
  const open = (): AlarmStore => {
    const inner = openSqliteStore(file);
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'upcoming') return undefined;
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'due') {
          return async (...args: Parameters<AlarmStore['due']>): Promise<AlarmRow[]> => {
            // The read runs now, before anything the test does next commits.
            const rows = await target.due(...args);
            const gate = held;
            held = undefined;
            if (gate === undefined) return rows;
            gate.arrived();
            await gate.answer;
            return rows;
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  };
  return { open, holdNext, release: () => release() };
}

it('a due answer read before an outcome committed, arriving after it, does not deliver that row again', async () => {
  // Holds the first delivery of `a` until the test answers it; answers every other at once.
  const held: { delivery: Delivery; answer: () => void }[] = [];
  const Held = fromCallback(({ receive }) => {
    receive((event) => {
      held.push({ delivery: event as unknown as Delivery, answer: () => reply(event, true) });
      if (held.length > 1) reply(event, true);
    });
  });
  const store = crossingStore(t.db.file);
  t.h = await startAlarms({ file: t.db.file, targets: { Held }, options: { store: store.open } });
  const { client, clock, runtime } = t.h;

  const a = await client.set(T0 + 1000, 'Held', { n: 'a' });
  const fired = runtime.events.waitFor('alarm.fired', (e) => e.id === a.id);
  await clock.advance(1000);
  await fired;
  expect(held).toHaveLength(1);

  // A set of another due alarm makes the Alarm read due rows from the start: that read sees `a`
  // pending (its outcome is not committed yet), and its answer is held back.
  const reading = store.holdNext();
  const b = await client.set(T0 + 1000, 'Held', { n: 'b' });
  await reading;

  // `a`'s target answers; its outcome commits and is announced while the read's answer waits.
  const deliveredA = runtime.events.waitFor('alarm.delivered', (e) => e.id === a.id);
  held[0]!.answer();
  await deliveredA;

  // The stale answer arrives now, holding `a` (pending in its snapshot) and `b`.
  // Both are handed out in (fireAt, id) order, `a` first: once `b` is delivered, a second
  // delivery of `a` would have been made.
  const deliveredB = runtime.events.waitFor('alarm.delivered', (e) => e.id === b.id);
  store.release();
  await deliveredB;
  await quiesce();

  expect(held.map((h) => (h.delivery as { n?: string }).n)).toEqual(['a', 'b']);
  expect(await client.get(a.id)).toMatchObject({ status: 'fired', attempts: 1 });
  expect(await client.get(b.id)).toMatchObject({ status: 'fired', attempts: 1 });
});
