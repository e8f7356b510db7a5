/**
 * What runs on a wake's path, besides the deliveries. A commit of outcomes waits while a wake is
 * imminent, so that its fsync follows the wake's deliveries, but only within the group commit's
 * bounds: an outcome is still committed with the clock standing still and the next alarm a
 * millisecond away. The window's top-up reads only the rows it has room for.
 */
import { describe, expect, it } from 'vitest';
import { perTest, quiesce, recorder, spyStore, startAlarms, T0 } from './helpers.js';

const t = perTest();

describe('commits near a wake', () => {
  it('an outcome is committed while the next alarm is a millisecond away and the clock stands still', async () => {
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic } });
    const [first, second] = await t.h.client.setMany([
      { when: T0 + 1000, target: 'Log' },
      { when: T0 + 1001, target: 'Log' },
    ]);
    await quiesce();
    const delivered = t.h.runtime.events.waitFor('alarm.delivered', (e) => e.id === first!.id);
    await t.h.clock.advance(1000);
    // The Timer is armed for T0 + 1001 and no clock time passes: the commit waits for the wake,
    // within its bounds, then goes ahead. An unbounded wait would never get here.
    await delivered;
    expect((await t.h.client.get(first!.id))?.status).toBe('fired');
    // Never early: the second alarm is still pending.
    expect(log.deliveries.map((d) => d.alarm.alarmId)).toEqual([first!.id]);
    expect((await t.h.client.get(second!.id))?.status).toBe('pending');
  });
});

describe('window top-up', () => {
  it('reads only the rows the window has room for', async () => {
    const spy = spyStore(t.db.file);
    const log = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: log.logic }, options: { store: spy.store } });
    const alarms = await t.h.client.setMany(
      Array.from({ length: 600 }, (_, i) => ({ when: T0 + 1 + i, target: 'Log', message: { i } })),
    );
    await quiesce();
    for (let i = 0; i < 300; i++) {
      const delivered = t.h.runtime.events.waitFor('alarm.delivered', (e) => e.id === alarms[i]!.id);
      await t.h.clock.advance(1);
      await delivered;
    }
    const limits = spy.calls.filter((c) => c.method === 'upcoming').map((c) => c.args[1] as number);
    // The first read fills the window (256 rows); each top-up, made once it is half empty,
    // asks for what was taken since, not for a whole window to trim half of it again.
    expect(limits[0]).toBe(256);
    const topUps = limits.slice(1);
    expect(topUps.length).toBeGreaterThan(0);
    for (const n of topUps) expect(n).toBeLessThan(256);
    expect(log.deliveries.map((d) => d.alarm.firedAt)).toEqual(alarms.slice(0, 300).map((a) => a.fireAt));
  });
});
