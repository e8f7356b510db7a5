/**
 * Durations: '5 minutes', '90s', '2h30m', '1.5 hours', 'an hour', 'one day', 'twenty-five
 * minutes', 'half an hour', 'a couple of days', 1500 (ms), optionally as 'in X' or 'X from now'.
 * A duration is exact elapsed time: '1 day' is 86 400 000 ms even across a DST change (use a
 * calendar phrase such as 'tomorrow at 9am' for wall-clock time). Numbers in words are the ones
 * people write for amounts (one to nineteen, the tens to ninety, and their compounds); vaguer
 * words ('a few', 'several') are left to the natural-language parser, which keeps them exact too.
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

const UNITS_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS_WORDS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const DIGIT_WORDS = 'one|two|three|four|five|six|seven|eight|nine';
const WORD_NUMBER = `(?:${Object.keys(TENS_WORDS).join('|')})(?:[ -](?:${DIGIT_WORDS}))?\\b|(?:${Object.keys(UNITS_WORDS).join('|')})\\b`;

// One term: an amount and a unit. The amount is digits, a number in words, 'half a(n)',
// '(a) couple of', or 'a'/'an' (tried in this order, so 'half an' is not read as 'half' + 'an').
// Anchored and without nested quantifiers, so it runs in linear time on the (already
// length-capped) input.
const TERM = new RegExp(
  `^(\\d+(?:\\.\\d+)?|half\\s+an?\\b|(?:a\\s+)?couple\\s+of\\b|${WORD_NUMBER}|an?\\b)\\s*([a-z]+)\\s*(?:,|and\\b)?\\s*`,
);

/** The value of an amount matched by TERM. */
function amountOf(text: string): number {
  if (/^\d/.test(text)) return Number(text);
  if (text.startsWith('half')) return 0.5;
  if (text.includes('couple')) return 2;
  if (text === 'a' || text === 'an') return 1;
  const [tens, unit] = text.split(/[ -]/) as [string, string | undefined];
  if (tens in TENS_WORDS) return TENS_WORDS[tens]! + (unit === undefined ? 0 : UNITS_WORDS[unit]!);
  return UNITS_WORDS[tens]!;
}

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
  let rest = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (rest.startsWith('in ')) rest = rest.slice(3);
  else if (rest.endsWith(' from now')) rest = rest.slice(0, -' from now'.length);
  if (rest === '') return 'empty duration';
  let total = 0;
  while (rest !== '') {
    const m = TERM.exec(rest);
    if (!m) return `not a duration: expected a number and a unit at ${JSON.stringify(rest.slice(0, 20))}`;
    const unit = UNIT_MS[m[2]!];
    if (unit === undefined) return `unknown unit ${JSON.stringify(m[2])}`;
    total += amountOf(m[1]!) * unit;
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
