/**
 * The prefetch window: the next pending alarms are read ahead, and a Timer wake fires what is due
 * from memory. What must hold: no store read of due rows on a wake's path, never early, (fireAt,
 * id) order, a set earlier than the window's head fires first, a cancelled alarm never fires
 * (also when the cancel commits while the window's read is under way), and another connection's
 * writes (an earlier alarm, a cancel) are seen at the next wake, with no poll.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmStore } from '../src/store/types.js';
import {
  type Harness,
  perTest,
  quiesce,
  type Recorder,
  rawExec,
  rawRows,
  recorder,
  seed,
  spyStore,
  startAlarms,
  T0,
} from './helpers.js';

const t = perTest();

async function start(log: Recorder, store?: () => AlarmStore): Promise<Harness> {
  t.h = await startAlarms({
    file: t.db.file,
    targets: { Log: log.logic },
    options: store ? { store } : {},
  });
  return t.h;
}

/** Resolves when each of `ids` has been delivered and its outcome committed. */
function deliveredAll(h: Harness, ids: number[]): Promise<unknown> {
  return Promise.all(ids.map((id) => h.runtime.events.waitFor('alarm.delivered', (e) => e.id === id)));
}

/** Moves the clock to `at`, one millisecond at a time, waiting at each for what is due then. */
async function stepTo(h: Harness, at: number, due: (now: number) => number[]): Promise<void> {
  while (h.clock.now() < at) {
    const now = h.clock.now() + 1;
    const ids = due(now);
    const delivered = deliveredAll(h, ids);
    await h.clock.advance(1);
    await delivered;
  }
}

describe('firing from the window', () => {
  it('wakes fire from memory: no due() or nextPending() read once the window is filled', async () => {
    const spy = spyStore(t.db.file);
    const log = recorder();
    const h = await start(log, spy.store);
    const alarms = await h.client.setMany(
      Array.from({ length: 20 }, (_, i) => ({ when: T0 + 100 * (i + 1), target: 'Log', message: { i } })),
    );
    await quiesce();
    expect(spy.calls.some((c) => c.method === 'upcoming')).toBe(true);
    const before = spy.calls.length;
    for (const a of alarms) {
      const delivered = deliveredAll(h, [a.id]);
      await h.clock.advance(100);
      await delivered;
    }
    const reads = spy.calls.slice(before).map((c) => c.method);
    expect(reads).not.toContain('due');
    expect(reads).not.toContain('nextPending');
    expect(log.deliveries.map((d) => d.alarm.firedAt)).toEqual(alarms.map((a) => a.fireAt));
  });

  it('never early, in (fireAt, id) order, across window top-ups (600 alarms, 256 held at most)', async () => {
    const spy = spyStore(t.db.file);
    const log = recorder();
    const h = await start(log, spy.store);
    // Two or three alarms per millisecond, ties included, set in an order unlike fireAt's.
    const whens = Array.from({ length: 600 }, (_, i) => T0 + 1 + ((i * 7) % 250));
    const alarms = await h.client.setMany(whens.map((when, i) => ({ when, target: 'Log', message: { i } })));
    await stepTo(h, T0 + 250, (now) => alarms.filter((a) => a.fireAt === now).map((a) => a.id));
    const expected = [...alarms].sort((a, b) => a.fireAt - b.fireAt || a.id - b.id).map((a) => a.id);
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual(expected);
    for (const d of log.deliveries) expect(d.alarm.firedAt).toBe(d.alarm.scheduledFor);
    // The window is bounded: no read ahead asks for more than 256 rows.
    const limits = spy.calls.filter((c) => c.method === 'upcoming').map((c) => c.args[1] as number);
    expect(limits.length).toBeGreaterThan(1); // topped up, not read once
    expect(Math.max(...limits)).toBeLessThanOrEqual(256);
  });

  it('a set earlier than the head fires first; one inside or past a full window keeps its order', async () => {
    const log = recorder();
    const h = await start(log);
    // 300 alarms: more than the window holds, so it covers up to the 256th (T0 + 1255) only.
    const first = await h.client.setMany(
      Array.from({ length: 300 }, (_, i) => ({ when: T0 + 1000 + i, target: 'Log', message: { i } })),
    );
    await quiesce();
    const early = await h.client.set(T0 + 500, 'Log', { early: true });
    const inside = await h.client.set(T0 + 1100, 'Log', { inside: true });
    const past = await h.client.set(T0 + 1290, 'Log', { past: true });
    const all = [...first, early, inside, past];
    await stepTo(h, T0 + 1300, (now) => all.filter((a) => a.fireAt === now).map((a) => a.id));
    const expected = [...all].sort((a, b) => a.fireAt - b.fireAt || a.id - b.id).map((a) => a.id);
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual(expected);
    expect(log.deliveries[0]!.alarm).toMatchObject({ alarmId: early.id, firedAt: T0 + 500 });
  });
});

describe('cancel', () => {
  it('a cancelled alarm that was in the window is not delivered', async () => {
    const spy = spyStore(t.db.file);
    const log = recorder();
    const h = await start(log, spy.store);
    const [a, b] = await h.client.setMany([
      { when: T0 + 1000, target: 'Log', message: { a: true } },
      { when: T0 + 1000, target: 'Log', message: { b: true } },
    ]);
    await quiesce();
    expect(spy.calls.some((c) => c.method === 'upcoming')).toBe(true); // both are in the window
    expect(await h.client.cancel(a!.id)).toMatchObject({ status: 'cancelled' });
    const delivered = deliveredAll(h, [b!.id]);
    await h.clock.advance(1000);
    await delivered;
    await h.clock.advance(1000);
    await quiesce();
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual([b!.id]);
    expect(await h.client.get(a!.id)).toMatchObject({ status: 'cancelled', counts: { delivered: 0 } });
  });

  it('a cancel that commits while the window is being read: the row read as pending is not delivered', async () => {
    // A store whose read-ahead reads at once and answers only when the test lets it: the cancel
    // commits in between, as it can with a store on a worker thread.
    let hold = false;
    let release: () => void = () => {};
    let readStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      readStarted = resolve;
    });
    const store = (): AlarmStore => {
      const inner = openSqliteStore(t.db.file);
      const upcoming: NonNullable<AlarmStore['upcoming']> = async (...args) => {
        const rows = await inner.upcoming!(...args);
        if (hold && rows.length > 0) {
          hold = false;
          readStarted();
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
        return rows;
      };
      return new Proxy(inner, {
        get: (target, prop) => {
          if (prop === 'upcoming') return upcoming;
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    // Written before the start, so the first read ahead (when the start finds nothing due) holds it.
    await seed(t.db.file, 1, () => T0 + 1000);
    const [a] = rawRows(t.db.file);
    hold = true;
    const log = recorder();
    const h = await start(log, store);
    await started; // the read ahead has the row, still pending
    expect(await h.client.cancel(a!.id)).toMatchObject({ status: 'cancelled' });
    release();
    await quiesce();
    await h.clock.advance(1000);
    await quiesce();
    expect(log.deliveries).toEqual([]);
    expect(await h.client.get(a!.id)).toMatchObject({ status: 'cancelled', counts: { delivered: 0 } });
  });
});

describe('another connection', () => {
  it('its earlier alarm and its cancel of a prefetched one are seen at the next wake, with no poll', async () => {
    const log = recorder();
    const h = await start(log); // pollMs 0: only the wake's look at the change token can see them
    const [a, b] = await h.client.setMany([
      { when: T0 + 1000, target: 'Log', message: { a: true } },
      { when: T0 + 2000, target: 'Log', message: { b: true } },
    ]);
    await quiesce();
    // Behind the Alarm's back: an alarm due before both, and a cancel of the second.
    rawExec(
      t.db.file,
      `INSERT INTO alarms (fire_at, scheduled_for, target, message, max_attempts, created_at)
       VALUES (?, ?, 'Log', '{"c":true}', 1, ?)`,
      T0 + 500,
      T0 + 500,
      T0,
    );
    rawExec(t.db.file, `UPDATE alarms SET status = 'cancelled', settled_at = ? WHERE id = ?`, T0, b!.id);
    const c = rawRows(t.db.file).find((r) => r.fireAt === T0 + 500)!;
    const delivered = deliveredAll(h, [c.id, a!.id]);
    await h.clock.advance(1000); // the Timer was armed for a: the wake finds c overdue, then a
    await delivered;
    await h.clock.advance(1000);
    await quiesce();
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual([c.id, a!.id]);
    expect(log.deliveries[0]!.alarm.firedAt).toBeGreaterThanOrEqual(T0 + 500);
    expect(await h.client.get(b!.id)).toMatchObject({ status: 'cancelled', counts: { delivered: 0 } });
  });
});
