import { describe, expect, it } from 'vitest';
import { InvalidRecurrenceError } from '../src/errors.js';
import { formatInstant } from '../src/parse.js';
import { nextOccurrence, type Recurrence, validateMisfire, validateRecurrence } from '../src/recurrence.js';

const at = (iso: string) => Date.parse(iso);

/** Wall-clock times of the next `n` occurrences after `from`, in `zone`. */
function runs(r: Recurrence, from: string, n: number, zone = 'UTC'): string[] {
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    const next = nextOccurrence(r, t, zone);
    if (next === null) break;
    expect(next).toBeGreaterThan(t);
    out.push(formatInstant(next, (r as { zone?: string }).zone ?? zone));
    t = next;
  }
  return out;
}

describe('cron across DST', () => {
  // [pattern, zone, from, expected wall-clock runs]
  const CASES: [string, string, string, string[]][] = [
    // Spring forward, Paris (29 March 2026, 02:00 -> 03:00): 09:00 stays 09:00 local.
    [
      '0 9 * * *',
      'Europe/Paris',
      '2026-03-27T12:00:00Z',
      ['2026-03-28 09:00', '2026-03-29 09:00', '2026-03-30 09:00'],
    ],
    // 02:30 does not exist on 29 March: croner fires once, at the end of the gap (03:00).
    [
      '30 2 * * *',
      'Europe/Paris',
      '2026-03-27T12:00:00Z',
      ['2026-03-28 02:30', '2026-03-29 03:00', '2026-03-30 02:30'],
    ],
    // Fall back, Paris (25 October 2026, 03:00 -> 02:00): 02:30 happens twice, fires once.
    [
      '0 9 * * *',
      'Europe/Paris',
      '2026-10-23T12:00:00Z',
      ['2026-10-24 09:00', '2026-10-25 09:00', '2026-10-26 09:00'],
    ],
    [
      '30 2 * * *',
      'Europe/Paris',
      '2026-10-23T12:00:00Z',
      ['2026-10-24 02:30', '2026-10-25 02:30', '2026-10-26 02:30'],
    ],
    // New York: spring forward 8 March 2026, fall back 1 November 2026.
    [
      '0 9 * * *',
      'America/New_York',
      '2026-03-06T17:00:00Z',
      ['2026-03-07 09:00', '2026-03-08 09:00', '2026-03-09 09:00'],
    ],
    [
      '30 2 * * *',
      'America/New_York',
      '2026-03-06T17:00:00Z',
      ['2026-03-07 02:30', '2026-03-08 03:00', '2026-03-09 02:30'],
    ],
    [
      '0 9 * * *',
      'America/New_York',
      '2026-10-30T17:00:00Z',
      ['2026-10-31 09:00', '2026-11-01 09:00', '2026-11-02 09:00'],
    ],
    [
      '30 1 * * *',
      'America/New_York',
      '2026-10-30T17:00:00Z',
      ['2026-10-31 01:30', '2026-11-01 01:30', '2026-11-02 01:30'],
    ],
  ];

  it.each(CASES)('%s in %s from %s', (cron, zone, from, expected) => {
    expect(runs({ cron, zone }, from, expected.length)).toEqual(expected.map((w) => `${w} ${zone}`));
  });

  it('the repeated fall-back hour fires once per real instant for sub-hourly patterns', () => {
    const instants: string[] = [];
    let t = at('2026-10-25T00:00:00Z');
    for (let i = 0; i < 5; i++) {
      t = nextOccurrence({ cron: '*/30 * * * *', zone: 'Europe/Paris' }, t)!;
      instants.push(new Date(t).toISOString());
    }
    expect(instants).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T01:30:00.000Z', // 02:30 CET
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02:30:00.000Z',
    ]);
  });

  it('is strictly after the given instant', () => {
    const r = { cron: '0 9 * * *' };
    expect(nextOccurrence(r, at('2026-01-01T09:00:00Z'))).toBe(at('2026-01-02T09:00:00Z'));
    expect(nextOccurrence(r, at('2026-01-01T08:59:59.500Z'))).toBe(at('2026-01-01T09:00:00Z'));
  });

  it('uses the pattern zone, else the given zone, else UTC', () => {
    const from = at('2026-01-01T00:00:00Z');
    expect(nextOccurrence({ cron: '0 9 * * *' }, from)).toBe(at('2026-01-01T09:00:00Z'));
    expect(nextOccurrence({ cron: '0 9 * * *' }, from, 'Europe/Paris')).toBe(at('2026-01-01T08:00:00Z'));
    expect(nextOccurrence({ cron: '0 9 * * *', zone: 'America/New_York' }, from, 'Europe/Paris')).toBe(
      at('2026-01-01T14:00:00Z'),
    );
  });

  it('returns null when a pattern has no more runs', () => {
    expect(nextOccurrence({ cron: '0 0 0 1 1 * 2001' }, at('2026-01-01T00:00:00Z'))).toBeNull();
  });

  it('keeps errors typed for a recurrence that was never validated', () => {
    expect(() => nextOccurrence({ cron: 'nope' }, 0)).toThrow(InvalidRecurrenceError);
    expect(() => nextOccurrence({ every: 'often' }, 0)).toThrow(InvalidRecurrenceError);
  });
});

describe('every', () => {
  it('adds the exact interval, also across DST', () => {
    expect(nextOccurrence({ every: '5 minutes' }, 1000)).toBe(301_000);
    expect(nextOccurrence({ every: 60_000 }, 0)).toBe(60_000);
    const t = at('2026-03-28T12:00:00Z');
    expect(nextOccurrence({ every: '1 day' }, t, 'Europe/Paris')).toBe(t + 86_400_000);
  });
});

describe('validateRecurrence', () => {
  it.each([
    [{ every: '1h' }],
    [{ every: 1000 }],
    [{ cron: '0 9 * * 1-5' }],
    [{ cron: '*/10 * * * * *' }],
    [{ cron: '@daily', zone: 'Europe/Paris' }],
    [{ cron: '0 0 29 2 *' }],
  ])('accepts %j', (r) => {
    expect(validateRecurrence(r)).toEqual(r);
  });

  it.each([
    ['null', null],
    ['string', '0 9 * * *'],
    ['array', [{ every: '1h' }]],
    ['empty object', {}],
    ['both kinds', { every: '1h', cron: '0 9 * * *' }],
    ['extra key', { every: '1h', times: 3 }],
    ['interval too short', { every: '500ms' }],
    ['interval zero', { every: 0 }],
    ['interval garbage', { every: 'often' }],
    ['interval NaN', { every: Number.NaN }],
    ['bad cron', { cron: 'nope' }],
    ['cron out of range', { cron: '61 * * * *' }],
    ['cron never fires', { cron: '0 0 30 2 *' }],
    ['cron empty', { cron: '' }],
    ['cron not a string', { cron: 5 }],
    ['cron huge', { cron: '*'.repeat(10_000) }],
    ['bad zone', { cron: '0 9 * * *', zone: 'Mars/Olympus' }],
  ])('rejects %s', (_label, r) => {
    expect(() => validateRecurrence(r)).toThrow(InvalidRecurrenceError);
    try {
      validateRecurrence(r);
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_RECURRENCE' });
      expect((err as Error).message.length).toBeLessThan(400);
    }
  });
});

describe('validateMisfire', () => {
  it('accepts the three policies and normalises the tolerance', () => {
    expect(validateMisfire({ policy: 'fire' })).toEqual({ policy: 'fire' });
    expect(validateMisfire({ policy: 'coalesce' })).toEqual({ policy: 'coalesce' });
    expect(validateMisfire({ policy: 'skip', toleranceMs: 5000 })).toEqual({
      policy: 'skip',
      toleranceMs: 5000,
    });
    expect(validateMisfire({ policy: 'skip', toleranceMs: '5 minutes' })).toEqual({
      policy: 'skip',
      toleranceMs: 300_000,
    });
  });

  it.each([
    [null],
    ['fire'],
    [{}],
    [{ policy: 'later' }],
    [{ policy: 'skip' }],
    [{ policy: 'skip', toleranceMs: -1 }],
    [{ policy: 'fire', toleranceMs: 5 }],
  ])('rejects %j', (m) => {
    expect(() => validateMisfire(m)).toThrow(InvalidRecurrenceError);
  });
});
