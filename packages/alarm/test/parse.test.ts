import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/duration.js';
import { InvalidTimeError, InvalidZoneError, PastTimeError } from '../src/errors.js';
import { formatInstant, parseWhen, wallTimeToInstant, zoneOffsetMinutes } from '../src/parse.js';

const at = (iso: string) => Date.parse(iso);

// [input, reference instant, zone, expected instant, kind]
const ACCEPTED: [unknown, string, string, string, string][] = [
  // Natural language is wall-clock time in the zone: 09:00 local in winter (+01) and summer (+02).
  ['tomorrow at 9am', '2026-01-15T12:00:00Z', 'Europe/Paris', '2026-01-16T08:00:00Z', 'natural'],
  ['tomorrow at 9am', '2026-07-15T12:00:00Z', 'Europe/Paris', '2026-07-16T07:00:00Z', 'natural'],
  // Reference in winter time, target on spring-forward day (Sun 29 March 2026) and fall-back day (25 Oct).
  ['tomorrow at 9am', '2026-03-28T12:00:00Z', 'Europe/Paris', '2026-03-29T07:00:00Z', 'natural'],
  ['tomorrow at 9am', '2026-10-24T12:00:00Z', 'Europe/Paris', '2026-10-25T08:00:00Z', 'natural'],
  // 02:30 does not exist on spring-forward day: moved forward by the gap, to 03:30 CEST.
  ['tomorrow at 2:30am', '2026-03-28T12:00:00Z', 'Europe/Paris', '2026-03-29T01:30:00Z', 'natural'],
  // 02:30 happens twice on fall-back day: the earlier (CEST) one.
  ['tomorrow at 2:30am', '2026-10-24T12:00:00Z', 'Europe/Paris', '2026-10-25T00:30:00Z', 'natural'],
  ['tomorrow at 9am', '2026-03-07T17:00:00Z', 'America/New_York', '2026-03-08T13:00:00Z', 'natural'],
  ['tomorrow at 9am', '2026-10-31T17:00:00Z', 'America/New_York', '2026-11-01T14:00:00Z', 'natural'],
  // chrono: 'next friday' is the Friday of next week; a bare weekday is the coming one.
  ['next friday 17:30', '2026-01-14T12:00:00Z', 'Europe/Paris', '2026-01-23T16:30:00Z', 'natural'],
  ['friday 17:30', '2026-01-14T12:00:00Z', 'Europe/Paris', '2026-01-16T16:30:00Z', 'natural'],
  ['at 9am', '2026-01-14T12:00:00Z', 'Europe/Paris', '2026-01-15T08:00:00Z', 'natural'],
  ['noon', '2026-01-14T12:00:00Z', 'America/New_York', '2026-01-14T17:00:00Z', 'natural'],
  ['tomorrow at 9am EST', '2026-01-14T12:00:00Z', 'Europe/Paris', '2026-01-15T14:00:00Z', 'natural'],
  ['  Tomorrow at 9AM. ', '2026-01-15T12:00:00Z', 'Europe/Paris', '2026-01-16T08:00:00Z', 'natural'],
  // Durations are exact elapsed time, even across a DST change.
  ['in 5 minutes', '2026-01-14T12:00:00Z', 'UTC', '2026-01-14T12:05:00Z', 'duration'],
  ['in 3 seconds', '2026-01-14T12:00:00Z', 'Europe/Paris', '2026-01-14T12:00:03Z', 'duration'],
  ['90s', '2026-01-14T12:00:00Z', 'UTC', '2026-01-14T12:01:30Z', 'duration'],
  ['2h30m', '2026-01-14T12:00:00Z', 'UTC', '2026-01-14T14:30:00Z', 'duration'],
  ['in 1 day', '2026-03-28T12:00:00Z', 'Europe/Paris', '2026-03-29T12:00:00Z', 'duration'],
  [{ in: '2 hours' }, '2026-01-14T12:00:00Z', 'UTC', '2026-01-14T14:00:00Z', 'duration'],
  [{ in: 1500 }, '2026-01-14T12:00:00Z', 'UTC', '2026-01-14T12:00:01.500Z', 'duration'],
  // ISO with an offset is absolute; without one it is wall time in the zone.
  ['2026-06-01T10:00:00Z', '2026-01-14T12:00:00Z', 'Europe/Paris', '2026-06-01T10:00:00Z', 'iso'],
  ['2026-06-01T10:00:00+05:30', '2026-01-14T12:00:00Z', 'UTC', '2026-06-01T04:30:00Z', 'iso'],
  ['2026-06-01T10:00', '2026-01-14T12:00:00Z', 'Europe/Paris', '2026-06-01T08:00:00Z', 'iso'],
  ['2026-06-01 10:00:00.250', '2026-01-14T12:00:00Z', 'UTC', '2026-06-01T10:00:00.250Z', 'iso'],
  ['2026-06-01', '2026-01-14T12:00:00Z', 'America/New_York', '2026-06-01T04:00:00Z', 'iso'],
  ['2026-03-08T02:30', '2026-01-14T12:00:00Z', 'America/New_York', '2026-03-08T07:30:00Z', 'iso'],
  ['2026-11-01T01:30', '2026-01-14T12:00:00Z', 'America/New_York', '2026-11-01T05:30:00Z', 'iso'],
  [at('2026-02-01T00:00:00Z'), '2026-01-14T12:00:00Z', 'UTC', '2026-02-01T00:00:00Z', 'epoch'],
  [new Date('2026-02-01T00:00:00Z'), '2026-01-14T12:00:00Z', 'UTC', '2026-02-01T00:00:00Z', 'date'],
  [{ at: '2026-02-01T00:00:00Z' }, '2026-01-14T12:00:00Z', 'UTC', '2026-02-01T00:00:00Z', 'iso'],
  [{ at: at('2026-02-01T00:00:00Z') }, '2026-01-14T12:00:00Z', 'UTC', '2026-02-01T00:00:00Z', 'epoch'],
];

describe('parseWhen accepts', () => {
  it.each(ACCEPTED)('%j at %s in %s -> %s', (input, now, zone, expected, kind) => {
    const r = parseWhen(input, { now: at(now), zone });
    expect(new Date(r.at).toISOString()).toBe(new Date(expected).toISOString());
    expect(r.kind).toBe(kind);
    expect(r.zone).toBe(zone);
  });

  it('accepts exactly now, and the past with allowPast', () => {
    const now = at('2026-01-14T12:00:00Z');
    expect(parseWhen(now, { now }).at).toBe(now);
    expect(parseWhen('2020-01-01T00:00:00Z', { now, allowPast: true }).at).toBe(at('2020-01-01T00:00:00Z'));
  });

  it('defaults the zone to UTC', () => {
    expect(parseWhen('2026-06-01T10:00', { now: 0 }).at).toBe(at('2026-06-01T10:00:00Z'));
  });
});

const NOW = at('2026-01-14T12:00:00Z');
const BIG = 'x'.repeat(10 * 1024 * 1024);

// [label, input, expected error code]
const REJECTED: [string, unknown, string][] = [
  ['garbage', 'banana', 'INVALID_TIME'],
  ['empty', '', 'INVALID_TIME'],
  ['blank', '   ', 'INVALID_TIME'],
  ['leftover words', 'tomorrow at 9am blah', 'INVALID_TIME'],
  ['two instants', 'tomorrow at 9am and friday at 5pm', 'INVALID_TIME'],
  ['a range', 'tomorrow 9am to 10am', 'INVALID_TIME'],
  ['bare number string', '1700000000000', 'INVALID_TIME'],
  ['unknown unit', 'in 5 parsecs', 'INVALID_TIME'],
  ['Feb 30', '2026-02-30T10:00', 'INVALID_TIME'],
  ['hour 25', '2026-02-01T25:00', 'INVALID_TIME'],
  ['past ISO', '2020-01-01T00:00:00Z', 'TIME_IN_PAST'],
  ['past epoch', NOW - 1, 'TIME_IN_PAST'],
  ['NaN', Number.NaN, 'INVALID_TIME'],
  ['Infinity', Number.POSITIVE_INFINITY, 'INVALID_TIME'],
  ['negative epoch', -5, 'INVALID_TIME'],
  ['fractional epoch', NOW + 0.5, 'INVALID_TIME'],
  ['huge epoch', Number.MAX_SAFE_INTEGER, 'INVALID_TIME'],
  ['invalid Date', new Date('nope'), 'INVALID_TIME'],
  ['boolean', true, 'INVALID_TIME'],
  ['null', null, 'INVALID_TIME'],
  ['undefined', undefined, 'INVALID_TIME'],
  ['BigInt', 10n ** 20n, 'INVALID_TIME'],
  ['symbol', Symbol('t'), 'INVALID_TIME'],
  ['function', () => 1, 'INVALID_TIME'],
  ['array', [NOW], 'INVALID_TIME'],
  ['empty object', {}, 'INVALID_TIME'],
  ['object with extra keys', { in: '5m', at: NOW }, 'INVALID_TIME'],
  ['nested wrapper', { at: { at: NOW } }, 'INVALID_TIME'],
  ['bad duration', { in: 'soon' }, 'INVALID_TIME'],
  ['negative duration', { in: -1000 }, 'INVALID_TIME'],
  ['class instance', new (class When {})(), 'INVALID_TIME'],
  ['10 MB string', BIG, 'INVALID_TIME'],
];

describe('parseWhen rejects', () => {
  it.each(REJECTED)('%s', (_label, input, code) => {
    let err: unknown;
    try {
      parseWhen(input, { now: NOW, zone: 'Europe/Paris' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code });
    expect(err).toBeInstanceOf(code === 'TIME_IN_PAST' ? PastTimeError : InvalidTimeError);
    expect((err as Error).message.length).toBeLessThan(400);
  });

  it('quotes the input', () => {
    expect(() => parseWhen('tomorrow at 9am blah', { now: NOW })).toThrow(
      /"tomorrow at 9am blah".*"tomorrow at 9am"/,
    );
  });

  it('rejects a 10 MB string fast', () => {
    const started = performance.now();
    expect(() => parseWhen(BIG, { now: NOW })).toThrow(InvalidTimeError);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it.each([['Mars/Olympus'], [''], [42], ['Europe/Paris; DROP TABLE']])('invalid zone %j', (zone) => {
    expect(() => parseWhen('in 5m', { now: NOW, zone: zone as string })).toThrow(InvalidZoneError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['5 minutes', 300_000],
    ['90s', 90_000],
    ['2h30m', 9_000_000],
    ['1.5 hours', 5_400_000],
    ['3 days', 259_200_000],
    ['an hour', 3_600_000],
    ['1 hour and 30 minutes', 5_400_000],
    ['250ms', 250],
    [1500, 1500],
  ])('%j -> %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([['5'], ['minutes'], ['5 lightyears'], [''], [-1], [Number.NaN], ['9999999 weeks']])(
    'rejects %j',
    (input) => {
      expect(() => parseDuration(input)).toThrow(InvalidTimeError);
    },
  );
});

describe('zones', () => {
  it('offsets follow DST', () => {
    expect(zoneOffsetMinutes('Europe/Paris', at('2026-01-01T00:00:00Z'))).toBe(60);
    expect(zoneOffsetMinutes('Europe/Paris', at('2026-07-01T00:00:00Z'))).toBe(120);
    expect(zoneOffsetMinutes('America/New_York', at('2026-07-01T00:00:00Z'))).toBe(-240);
  });

  it('wall time round-trips on every hour of both transition days', () => {
    for (const [zone, day] of [
      ['Europe/Paris', '2026-03-29'],
      ['Europe/Paris', '2026-10-25'],
      ['America/New_York', '2026-03-08'],
      ['America/New_York', '2026-11-01'],
    ] as const) {
      const [y, m, d] = day.split('-').map(Number) as [number, number, number];
      for (let hour = 0; hour < 24; hour++) {
        const t = wallTimeToInstant(
          { year: y, month: m, day: d, hour, minute: 30, second: 0, millisecond: 0 },
          zone,
        );
        const shown = formatInstant(t, zone);
        // Every hour maps to itself except the skipped one, which moves one hour forward.
        expect([
          `${day} ${String(hour).padStart(2, '0')}:30 ${zone}`,
          `${day} ${String(hour + 1).padStart(2, '0')}:30 ${zone}`,
        ]).toContain(shown);
      }
    }
  });

  it('formatInstant', () => {
    expect(formatInstant(at('2026-11-28T08:00:00Z'), 'Europe/Paris')).toBe('2026-11-28 09:00 Europe/Paris');
    expect(formatInstant(at('2026-11-28T08:00:05Z'), 'UTC')).toBe('2026-11-28 08:00:05 UTC');
  });
});
