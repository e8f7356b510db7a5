/**
 * The alarm service's options from untyped callers: each wrong type is refused by the options
 * schema with INVALID_OPTION naming the field, before any store is opened; absent and null
 * options take their defaults.
 */

import { VigilError } from '@vigil/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AlarmOptions, type AlarmStore, alarmSupervisor, resolveOptions } from '../src/index.js';
import { prepareAlarm } from '../src/request.js';

/** Counts the stores opened: a refused option must open none. */
function resolve(options: unknown) {
  const opened: string[] = [];
  const resolved = resolveOptions(options as AlarmOptions, (path) => {
    opened.push(path);
    return {} as AlarmStore;
  });
  return { resolved, opened };
}

describe('alarm options schema', () => {
  it.each([
    ['(options)', null],
    ['(options)', 'vigil.db'],
    ['synchronous', { db: 'x.db', synchronous: 'full' }],
    ['storeThread', { db: 'x.db', storeThread: 'yes' }],
    ['store', { store: 'sqlite' }],
    ['db', {}],
    ['db', { db: 42 }],
    ['db', { db: '' }],
    ['name', { db: 'x.db', name: '' }],
    ['timerName', { db: 'x.db', timerName: 7 }],
    ['supervisorName', { db: 'x.db', supervisorName: {} }],
    ['backoff', { db: 'x.db', backoff: 'exponential' }],
    ['backoff.minMs', { db: 'x.db', backoff: { minMs: -1, maxMs: 10, factor: 2 } }],
    ['backoff.maxMs', { db: 'x.db', backoff: { minMs: 10, maxMs: 5, factor: 2 } }],
    ['backoff.factor', { db: 'x.db', backoff: { minMs: 1, maxMs: 5, factor: '2' } }],
    ['maxMessageBytes', { db: 'x.db', maxMessageBytes: '1mb' }],
    ['deliveryTimeoutMs', { db: 'x.db', deliveryTimeoutMs: 0 }],
    ['maxAttempts', { db: 'x.db', maxAttempts: Number.NaN }],
    ['sliceMs', { db: 'x.db', sliceMs: Number.POSITIVE_INFINITY }],
    ['lateWakeMs', { db: 'x.db', lateWakeMs: -1 }],
    ['pollMs', { db: 'x.db', pollMs: '250' }],
    ['maxInFlight', { db: 'x.db', maxInFlight: 0 }],
    ['maxInFlightPerTarget', { db: 'x.db', maxInFlightPerTarget: 0.5 }],
  ])('refuses %s: %o', (field, options) => {
    expect(() => alarmSupervisor(options as never)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        field,
        message: expect.stringContaining(`'${field}'`),
      }),
    );
  });

  it('refuses a bad zone and a bad misfire policy with their own codes', () => {
    expect(() => resolve({ db: 'x.db', zone: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_ZONE' }));
    expect(() => resolve({ db: 'x.db', misfire: { policy: 'later' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_RECURRENCE' }),
    );
  });

  it('fills defaults for absent and null options, and opens the store only when asked', () => {
    const { resolved, opened } = resolve({ db: 'x.db', sliceMs: null, name: undefined });
    expect(resolved).toMatchObject({
      synchronous: 'FULL',
      storeThread: false,
      name: 'Alarm',
      timerName: 'Timer',
      supervisorName: 'alarms',
      zone: 'UTC',
      sliceMs: 1000,
      lateWakeMs: 250,
      maxAttempts: 10,
      misfire: { policy: 'fire' },
      backoff: { minMs: 1000, maxMs: 3_600_000, factor: 2 },
    });
    expect(opened).toEqual([]);
    resolved.store();
    expect(opened).toEqual(['x.db']);
  });

  it('a given store wins over db, which is then not checked', () => {
    const store = () => ({}) as AlarmStore;
    expect(resolve({ store, db: 42 }).resolved.store).toBe(store);
  });

  it('random junk is accepted or refused with a typed error, and never opens a store', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            db: fc.anything(),
            synchronous: fc.anything(),
            sliceMs: fc.anything(),
            name: fc.anything(),
            backoff: fc.anything(),
            maxAttempts: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        (options) => {
          try {
            expect(resolve(options).opened).toEqual([]);
          } catch (e) {
            expect(e).toBeInstanceOf(VigilError);
            expect((e as VigilError).code).toBe('INVALID_OPTION');
          }
        },
      ),
    );
  });
});

describe('the options of one set, from untyped callers', () => {
  const limits = { maxMessageBytes: 1024, maxAttempts: 10 };
  const set = (options: unknown, defaults = limits) =>
    prepareAlarm({ when: 1000, target: 'T', options } as never, 0, 'UTC', () => true, defaults);

  it.each([
    ['options', 'fast'],
    ['options', [1]],
    ['retries', { retries: 3 }],
    ['key', { key: '' }],
    ['key', { key: 42 }],
    ['maxAttempts', { maxAttempts: 0 }],
    ['maxAttempts', { maxAttempts: 1001 }],
    ['maxAttempts', { maxAttempts: '3' }],
    ['backoff', { backoff: 'linear' }],
    ['backoff.factor', { backoff: { minMs: 1, maxMs: 5, factor: 0 } }],
    ['backoff', { backoff: { minMs: 5, maxMs: 1, factor: 2 } }],
  ])('refuses %s: %o', (field, options) => {
    expect(() => set(options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', field }));
  });

  it('checks the service default against the same bounds', () => {
    expect(set({}).maxAttempts).toBe(10);
    expect(() => set({}, { ...limits, maxAttempts: 5000 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', field: 'maxAttempts' }),
    );
  });

  it('keeps good options', () => {
    expect(set({ key: 'k', maxAttempts: 3, backoff: { minMs: 1, maxMs: 2, factor: 2 } })).toMatchObject({
      key: 'k',
      maxAttempts: 3,
      backoff: JSON.stringify({ minMs: 1, maxMs: 2, factor: 2 }),
    });
  });
});

describe('a set without options', () => {
  it('absent or null options take the service defaults', () => {
    for (const options of [undefined, null]) {
      expect(
        prepareAlarm({ when: 1000, target: 'T', options } as never, 0, 'UTC', () => true, {
          maxMessageBytes: 1024,
          maxAttempts: 7,
        }),
      ).toMatchObject({ key: null, maxAttempts: 7, backoff: null, recurrence: null });
    }
  });
});
