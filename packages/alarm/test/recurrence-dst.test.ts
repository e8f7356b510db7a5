/**
 * Cron patterns across DST, as recurrence.ts states the rules:
 * - any wall time the pattern matches inside a skipped interval runs once, at the end of the gap;
 * - a pattern that names its hours runs once in a repeated interval (the first pass);
 * - a pattern whose hour field is a wildcard or a step over one keeps its rhythm, running at each
 *   real instant of both passes.
 * Both transitions of 2026 in Europe/Berlin, America/New_York and Australia/Lord_Howe (whose
 * clocks move by 30 minutes). Each run is shown as wall-clock time with its UTC offset, so the
 * two passes of a repeated interval can be told apart.
 */
import { describe, expect, it } from 'vitest';
import { wallTime, zoneOffsetMinutes } from '../src/parse.js';
import { nextOccurrence } from '../src/recurrence.js';

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const LORD_HOWE = 'Australia/Lord_Howe';

/** '2026-10-25 02:30 +02:00' */
function show(at: number, zone: string): string {
  const w = wallTime(at, zone);
  const off = zoneOffsetMinutes(zone, at);
  const p = (n: number) => String(n).padStart(2, '0');
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${w.year}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)} ${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}

/** The next `n` runs after `from`, each strictly after the one before. */
function runs(cron: string, zone: string, from: string, n: number): string[] {
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = nextOccurrence({ cron, zone }, t);
    if (next === null) break;
    expect(next).toBeGreaterThan(t);
    out.push(show(next, zone));
    t = next;
  }
  return out;
}

// [pattern, zone, from (UTC), expected runs]
const CASES: [string, string, string, string[]][] = [
  // Berlin, spring forward: Sunday 29 March 2026, 02:00 CET -> 03:00 CEST.
  ['30 2 * * *', BERLIN, '2026-03-28T12:00:00Z', ['2026-03-29 03:00 +02:00', '2026-03-30 02:30 +02:00']],
  [
    '0,30 2 * * *',
    BERLIN,
    '2026-03-28T12:00:00Z',
    ['2026-03-29 03:00 +02:00', '2026-03-30 02:00 +02:00', '2026-03-30 02:30 +02:00'],
  ],
  [
    '*/30 2 * * *',
    BERLIN,
    '2026-03-28T12:00:00Z',
    ['2026-03-29 03:00 +02:00', '2026-03-30 02:00 +02:00', '2026-03-30 02:30 +02:00'],
  ],
  [
    '15,45 2 * * *',
    BERLIN,
    '2026-03-28T12:00:00Z',
    ['2026-03-29 03:00 +02:00', '2026-03-30 02:15 +02:00', '2026-03-30 02:45 +02:00'],
  ],
  ['0 9 * * *', BERLIN, '2026-03-28T12:00:00Z', ['2026-03-29 09:00 +02:00', '2026-03-30 09:00 +02:00']],
  // A rhythm: the gap's runs merge with its own 03:00.
  [
    '0,30 * * * *',
    BERLIN,
    '2026-03-29T00:00:00Z',
    ['2026-03-29 01:30 +01:00', '2026-03-29 03:00 +02:00', '2026-03-29 03:30 +02:00'],
  ],
  // Berlin, fall back: Sunday 25 October 2026, 03:00 CEST -> 02:00 CET.
  ['30 2 * * *', BERLIN, '2026-10-24T12:00:00Z', ['2026-10-25 02:30 +02:00', '2026-10-26 02:30 +01:00']],
  [
    '0,30 2 * * *',
    BERLIN,
    '2026-10-24T12:00:00Z',
    ['2026-10-25 02:00 +02:00', '2026-10-25 02:30 +02:00', '2026-10-26 02:00 +01:00'],
  ],
  [
    '*/30 2 * * *',
    BERLIN,
    '2026-10-24T12:00:00Z',
    ['2026-10-25 02:00 +02:00', '2026-10-25 02:30 +02:00', '2026-10-26 02:00 +01:00'],
  ],
  [
    '15,45 2 * * *',
    BERLIN,
    '2026-10-24T12:00:00Z',
    ['2026-10-25 02:15 +02:00', '2026-10-25 02:45 +02:00', '2026-10-26 02:15 +01:00'],
  ],
  [
    '*/30 * * * *',
    BERLIN,
    '2026-10-25T00:00:00Z',
    [
      '2026-10-25 02:30 +02:00',
      '2026-10-25 02:00 +01:00',
      '2026-10-25 02:30 +01:00',
      '2026-10-25 03:00 +01:00',
    ],
  ],
  [
    '0 * * * *',
    BERLIN,
    '2026-10-24T23:30:00Z',
    ['2026-10-25 02:00 +02:00', '2026-10-25 02:00 +01:00', '2026-10-25 03:00 +01:00'],
  ],
  ['@hourly', BERLIN, '2026-10-24T23:30:00Z', ['2026-10-25 02:00 +02:00', '2026-10-25 02:00 +01:00']],
  // One rule for every pattern: an hourly run inside the gap runs at its end too.
  [
    '15 * * * *',
    BERLIN,
    '2026-03-29T00:00:00Z',
    ['2026-03-29 01:15 +01:00', '2026-03-29 03:00 +02:00', '2026-03-29 03:15 +02:00'],
  ],
  // New York, spring forward: Sunday 8 March 2026, 02:00 EST -> 03:00 EDT.
  [
    '0,30 2 * * *',
    NEW_YORK,
    '2026-03-07T12:00:00Z',
    ['2026-03-08 03:00 -04:00', '2026-03-09 02:00 -04:00', '2026-03-09 02:30 -04:00'],
  ],
  [
    '15,45 2 * * *',
    NEW_YORK,
    '2026-03-07T12:00:00Z',
    ['2026-03-08 03:00 -04:00', '2026-03-09 02:15 -04:00', '2026-03-09 02:45 -04:00'],
  ],
  // New York, fall back: Sunday 1 November 2026, 02:00 EDT -> 01:00 EST.
  [
    '0,30 1 * * *',
    NEW_YORK,
    '2026-10-31T12:00:00Z',
    ['2026-11-01 01:00 -04:00', '2026-11-01 01:30 -04:00', '2026-11-02 01:00 -05:00'],
  ],
  [
    '*/20 1 * * *',
    NEW_YORK,
    '2026-10-31T12:00:00Z',
    [
      '2026-11-01 01:00 -04:00',
      '2026-11-01 01:20 -04:00',
      '2026-11-01 01:40 -04:00',
      '2026-11-02 01:00 -05:00',
    ],
  ],
  [
    '*/30 * * * *',
    NEW_YORK,
    '2026-11-01T05:00:00Z',
    [
      '2026-11-01 01:30 -04:00',
      '2026-11-01 01:00 -05:00',
      '2026-11-01 01:30 -05:00',
      '2026-11-01 02:00 -05:00',
    ],
  ],
  // Lord Howe, spring forward by 30 minutes: Sunday 4 October 2026, 02:00 -> 02:30.
  [
    '0,15,45 2 * * *',
    LORD_HOWE,
    '2026-10-03T00:00:00Z',
    ['2026-10-04 02:30 +11:00', '2026-10-04 02:45 +11:00', '2026-10-05 02:00 +11:00'],
  ],
  ['30 2 * * *', LORD_HOWE, '2026-10-03T00:00:00Z', ['2026-10-04 02:30 +11:00', '2026-10-05 02:30 +11:00']],
  ['10 2 * * *', LORD_HOWE, '2026-10-03T00:00:00Z', ['2026-10-04 02:30 +11:00', '2026-10-05 02:10 +11:00']],
  // Lord Howe, fall back by 30 minutes: Sunday 5 April 2026, 02:00 -> 01:30.
  [
    '0,30,45 1 * * *',
    LORD_HOWE,
    '2026-04-04T00:00:00Z',
    [
      '2026-04-05 01:00 +11:00',
      '2026-04-05 01:30 +11:00',
      '2026-04-05 01:45 +11:00',
      '2026-04-06 01:00 +10:30',
    ],
  ],
  [
    '*/15 * * * *',
    LORD_HOWE,
    '2026-04-04T14:30:00Z',
    [
      '2026-04-05 01:45 +11:00',
      '2026-04-05 01:30 +10:30',
      '2026-04-05 01:45 +10:30',
      '2026-04-05 02:00 +10:30',
    ],
  ],
];

describe('cron across DST', () => {
  it.each(CASES)('%s in %s from %s', (cron, zone, from, expected) => {
    expect(runs(cron, zone, from, expected.length)).toEqual(expected);
  });

  it('a sub-minute pattern keeps its rhythm through a fall-back', () => {
    expect(runs('*/20 * * * * *', BERLIN, '2026-10-25T00:59:20Z', 4)).toEqual([
      '2026-10-25 02:59 +02:00',
      '2026-10-25 02:00 +01:00',
      '2026-10-25 02:00 +01:00',
      '2026-10-25 02:00 +01:00',
    ]);
  });
});
