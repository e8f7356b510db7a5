/**
 * Durations: '5 minutes', '90s', '2h30m', '1.5 hours', 'an hour', 1500 (ms). A duration is exact
 * elapsed time: '1 day' is 86 400 000 ms even across a DST change (use a calendar phrase such as
 * 'tomorrow at 9am' for wall-clock time).
 */
import { InvalidTimeError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  msec: 1,
  msecs: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  wk: 604_800_000,
  wks: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** Longest duration accepted: 100 years, far below Number.MAX_SAFE_INTEGER when added to now. */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/** Longest text accepted by the parsers; checked before any regular expression runs. */
export const MAX_TEXT_LENGTH = 200;

// One term: a number (or 'a'/'an') and a unit. Anchored and without nested quantifiers, so it
// runs in linear time on the (already length-capped) input.
const TERM = /^(\d+(?:\.\d+)?|an?)\s*([a-z]+)\s*(?:,|and\b)?\s*/;

/**
 * Parses a duration into milliseconds. A number is taken as milliseconds. A string is one or more
 * terms ('2h30m', '1 hour and 30 minutes'), optionally prefixed by 'in'. Throws `InvalidTimeError`.
 *
 * @example parseDuration('2h30m') // 9_000_000
 */
export function parseDuration(text: string | number): number {
  const ms = tryParseDuration(text);
  if (typeof ms === 'string') throw new InvalidTimeError(text, ms);
  return ms;
}

/** Like `parseDuration` but returns the reason instead of throwing. @internal */
export function tryParseDuration(text: unknown): number | string {
  if (typeof text === 'number') {
    if (!Number.isFinite(text)) return 'a duration must be a finite number of milliseconds';
    if (text < 0) return 'a duration cannot be negative';
    if (text > MAX_DURATION_MS) return 'a duration cannot exceed 100 years';
    return Math.round(text);
  }
  if (typeof text !== 'string')
    return `expected a duration string or a number of milliseconds, got ${kindOf(text)}`;
  if (text.length > MAX_TEXT_LENGTH) return `text longer than ${MAX_TEXT_LENGTH} characters`;
  let rest = text.trim().toLowerCase();
  if (rest.startsWith('in ')) rest = rest.slice(3).trimStart();
  if (rest === '') return 'empty duration';
  let total = 0;
  while (rest !== '') {
    const m = TERM.exec(rest);
    if (!m) return `not a duration: expected a number and a unit at ${JSON.stringify(rest.slice(0, 20))}`;
    const unit = UNIT_MS[m[2]!];
    if (unit === undefined) return `unknown unit ${JSON.stringify(m[2])}`;
    const amount = m[1] === 'a' || m[1] === 'an' ? 1 : Number(m[1]);
    total += amount * unit;
    rest = rest.slice(m[0].length);
  }
  if (total > MAX_DURATION_MS) return 'a duration cannot exceed 100 years';
  return Math.round(total);
}

/** Human name of a value's type, for error messages. @internal */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  const t = typeof value;
  return t === 'object' ? 'an object' : t === 'undefined' ? 'undefined' : `a ${t}`;
}
