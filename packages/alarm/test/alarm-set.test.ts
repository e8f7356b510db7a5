/**
 * `set` and the queries: durable before acknowledged, group commit, idempotency, all-or-nothing
 * `setMany`, and bad input that gets a typed error and changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmInput } from '../src/request.js';
import {
  collect,
  type Harness,
  quiesce,
  rawRows,
  recorder,
  spyStore,
  startAlarms,
  T0,
  tempDb,
} from './helpers.js';

let db: ReturnType<typeof tempDb>;
let h: Harness;

beforeEach(async () => {
  db = tempDb();
  h = await startAlarms({ file: db.file, targets: { Log: recorder().logic } });
});

afterEach(async () => {
  await h.stop();
  db.cleanup();
});

describe('set', () => {
  it('resolves only after the row is committed (visible to a second connection)', async () => {
    let seenAtResolve: number | undefined;
    const alarm = await h.client.set(T0 + 60_000, 'Log', { type: 'ping', n: 1 }).then((a) => {
      // Read on disk synchronously in the resolution: nothing else has run since the ack.
      seenAtResolve = rawRows(db.file).filter((r) => r.id === a.id).length;
      return a;
    });
    expect(seenAtResolve).toBe(1);
    expect(alarm).toMatchObject({
      fireAt: T0 + 60_000,
      scheduledFor: T0 + 60_000,
      target: 'Log',
      message: { type: 'ping', n: 1 },
      status: 'pending',
      attempts: 0,
      createdAt: T0,
    });
  });

  it('accepts every kind of `when`', async () => {
    const results = await Promise.all([
      h.client.set(new Date(T0 + 1000), 'Log'),
      h.client.set(T0 + 2000, 'Log'),
      h.client.set(new Date(T0 + 3000).toISOString(), 'Log'),
      h.client.set('in 5 minutes', 'Log'),
      h.client.set('tomorrow at 9am', 'Log'),
    ]);
    expect(results.map((a) => a.fireAt)).toEqual([
      T0 + 1000,
      T0 + 2000,
      T0 + 3000,
      T0 + 5 * 60_000,
      Date.UTC(2026, 0, 2, 9),
    ]);
  });

  it('commits 100 concurrent sets of one turn in one transaction (group commit)', async () => {
    await h.stop();
    const spy = spyStore(db.file);
    h = await startAlarms({
      file: db.file,
      targets: { Log: recorder().logic },
      options: { store: spy.store },
      budget: 256,
    });
    const committed = collect(h.runtime, 'alarm.set');
    spy.calls.length = 0;
    const alarms = await Promise.all(
      Array.from({ length: 100 }, (_, i) => h.client.set(T0 + 10_000 + i, 'Log', { i })),
    );
    const inserts = spy.calls.filter((c) => c.method === 'insert');
    expect(inserts).toHaveLength(1);
    expect((inserts[0]!.args[0] as unknown[]).length).toBe(100);
    expect(new Set(alarms.map((a) => a.id)).size).toBe(100);
    expect(alarms.map((a) => a.message)).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
    expect(committed).toHaveLength(100);
    expect(rawRows(db.file)).toHaveLength(100);
  });

  it('with the default mailbox budget (64), 100 sets still share at most 2 transactions', async () => {
    await h.stop();
    const spy = spyStore(db.file);
    h = await startAlarms({
      file: db.file,
      targets: { Log: recorder().logic },
      options: { store: spy.store },
    });
    spy.calls.length = 0;
    await Promise.all(Array.from({ length: 100 }, (_, i) => h.client.set(T0 + 10_000 + i, 'Log')));
    expect(spy.calls.filter((c) => c.method === 'insert').length).toBeLessThanOrEqual(2);
  });

  it('an idempotency key returns the first alarm, unchanged', async () => {
    const events = collect(h.runtime, 'alarm.set');
    const first = await h.client.set(T0 + 1000, 'Log', { v: 1 }, { key: 'welcome-42' });
    const again = await h.client.set(T0 + 9000, 'Log', { v: 2 }, { key: 'welcome-42' });
    expect(again).toEqual(first);
    // The same key twice in one group commit, too.
    const [a, b] = await Promise.all([
      h.client.set(T0 + 1000, 'Log', {}, { key: 'k2' }),
      h.client.set(T0 + 2000, 'Log', {}, { key: 'k2' }),
    ]);
    expect(b!.id).toBe(a!.id);
    expect(rawRows(db.file)).toHaveLength(2);
    expect(events.map((e) => e.key)).toEqual(['welcome-42', 'k2']);
  });
});

describe('setMany', () => {
  it('stores all items in one call', async () => {
    const items: AlarmInput[] = [1, 2, 3].map((i) => ({
      when: T0 + i * 1000,
      target: 'Log',
      message: { i },
    }));
    const alarms = await h.client.setMany(items);
    expect(alarms.map((a) => a.fireAt)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
    expect(rawRows(db.file).map((r) => r.id)).toEqual(alarms.map((a) => a.id));
  });

  it('stores none when any item is invalid', async () => {
    await h.client.set(T0 + 500, 'Log');
    const before = rawRows(db.file);
    await expect(
      h.client.setMany([
        { when: T0 + 1000, target: 'Log' },
        { when: T0 + 2000, target: 'Nobody' },
        { when: T0 + 3000, target: 'Log' },
      ]),
    ).rejects.toMatchObject({ code: 'UNKNOWN_TARGET' });
    await expect(h.client.setMany('nope' as unknown as AlarmInput[])).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect(rawRows(db.file)).toEqual(before);
  });
});

describe('bad input gets a typed error and changes nothing', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  // [case, when, target, message, options, expected code]
  const cases: [string, unknown, unknown, unknown, unknown, string][] = [
    ['unparseable time', 'when pigs fly', 'Log', {}, undefined, 'INVALID_TIME'],
    ['time in the past', T0 - 1, 'Log', {}, undefined, 'TIME_IN_PAST'],
    ['NaN time', Number.NaN, 'Log', {}, undefined, 'INVALID_TIME'],
    ['boolean as time', true, 'Log', {}, undefined, 'INVALID_TIME'],
    ['empty object as time', {}, 'Log', {}, undefined, 'INVALID_TIME'],
    ['unknown target', T0 + 1000, 'Nobody', {}, undefined, 'UNKNOWN_TARGET'],
    // A supervisor is declared but takes no messages: only workers are targets.
    ['a supervisor as target', T0 + 1000, 'alarms', {}, undefined, 'UNKNOWN_TARGET'],
    ['non-string target', T0 + 1000, 42, {}, undefined, 'UNKNOWN_TARGET'],
    ['function in message', T0 + 1000, 'Log', { f: () => 1 }, undefined, 'INVALID_PAYLOAD'],
    ['BigInt in message', T0 + 1000, 'Log', { n: 10n }, undefined, 'INVALID_PAYLOAD'],
    ['cycle in message', T0 + 1000, 'Log', cyclic, undefined, 'INVALID_PAYLOAD'],
    ['message not an object', T0 + 1000, 'Log', 'hello', undefined, 'INVALID_PAYLOAD'],
    ['oversize message', T0 + 1000, 'Log', { s: 'x'.repeat(300 * 1024) }, undefined, 'PAYLOAD_TOO_LARGE'],
    [
      '__proto__ key',
      T0 + 1000,
      'Log',
      JSON.parse('{"__proto__":{"admin":true}}'),
      undefined,
      'INVALID_PAYLOAD',
    ],
    ['constructor key', T0 + 1000, 'Log', { constructor: { prototype: 1 } }, undefined, 'INVALID_PAYLOAD'],
    ['reserved alarm key', T0 + 1000, 'Log', { alarm: { alarmId: 1 } }, undefined, 'INVALID_PAYLOAD'],
    ['unknown option', T0 + 1000, 'Log', {}, { retries: 3 }, 'INVALID_OPTION'],
    ['options not an object', T0 + 1000, 'Log', {}, 'fast', 'INVALID_OPTION'],
    ['maxAttempts 0', T0 + 1000, 'Log', {}, { maxAttempts: 0 }, 'INVALID_OPTION'],
    ['empty key', T0 + 1000, 'Log', {}, { key: '' }, 'INVALID_OPTION'],
    ['bad backoff', T0 + 1000, 'Log', {}, { backoff: { minMs: 5, maxMs: 1, factor: 2 } }, 'INVALID_OPTION'],
    ['bad recurrence', T0 + 1000, 'Log', {}, { recurrence: { every: '0 s' } }, 'INVALID_RECURRENCE'],
    ['bad cron', T0 + 1000, 'Log', {}, { recurrence: { cron: 'every tuesday' } }, 'INVALID_RECURRENCE'],
    ['bad misfire', T0 + 1000, 'Log', {}, { misfire: { policy: 'later' } }, 'INVALID_RECURRENCE'],
  ];

  it.each(cases)('%s', async (_name, when, target, message, options, code) => {
    await h.client.set(T0 + 500, 'Log', { before: true });
    const before = rawRows(db.file);
    const request = { type: 'alarm.set', when, target, message, options };
    const err = await h.runtime.call('Alarm', request).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe(code);
    expect(err?.message.length).toBeGreaterThan(10);
    expect(rawRows(db.file)).toEqual(before);
  });

  it('quotes the text of an unparseable time', async () => {
    await expect(h.client.set('half past never', 'Log')).rejects.toThrow(/half past never/);
  });

  it('a bad set in a group commit does not spoil the good ones', async () => {
    const [good, bad] = await Promise.allSettled([
      h.client.set(T0 + 1000, 'Log'),
      h.client.set(T0 + 1000, 'Nobody'),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'UNKNOWN_TARGET' } });
    expect(rawRows(db.file)).toHaveLength(1);
  });

  it('unknown request types and bad ids are refused', async () => {
    await expect(h.runtime.call('Alarm', { type: 'alarm.explode' })).rejects.toMatchObject({
      code: 'UNKNOWN_REQUEST',
    });
    await expect(h.client.get(-1)).rejects.toMatchObject({ code: 'INVALID_ID' });
    await expect(h.client.cancel('3' as unknown as number)).rejects.toMatchObject({ code: 'INVALID_ID' });
  });
});

describe('cancel, get, list, stats', () => {
  it('cancel moves a pending alarm to cancelled; it then never fires', async () => {
    const cancelled = collect(h.runtime, 'alarm.cancelled');
    const a = await h.client.set(T0 + 1000, 'Log');
    const result = await h.client.cancel(a.id);
    expect(result).toMatchObject({ id: a.id, status: 'cancelled' });
    expect(cancelled.map((e) => e.id)).toEqual([a.id]);
    // Cancelling again returns it unchanged, and no second event.
    expect(await h.client.cancel(a.id)).toMatchObject({ status: 'cancelled' });
    expect(cancelled).toHaveLength(1);
    expect(await h.client.cancel(9999)).toBeNull();
    const fired = collect(h.runtime, 'alarm.fired');
    await h.clock.advance(2000);
    await quiesce();
    expect(fired).toEqual([]);
  });

  it('get returns the alarm or null', async () => {
    const a = await h.client.set(T0 + 1000, 'Log', { x: 1 }, { key: 'g' });
    expect(await h.client.get(a.id)).toEqual(a);
    expect(await h.client.get(a.id + 1)).toBeNull();
  });

  it('list filters by status and target and pages by id', async () => {
    const ids = (
      await h.client.setMany([1, 2, 3, 4].map((i) => ({ when: T0 + i * 1000, target: 'Log' })))
    ).map((a) => a.id);
    await h.client.cancel(ids[1]!);
    expect((await h.client.list()).map((a) => a.id)).toEqual(ids);
    expect((await h.client.list({ status: 'cancelled' })).map((a) => a.id)).toEqual([ids[1]]);
    expect((await h.client.list({ status: ['pending'], target: 'Log' })).map((a) => a.id)).toEqual([
      ids[0],
      ids[2],
      ids[3],
    ]);
    expect((await h.client.list({ target: 'Other' })).length).toBe(0);
    expect((await h.client.list({ afterId: ids[1], limit: 1 })).map((a) => a.id)).toEqual([ids[2]]);
    expect((await h.client.list({ fireFrom: T0 + 2000, fireTo: T0 + 4000 })).map((a) => a.id)).toEqual([
      ids[1],
      ids[2],
    ]);
  });

  it('list refuses a key or an instant of the wrong type with INVALID_REQUEST', async () => {
    for (const filter of [{ key: 7 }, { fireFrom: 'today' }, { fireTo: Number.NaN }]) {
      await expect(h.client.list(filter as never)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    }
  });

  it('stats counts by status and knows the next instant', async () => {
    const [a] = await h.client.setMany([
      { when: T0 + 5000, target: 'Log' },
      { when: T0 + 2000, target: 'Log' },
    ]);
    await h.client.cancel((await h.client.list())[1]!.id);
    const stats = await h.client.stats();
    expect(stats).toMatchObject({ total: 2, nextFireAt: T0 + 5000, inFlight: 0, armedAt: T0 + 5000 });
    expect(stats.byStatus).toMatchObject({ pending: 1, cancelled: 1, fired: 0 });
    expect(a!.fireAt).toBe(T0 + 5000);
  });
});
