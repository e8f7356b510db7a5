/**
 * Time phrases read as people mean them (issue 11). Reference: Wednesday 2026-06-10 16:30
 * Europe/Paris unless a case says otherwise.
 * - 'at noon' / 'at midnight' are accepted as 'noon' and 'at 5pm' are;
 * - a bare time or part of day that has passed rolls to tomorrow; a phrase that names today
 *   ('today', 'tonight', 'this morning') is refused with TIME_IN_PAST, quoting the instant meant;
 * - every duration phrase, in digits or words, is exact elapsed time, also across DST;
 * - non-finite numbers are quoted as given; a Proxy that throws gives a typed error.
 */
import { describe, expect, it } from 'vitest';
import { InvalidTimeError, PastTimeError } from '../src/errors.js';
import { formatInstant, parseWhen } from '../src/parse.js';

const PARIS = 'Europe/Paris';
const at = (iso: string) => Date.parse(iso);
/** Wednesday 2026-06-10 16:30 Paris. */
const WED_1630 = at('2026-06-10T14:30:00Z');
/** The same evening at 23:30. */
const WED_2330 = at('2026-06-10T21:30:00Z');
const NOW: Record<string, number> = { '16:30': WED_1630, '23:30': WED_2330 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const read = (when: unknown, now = WED_1630, zone = PARIS) => parseWhen(when, { now, zone });
const wall = (when: unknown, now = WED_1630, zone = PARIS) => formatInstant(read(when, now, zone).at, zone);

function failure(when: unknown, now = WED_1630): unknown {
  try {
    read(when, now);
  } catch (err) {
    return err;
  }
  throw new Error(`${String(when)} was accepted`);
}

describe('noon and midnight', () => {
  it.each([
    ['at noon', '2026-06-11 12:00'],
    ['at midnight', '2026-06-11 00:00'],
    ['at noon tomorrow', '2026-06-11 12:00'],
    ['At Noon', '2026-06-11 12:00'],
    ['noon', '2026-06-11 12:00'],
    ['at 5pm', '2026-06-10 17:00'],
  ])('%s -> %s', (phrase, expected) => {
    expect(wall(phrase)).toBe(`${expected} ${PARIS}`);
  });

  it('still refuses words around them', () => {
    expect(failure('at noon blah')).toMatchObject({ code: 'INVALID_TIME' });
    expect(failure('at tomorrow')).toMatchObject({ code: 'INVALID_TIME' });
  });
});

describe('which phrases roll to tomorrow', () => {
  // A bare time or part of day that has passed today names the next one.
  it.each([
    ['9am', '16:30', '2026-06-11 09:00'],
    ['noon', '16:30', '2026-06-11 12:00'],
    ['morning', '16:30', '2026-06-11 06:00'],
    ['at 5pm', '16:30', '2026-06-10 17:00'],
    ['tonight', '16:30', '2026-06-10 22:00'],
    ['this evening', '16:30', '2026-06-10 20:00'],
    ['today at 5pm', '16:30', '2026-06-10 17:00'],
  ])('%s at %s -> %s', (phrase, now, expected) => {
    expect(wall(phrase, NOW[now])).toBe(`${expected} ${PARIS}`);
  });

  // "This" and "today" name today: once passed, refused with the instant they meant.
  it.each([
    ['this morning', '16:30', '2026-06-10 06:00'],
    ['this afternoon', '16:30', '2026-06-10 15:00'],
    ['this afternoon at 3pm', '16:30', '2026-06-10 15:00'],
    ['today at 9am', '16:30', '2026-06-10 09:00'],
    ['this evening', '23:30', '2026-06-10 20:00'],
    ['tonight', '23:30', '2026-06-10 22:00'],
    ['this night', '23:30', '2026-06-10 20:00'],
  ])('%s is refused at %s, quoting %s', (phrase, now, meant) => {
    const err = failure(phrase, NOW[now]);
    expect(err).toBeInstanceOf(PastTimeError);
    expect(err).toMatchObject({ code: 'TIME_IN_PAST', wallClock: `${meant} ${PARIS}` });
    expect((err as Error).message).toContain(`(${meant} ${PARIS})`);
    expect((err as Error).message).toContain(JSON.stringify(phrase));
  });
});

describe('durations are exact elapsed time', () => {
  // Saturday 2026-03-28 13:00 Paris: the clocks go forward that night (02:00 -> 03:00).
  const SPRING = at('2026-03-28T12:00:00Z');
  // Saturday 2026-10-24 14:00 Paris: the clocks go back that night (03:00 -> 02:00).
  const AUTUMN = at('2026-10-24T12:00:00Z');

  it.each([
    ['in one day', DAY],
    ['in 1 day', DAY],
    ['in a day', DAY],
    ['one day from now', DAY],
    ['3 days from now', 3 * DAY],
    ['in 3 days', 3 * DAY],
    ['in three days', 3 * DAY],
    ['in two hours', 2 * HOUR],
    ['in twenty-five minutes', 25 * 60_000],
    ['half an hour from now', HOUR / 2],
    ['in a couple of days', 2 * DAY],
    ['in a week', 7 * DAY],
    // Phrases the duration grammar leaves to chrono are exact too.
    ['in a few days', 3 * DAY],
    ['within 2 days', 2 * DAY],
    ['in about 3 hours', 3 * HOUR],
  ])('%s', (phrase, ms) => {
    for (const now of [SPRING, AUTUMN, WED_1630]) expect(read(phrase, now).at - now).toBe(ms);
    expect(read(phrase, SPRING, 'America/New_York').at - SPRING).toBe(ms);
  });

  it('says so in the kind for the phrases it reads itself', () => {
    expect(read('in one day').kind).toBe('duration');
    expect(read('3 days from now').kind).toBe('duration');
  });

  it('months and years are calendar arithmetic: same wall-clock time', () => {
    expect(formatInstant(read('in 1 month', SPRING).at, PARIS)).toBe(`2026-04-28 13:00 ${PARIS}`);
  });

  it('a calendar phrase keeps its wall-clock time across the change', () => {
    expect(formatInstant(read('tomorrow at 1pm', SPRING).at, PARIS)).toBe(`2026-03-29 13:00 ${PARIS}`);
  });
});

describe('non-finite numbers are quoted as given', () => {
  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    [{ in: Number.NaN }, '{"in":NaN}'],
    [{ at: Number.POSITIVE_INFINITY }, 'Infinity'],
  ])('%s', (when, shown) => {
    const err = failure(when);
    expect(err).toBeInstanceOf(InvalidTimeError);
    expect((err as Error).message).toMatch(new RegExp(`^invalid time ${shown.replace(/[{}]/g, '\\$&')}: `));
  });
});

describe('a Proxy that throws is a typed error', () => {
  const boom = () => {
    throw new Error('trap boom');
  };
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();

  it.each([
    ['getPrototypeOf trap', new Proxy({}, { getPrototypeOf: boom })],
    ['ownKeys trap', new Proxy({}, { ownKeys: boom })],
    ['get trap on { in }', new Proxy({ in: '5m' }, { get: boom })],
    ['get trap on { at }', new Proxy({ at: '2030-01-01' }, { get: boom })],
    ['revoked', revoked],
    [
      'throwing getter',
      {
        get in() {
          return boom();
        },
      },
    ],
  ])('%s', (_label, when) => {
    const err = failure(when);
    expect(err).toBeInstanceOf(InvalidTimeError);
    expect(err).toMatchObject({ code: 'INVALID_TIME' });
    expect((err as Error).message).toMatch(/reading it threw/);
  });
});
