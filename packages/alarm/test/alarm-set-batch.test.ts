/**
 * The `set`s one client makes in one tick travel as one `alarm.setEach` call: each is still read
 * against the instant its own caller asked and answered on its own (a bad one refused alone),
 * they share one transaction, and the client's requests keep their order.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SetEachResult } from '../src/request.js';
import { type Harness, rawRows, recorder, spyStore, startAlarms, T0, tempDb } from './helpers.js';

let db: ReturnType<typeof tempDb>;
let h: Harness;

beforeEach(async () => {
  db = tempDb();
  h = await startAlarms({ file: db.file, targets: { Log: recorder().logic } });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await h.stop();
  db.cleanup();
});

/** The types of the calls made to the Alarm actor from now on, in order. */
function callsToAlarm(): string[] {
  const types: string[] = [];
  const call = h.runtime.call.bind(h.runtime);
  vi.spyOn(h.runtime, 'call').mockImplementation((name, message, options) => {
    if (name === 'Alarm') types.push(message.type);
    return call(name, message, options);
  });
  return types;
}

describe('the sets of one tick', () => {
  it('go as one call and one insert, with the default mailbox budget (64)', async () => {
    await h.stop();
    const spy = spyStore(db.file);
    h = await startAlarms({
      file: db.file,
      targets: { Log: recorder().logic },
      options: { store: spy.store },
    });
    const types = callsToAlarm();
    spy.calls.length = 0;
    const alarms = await Promise.all(
      Array.from({ length: 100 }, (_, i) => h.client.set(T0 + 10_000 + i, 'Log', { i })),
    );
    expect(types).toEqual(['alarm.setEach']);
    expect(spy.calls.filter((c) => c.method === 'insert')).toHaveLength(1);
    // Each caller gets its own alarm, in the order asked.
    expect(alarms.map((a) => a.message)).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
    expect(alarms.map((a) => a.fireAt)).toEqual(Array.from({ length: 100 }, (_, i) => T0 + 10_000 + i));
    expect(rawRows(db.file).map((r) => r.id)).toEqual(alarms.map((a) => a.id));
  });

  it('a single set is sent as alarm.set, as before', async () => {
    const types = callsToAlarm();
    await h.client.set(T0 + 1000, 'Log');
    expect(types).toEqual(['alarm.set']);
  });

  it('each is read against the instant its own caller asked; a bad one is refused alone', async () => {
    const first = h.client.set(h.clock.now(), 'Log', { n: 1 });
    const asked = h.clock.now();
    // The clock moves between two sets of the same tick: the second is read against the later
    // instant, so the first's instant is past for it, and now is not.
    h.clock.jump(5000);
    const results = await Promise.allSettled([
      first,
      h.client.set(asked, 'Log', { n: 2 }),
      h.client.set(h.clock.now(), 'Log', { n: 3 }),
      h.client.set('half past never', 'Log', { n: 4 }),
      h.client.set(h.clock.now() + 1, 'Nobody', { n: 5 }),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'rejected',
    ]);
    expect(results[0]).toMatchObject({ value: { fireAt: asked, message: { n: 1 } } });
    expect(results[1]).toMatchObject({ reason: { code: 'TIME_IN_PAST' } });
    expect(results[2]).toMatchObject({ value: { fireAt: asked + 5000, message: { n: 3 } } });
    expect(results[3]).toMatchObject({ reason: { code: 'INVALID_TIME' } });
    expect(results[4]).toMatchObject({ reason: { code: 'UNKNOWN_TARGET' } });
    expect(rawRows(db.file).map((r) => JSON.parse(r.message as string))).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it('are sent before any later request of the same client', async () => {
    const types = callsToAlarm();
    const set = h.client.set(T0 + 1000, 'Log');
    const set2 = h.client.set(T0 + 2000, 'Log');
    const stats = h.client.stats();
    const set3 = h.client.set(T0 + 3000, 'Log');
    await Promise.all([set, set2, stats, set3]);
    expect(types).toEqual(['alarm.setEach', 'alarm.stats', 'alarm.set']);
  });

  it('all refused: nothing is written, every caller gets its error', async () => {
    const results = await Promise.allSettled([h.client.set('never', 'Log'), h.client.set(T0 + 1, 'Nobody')]);
    expect(results).toMatchObject([
      { status: 'rejected', reason: { code: 'INVALID_TIME' } },
      { status: 'rejected', reason: { code: 'UNKNOWN_TARGET' } },
    ]);
    expect(rawRows(db.file)).toEqual([]);
  });
});

describe('alarm.setEach from an untyped caller', () => {
  it('refuses items that are not an array; answers [] for none; refuses a bad item alone', async () => {
    await expect(h.runtime.call('Alarm', { type: 'alarm.setEach', items: 'nope' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect(await h.runtime.call('Alarm', { type: 'alarm.setEach', items: [] })).toEqual([]);
    const results = await h.runtime.call<SetEachResult[]>('Alarm', {
      type: 'alarm.setEach',
      items: [null, { when: T0 + 1000, target: 'Log' }, 42],
    });
    expect(results.map((r) => (r.alarm ? 'alarm' : (r.error as { code?: string }).code))).toEqual([
      'INVALID_OPTION',
      'alarm',
      'INVALID_OPTION',
    ]);
    expect(rawRows(db.file)).toHaveLength(1);
  });
});
