/**
 * Restart: misfire policies for alarms that came due while the process was down, a crash of
 * the Alarm in the middle of a batch (at least once, never early), and writes by another
 * connection (the CLI) picked up by the running Alarm.
 */
import { Exit, ManualClock } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../src/request.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import {
  collect,
  type Harness,
  perTest,
  quiesce,
  type Recorder,
  rawRows,
  recorder,
  startAlarms,
  T0,
} from './helpers.js';

const MIN = 60_000;

const t = perTest();

/** Runs `setup` in a first process life at T0, then "restarts" at `restartAt` with `log`. */
async function downUntil(
  restartAt: number,
  log: Recorder,
  setup: (first: Harness) => Promise<void>,
  options = {},
): Promise<Harness> {
  const first = await startAlarms({ file: t.db.file, targets: { Log: recorder().logic }, options });
  await setup(first);
  await first.stop();
  t.h = await startAlarms({
    file: t.db.file,
    clock: new ManualClock(restartAt),
    targets: { Log: log.logic },
    options,
  });
  await quiesce();
  return t.h;
}

describe('misfire policy on start', () => {
  it('default (fire): everything overdue fires at once, in fire_at order', async () => {
    const log = recorder();
    const { runtime } = await downUntil(T0 + 10 * MIN, log, async ({ client }) => {
      await client.setMany([3, 1, 2].map((m) => ({ when: T0 + m * MIN, target: 'Log', message: { m } })));
      await client.set(T0 + 20 * MIN, 'Log', { m: 20 });
    });
    await quiesce();
    expect(log.deliveries.map((d) => d.m)).toEqual([1, 2, 3]);
    expect(log.deliveries.map((d) => d.alarm.firedAt - d.alarm.scheduledFor)).toEqual([
      9 * MIN,
      8 * MIN,
      7 * MIN,
    ]);
    const stats = await new (await import('../src/client.js')).AlarmClient(runtime).stats();
    expect(stats).toMatchObject({ nextFireAt: T0 + 20 * MIN, armedAt: T0 + 20 * MIN });
  });

  it('skip: later than the tolerance is marked missed with its lateness; within it fires', async () => {
    const log = recorder();
    const ids: number[] = [];
    const restarted = await downUntil(T0 + 10 * MIN, log, async ({ client }) => {
      ids.push(
        (
          await client.set(
            T0 + MIN,
            'Log',
            { n: 'old' },
            { misfire: { policy: 'skip', toleranceMs: '5 min' as unknown as number } },
          )
        ).id,
      );
      ids.push(
        (
          await client.set(
            T0 + 8 * MIN,
            'Log',
            { n: 'recent' },
            { misfire: { policy: 'skip', toleranceMs: 5 * MIN } },
          )
        ).id,
      );
    });
    expect(log.deliveries.map((d) => d.n)).toEqual(['recent']);
    const rows = rawRows(t.db.file);
    expect(rows[0]).toMatchObject({ status: 'missed', lastError: `missed: ${9 * MIN} ms late` });
    expect(rows[1]).toMatchObject({ status: 'fired' });
    expect(await restarted.client.get(ids[0]!)).toMatchObject({ status: 'missed' });
  });

  it('skip as the service default applies to alarms without their own policy', async () => {
    const log = recorder();
    const missed: unknown[] = [];
    await downUntil(
      T0 + 10 * MIN,
      log,
      async ({ client }) => {
        await client.set(T0 + MIN, 'Log');
      },
      { misfire: { policy: 'skip', toleranceMs: 1000 } },
    );
    missed.push(...rawRows(t.db.file).filter((r) => r.status === 'missed'));
    expect(missed).toHaveLength(1);
    expect(log.deliveries).toEqual([]);
  });

  it('coalesce: a recurring alarm fires once for all missed occurrences, then continues from now', async () => {
    const log = recorder();
    const now = T0 + 10 * MIN + 30_000;
    await downUntil(now, log, async ({ client }) => {
      await client.set(
        T0 + MIN,
        'Log',
        {},
        { recurrence: { every: '1 minute' }, misfire: { policy: 'coalesce' } },
      );
    });
    expect(log.deliveries).toHaveLength(1);
    const pending = rawRows(t.db.file).filter((r) => r.status === 'pending');
    expect(pending).toHaveLength(1);
    expect(pending[0]!.fireAt).toBeGreaterThan(now);
    expect(pending[0]!.fireAt).toBeLessThanOrEqual(now + MIN);
  });

  it('fire (default) on a recurring alarm: catches up on every missed occurrence, in order', async () => {
    const log = recorder();
    const now = T0 + 10 * MIN + 30_000;
    await downUntil(now, log, async ({ client }) => {
      await client.set(T0 + MIN, 'Log', {}, { recurrence: { every: '1 minute' } });
    });
    await quiesce();
    expect(log.deliveries.map((d) => (d.alarm.scheduledFor - T0) / MIN)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    const pending = rawRows(t.db.file).filter((r) => r.status === 'pending');
    expect(pending.map((r) => r.fireAt)).toEqual([T0 + 11 * MIN]);
  });
});

describe('crash of the Alarm mid-batch', () => {
  it('restarted by its supervisor; every acknowledged alarm is delivered at least once, none early', async () => {
    const early: Delivery[] = [];
    let bombed = false;
    const setsDuringCrash: Promise<unknown>[] = [];
    const log = recorder((d) => {
      if (t.h!.clock.now() < d.alarm.scheduledFor) early.push(d);
      if (!bombed && log.deliveries.length === 6) {
        bombed = true;
        // Sets racing the crash: some may be refused (never acknowledged), none may be lost if acknowledged.
        for (let i = 0; i < 5; i++) {
          setsDuringCrash.push(
            t.h!.client.set(T0 + 5000 + i, 'Log', { late: i }).then(
              (a) => a,
              () => undefined,
            ),
          );
        }
        t.h!.runtime.exit('Alarm', Exit.error(new Error('crash while deliveries are in flight')));
      }
      return 'ok';
    });
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic } });
    // rest_for_one restarts emit no actor.restarted (runtime), so wait for the second incarnation.
    const restarted = t.h.runtime.events.waitFor(
      'actor.started',
      (e) => e.name === 'Alarm' && e.incarnation === 2,
    );
    const acked = await t.h.client.setMany(
      Array.from({ length: 20 }, (_, i) => ({
        when: T0 + 1000 + (i % 10) * 100,
        target: 'Log',
        message: { i },
      })),
    );
    acked.push(await t.h.client.set(T0 + 3000, 'Log', { i: 'later' }));
    await t.h.clock.advance(2000);
    await restarted;
    await quiesce();
    for (const a of await Promise.all(setsDuringCrash)) if (a) acked.push(a as (typeof acked)[number]);
    await t.h.clock.advance(10_000);
    await quiesce();

    const delivered = new Set(log.deliveries.map((d) => d.alarm.alarmId));
    for (const a of acked) expect(delivered.has(a.id), `alarm ${a.id} delivered`).toBe(true);
    expect(early).toEqual([]);
    expect(bombed).toBe(true);
    // Duplicates only for alarms that were in flight at the crash: their replies came after
    // the Alarm died, so nothing was committed and the next incarnation delivered them again.
    const counts = new Map<number, number>();
    for (const d of log.deliveries) counts.set(d.alarm.alarmId, (counts.get(d.alarm.alarmId) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice.length).toBeGreaterThan(0);
    expect(Math.max(...counts.values())).toBe(2);
    expect(rawRows(t.db.file).filter((r) => r.status !== 'fired')).toEqual([]);
  });

  it('a Timer crash restarts the Alarm after it (rest_for_one), which re-arms the new Timer', async () => {
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic } });
    const a = await t.h.client.set(T0 + 5000, 'Log');
    await quiesce();
    const started = collect(t.h.runtime, 'actor.started');
    t.h.runtime.exit('Timer', Exit.error(new Error('timer lost')));
    await quiesce();
    expect(started.map((s) => s.name)).toEqual(['Timer', 'Alarm']);
    await t.h.clock.advance(4999);
    await quiesce();
    expect(log.deliveries).toEqual([]);
    await t.h.clock.advance(1);
    await quiesce();
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual([a.id]);
  });
});

describe('writes by another connection', () => {
  it('a due row inserted by a second connection is delivered within pollMs', async () => {
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { pollMs: 250 } });
    const cli = openSqliteStore(t.db.file);
    try {
      // Right after start, before the first poll: the baseline must already be taken.
      const [first] = await cli.insert([
        { fireAt: t.h.clock.now(), target: 'Log', message: '{"n":1}', createdAt: t.h.clock.now() },
      ]);
      await t.h.clock.advance(250);
      await quiesce();
      expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual([first!.row.id]);

      await t.h.clock.advance(1000);
      const [second] = await cli.insert([
        { fireAt: t.h.clock.now() + 100, target: 'Log', message: '{"n":2}', createdAt: t.h.clock.now() },
      ]);
      await t.h.clock.advance(249);
      await quiesce();
      expect(log.deliveries).toHaveLength(1);
      await t.h.clock.advance(1);
      await quiesce();
      expect(log.deliveries.map((d) => d.n)).toEqual([1, 2]);
      expect(log.deliveries[1]!.alarm).toMatchObject({ alarmId: second!.row.id, firedAt: t.h.clock.now() });

      // A cancel by the CLI of an armed alarm: it never fires.
      const [third] = await cli.insert([
        { fireAt: t.h.clock.now() + 5000, target: 'Log', message: '{"n":3}', createdAt: t.h.clock.now() },
      ]);
      await t.h.clock.advance(250);
      await cli.cancel(third!.row.id, t.h.clock.now());
      await t.h.clock.advance(10_000);
      await quiesce();
      expect(log.deliveries).toHaveLength(2);
    } finally {
      await cli.close();
    }
  });
});
