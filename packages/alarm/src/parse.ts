/**
 * Turns a user's `when` into an absolute instant (UTC ms), relative to a reference instant and an
 * IANA time zone. Accepted, in the order tried:
 *
 * - a `Date` or epoch milliseconds (a safe integer >= 0);
 * - `{ in: duration }` and `{ at: Date | number | string }`;
 * - an ISO-8601 string; without an offset it is wall-clock time in the zone;
 * - a duration ('in 5 minutes', 'in one day', '3 days from now', '90s', '2h30m'): exact elapsed
 *   time from the reference instant (24 h a day, also across DST), whatever words say it;
 * - natural language via chrono-node ('tomorrow at 9am', 'next friday 17:30', 'at noon'), read
 *   as wall-clock time in the zone, so '9am' is 09:00 local whether the date is in summer or
 *   winter time. A bare time or part of day that has passed today ('9am', 'noon', 'morning')
 *   means tomorrow; a phrase that names today ('today at 9am', 'this morning', 'tonight') means
 *   today, and is refused with `PastTimeError` once it has passed. Months and years ('in 2
 *   months') are calendar arithmetic: same wall-clock time, N months later.
 *
 * Natural language must be recognised in full: chrono-node happily parses a prefix ('tomorrow at
 * 9am blah'), and a scheduler that silently drops words can fire at the wrong time, so any leftover
 * text other than punctuation rejects the input. Wall-clock times that do not exist (02:30 on a
 * spring-forward day) move forward by the gap (03:30); ambiguous ones (02:30 on a fall-back day)
 * take the earlier instant, as Temporal's 'compatible' disambiguation does.
 */

import { VigilError } from '@vigil/runtime';
import * as chrono from 'chrono-node';
import { kindOf, MAX_TEXT_LENGTH, tryParseDuration } from './duration.js';
import { InvalidTimeError, InvalidZoneError, PastTimeError } from './errors.js';

/** What `set` accepts as its first argument. */
export type When = Date | number | string | { in: string | number } | { at: Date | number | string };

/** Reference for relative and zone-less inputs. */
export interface ParseOptions {
  /** Reference instant, UTC ms (the clock's now). */
  now: number;
  /** IANA zone for wall-clock inputs; default 'UTC'. */
  zone?: string;
  /** Accept instants before `now` (default false: they reject with `PastTimeError`). */
  allowPast?: boolean;
}

/** The result of `parseWhen`. */
export interface ParsedWhen {
  /** The instant, UTC ms. */
  at: number;
  /** Which form the input took. */
  kind: 'date' | 'epoch' | 'iso' | 'duration' | 'natural';
  /** Printable form of the input. */
  input: string;
  /** The zone wall-clock inputs were read in. */
  zone: string;
}

/** Latest instant accepted: 9999-12-31T23:59:59.999Z. */
export const MAX_INSTANT = 253_402_300_799_999;

/**
 * Parses `when` into an instant. Throws `InvalidTimeError` (code `INVALID_TIME`) for anything that
 * does not name exactly one instant, `PastTimeError` for an instant before `now` (unless
 * `allowPast`; exactly `now` is accepted and fires at once), `InvalidZoneError` for a bad zone.
 * Never throws anything else, whatever the input's type.
 *
 * @example
 * parseWhen('tomorrow at 9am', { now: Date.now(), zone: 'Europe/Paris' }).at
 */
export function parseWhen(when: unknown, options: ParseOptions): ParsedWhen {
  try {
    const zone = checkZone(options.zone ?? 'UTC');
    const now = options.now;
    if (!Number.isSafeInteger(now))
      throw new InvalidTimeError(now, 'the reference instant must be epoch milliseconds');
    const parsed = parseAny(when, now, zone, true);
    if (parsed.at > MAX_INSTANT) throw new InvalidTimeError(when, 'instant is after the year 9999');
    if (!options.allowPast && parsed.at < now)
      throw new PastTimeError(parsed.input, parsed.at, now, formatInstant(parsed.at, zone));
    return parsed;
  } catch (err) {
    if (err instanceof VigilError) throw err;
    // Only reading the input can throw anything else: a Proxy whose trap throws (on instanceof,
    // Object.keys, a property read), a revoked Proxy, a getter. Still a typed error.
    throw new InvalidTimeError(when, `reading it threw: ${describeThrown(err)}`, { cause: err });
  }
}

/**
 * `parseWhen` for many inputs read against one reference instant and zone (the items of one
 * batch of sets): each distinct text is parsed once (a batch of "tomorrow at 9am" runs chrono-node
 * once, not once per item), and once one input was accepted (so the zone and the reference instant
 * are good), an epoch-ms number that is a valid future instant is taken as it is. Every other
 * input, and any input that is refused, goes through `parseWhen` itself, so the answers and the
 * errors are exactly `parseWhen`'s. @internal
 */
export function whenReader(now: number, zone: string): (when: unknown) => number {
  const texts = new Map<string, number>();
  // parseWhen refuses a reference instant that is not epoch ms, and a bad zone, whatever the
  // input: the fast path is only taken once parseWhen has accepted both (its first success).
  let fast = false;
  return (when) => {
    if (fast && typeof when === 'number' && Number.isSafeInteger(when) && when >= now && when <= MAX_INSTANT)
      return when;
    let at = typeof when === 'string' ? texts.get(when) : undefined;
    if (at === undefined) {
      at = parseWhen(when, { now, zone }).at;
      if (typeof when === 'string') texts.set(when, at);
      fast = true;
    }
    return at;
  };
}

function describeThrown(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'an unprintable value';
  }
}

function parseAny(when: unknown, now: number, zone: string, allowWrapper: boolean): ParsedWhen {
  if (when instanceof Date) {
    const at = when.getTime();
    if (Number.isNaN(at)) throw new InvalidTimeError(when, 'invalid Date');
    return { at, kind: 'date', input: when.toISOString(), zone };
  }
  if (typeof when === 'number') {
    if (!Number.isFinite(when)) throw new InvalidTimeError(when, 'not a finite number');
    if (!Number.isSafeInteger(when) || when < 0 || when > MAX_INSTANT) {
      throw new InvalidTimeError(when, 'epoch milliseconds must be an integer between 0 and year 9999');
    }
    return { at: when, kind: 'epoch', input: String(when), zone };
  }
  if (typeof when === 'string') return parseText(when, now, zone);
  if (allowWrapper && isPlainObject(when)) {
    const keys = Object.keys(when);
    if (keys.length === 1 && keys[0] === 'in') {
      const ms = tryParseDuration(when.in);
      if (typeof ms === 'string') throw new InvalidTimeError(when, ms);
      return { at: now + ms, kind: 'duration', input: `in ${String(when.in)}`, zone };
    }
    if (keys.length === 1 && keys[0] === 'at') return parseAny(when.at, now, zone, false);
    throw new InvalidTimeError(when, 'an object must be exactly { in: duration } or { at: instant }');
  }
  throw new InvalidTimeError(
    when,
    `expected a Date, epoch milliseconds, a string, { in } or { at }, got ${kindOf(when)}`,
  );
}

function parseText(raw: string, now: number, zone: string): ParsedWhen {
  if (raw.length > MAX_TEXT_LENGTH)
    throw new InvalidTimeError(raw, `text longer than ${MAX_TEXT_LENGTH} characters`);
  const text = raw.trim();
  if (text === '') throw new InvalidTimeError(raw, 'empty text');
  if (/^\d+$/.test(text)) {
    throw new InvalidTimeError(
      raw,
      'a bare number is ambiguous: pass epoch milliseconds as a number, or add a unit',
    );
  }
  const iso = parseIso(text, zone);
  if (iso !== undefined) {
    if (iso === null) throw new InvalidTimeError(raw, 'not a valid ISO-8601 date-time');
    return { at: iso, kind: 'iso', input: text, zone };
  }
  const ms = tryParseDuration(text);
  if (typeof ms === 'number') return { at: now + ms, kind: 'duration', input: text, zone };
  return { at: parseNatural(raw, text, now, zone), kind: 'natural', input: text, zone };
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** undefined: not ISO-shaped; null: ISO-shaped but invalid (Feb 30, 25:00). */
function parseIso(text: string, zone: string): number | null | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', off] = m;
  const f = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
    millisecond: Math.floor(Number(`0.${frac}`) * 1000),
  };
  if (!validFields(f)) return null;
  if (off === undefined) return wallTimeToInstant(f, zone);
  const wall = fieldsToUtc(f);
  if (off.toUpperCase() === 'Z') return wall;
  const sign = off[0] === '-' ? -1 : 1;
  const digits = off.slice(1).replace(':', '');
  const offMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  if (offMin > 18 * 60) return null;
  return wall - sign * offMin * 60_000;
}

// Phrases that name today. chrono's forwardDate moves a part of the day that has passed to
// tomorrow ('this morning' at 16:30 gives tomorrow 06:00); a user who says "this" or "today"
// means today, so these are read without forwardDate and a passed instant is refused.
const NAMES_TODAY = /\b(?:today|tonight|this\s+(?:morning|afternoon|evening|night|noon|midnight))\b/i;

// chrono reads 'noon' and 'midnight' but leaves a leading 'at' unconsumed ('at 5pm' it takes in
// full); the leftover check would then refuse 'at noon'.
const AT_NOON_OR_MIDNIGHT = /^(?:noon|midday|midnight)\b/i;

// chrono's relative phrases ('in a few days', 'within 2 days', 'in about 3 hours') that the
// duration grammar did not take: exact elapsed time too, unless the unit is a calendar one.
const CALENDAR_UNITS = /\b(?:months?|mos?|years?|yrs?|quarters?|qtrs?|decades?)\b/i;

function parseNatural(raw: string, text: string, now: number, zone: string): number {
  const refOffset = zoneOffsetMinutes(zone, now);
  const ref = { instant: new Date(now), timezone: refOffset };
  let results: chrono.ParsedResult[];
  try {
    results = chrono.parse(text, ref, { forwardDate: !NAMES_TODAY.test(text) });
  } catch (err) {
    throw new InvalidTimeError(
      raw,
      `could not be parsed (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (results.length === 0) throw new InvalidTimeError(raw, 'not a recognised date, time or duration');
  if (results.length > 1) throw new InvalidTimeError(raw, 'names more than one instant');
  const r = results[0]!;
  let before = text.slice(0, r.index);
  if (AT_NOON_OR_MIDNIGHT.test(r.text) && /^\s*at\s*$/i.test(before)) before = '';
  const leftover = (before + ' ' + text.slice(r.index + r.text.length)).replace(/[\s,.;:!]+/g, '');
  if (leftover !== '') {
    throw new InvalidTimeError(raw, `only ${JSON.stringify(r.text)} was understood; remove or fix the rest`);
  }
  if (r.end) throw new InvalidTimeError(raw, 'names a range, not an instant');
  const c = r.start;
  // An explicit zone or offset in the text ('9am EST') wins over the configured zone. chrono's
  // relative times ('in about 3 hours') also carry one: the reference's, so they are exact.
  if (c.isCertain('timezoneOffset')) return r.date().getTime();
  // Otherwise rebuild the instant from chrono's wall-clock fields in the zone: chrono applies one
  // fixed offset (the reference's), which is wrong when the target date is across a DST change.
  const f = {
    year: c.get('year')!,
    month: c.get('month')!,
    day: c.get('day')!,
    hour: c.get('hour') ?? 0,
    minute: c.get('minute') ?? 0,
    second: c.get('second') ?? 0,
    millisecond: c.get('millisecond') ?? 0,
  };
  if (!validFields(f)) throw new InvalidTimeError(raw, 'names a date that does not exist');
  if (isPureDuration(r) && !CALENDAR_UNITS.test(r.text)) {
    // chrono added the days to the reference's wall clock at the reference's offset: read the
    // result at that same offset, which is the reference instant plus exactly N × 24 h.
    return fieldsToUtc(f) - refOffset * 60_000;
  }
  return wallTimeToInstant(f, zone);
}

/** A result that is nothing but an amount of time from the reference ('in a few days'). */
function isPureDuration(r: chrono.ParsedResult): boolean {
  const tags = [...r.tags()];
  return tags.includes('result/relativeDate') && tags.every((t) => t.startsWith('result/relativeDate'));
}

// --- Zones ------------------------------------------------------------------------------------

interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/**
 * Checks that `zone` is an IANA zone name Intl knows and returns it. Throws `InvalidZoneError`.
 */
export function checkZone(zone: unknown): string {
  if (typeof zone !== 'string' || zone === '' || zone.length > 64) throw new InvalidZoneError(zone);
  if (formatters.has(zone)) return zone;
  try {
    formatter(zone);
  } catch {
    throw new InvalidZoneError(zone);
  }
  return zone;
}

/** Wall-clock fields of `at` in `zone`. @internal */
export function wallTime(at: number, zone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(at))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
    millisecond: ((at % 1000) + 1000) % 1000,
  };
}

/** Offset of `zone` from UTC at instant `at`, in minutes (Paris in winter: 60). */
export function zoneOffsetMinutes(zone: string, at: number): number {
  const w = wallTime(at, zone);
  return Math.round((fieldsToUtc(w) - at) / 60_000);
}

/**
 * The instant at which the wall clock in `zone` shows `f`. Offsets are taken a day either side,
 * which covers every real transition; a time in a spring-forward gap moves forward by the gap, an
 * ambiguous fall-back time takes the earlier instant. @internal
 */
export function wallTimeToInstant(f: WallTime, zone: string): number {
  const local = fieldsToUtc(f);
  const before = zoneOffsetMinutes(zone, local - 86_400_000);
  const after = zoneOffsetMinutes(zone, local + 86_400_000);
  const candidates = [before, after]
    .map((off) => local - off * 60_000)
    .filter((t) => zoneOffsetMinutes(zone, t) * 60_000 === local - t)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  // In the gap: read the wall time with the offset in force before the jump, which lands past it.
  return local - before * 60_000;
}

function fieldsToUtc(f: WallTime): number {
  const d = new Date(0);
  d.setUTCFullYear(f.year, f.month - 1, f.day);
  d.setUTCHours(f.hour, f.minute, f.second, f.millisecond);
  return d.getTime();
}

function validFields(f: WallTime): boolean {
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.hour > 23 || f.minute > 59 || f.second > 59) return false;
  const d = new Date(fieldsToUtc(f));
  return d.getUTCMonth() + 1 === f.month && d.getUTCDate() === f.day;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Formats an instant as wall-clock time in a zone, e.g. '2026-11-28 09:00 Europe/Paris'; seconds
 * are shown only when not zero.
 */
export function formatInstant(at: number, zone: string): string {
  checkZone(zone);
  const w = wallTime(at, zone);
  const p = (n: number, width = 2) => String(n).padStart(width, '0');
  const secs = w.second !== 0 || w.millisecond !== 0 ? `:${p(w.second)}` : '';
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}${secs} ${zone}`;
}
