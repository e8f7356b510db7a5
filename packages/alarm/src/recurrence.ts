/**
 * Recurrence of an alarm, and what to do with occurrences that came due while the process was
 * down (misfire policy). Cron patterns are read as wall-clock time in an IANA zone.
 *
 * DST (pinned by recurrence-dst.test.ts over Europe/Berlin, America/New_York and
 * Australia/Lord_Howe, whose clocks move by 30 minutes, on both transitions):
 * - spring forward: whatever the pattern matches inside the skipped interval ('30 2 * * *',
 *   '0,30 2 * * *', '15,45 2 * * *' on the last Sunday of March in Berlin) runs once, at the end
 *   of the gap (03:00 local), merged with a run the pattern has there anyway;
 * - fall back: a pattern that names its hours ('30 2 * * *', '0,30 2 * * *') runs once in the
 *   repeated interval, on the first pass (summer time); a pattern whose hour field is a wildcard
 *   or a step over one ('0 * * * *', every 30 minutes of every hour, '@hourly') is a rhythm, and
 *   runs at each real instant of both passes, so it keeps its spacing.
 * Runs outside the transition keep their wall-clock time (09:00 stays 09:00 local).
 *
 * Why not croner's own zone handling: croner 11 handles a single-minute pattern across DST but
 * not a multi-minute one ('0,30 2 * * *' does not run at all on spring-forward day, and runs
 * twice on fall-back day). So croner only enumerates wall-clock matches (evaluated in UTC, where
 * there is no DST), and `nextWallRun` maps each to its instant in the zone by the rules above.
 *
 * `every` intervals are exact elapsed time, unaffected by DST.
 */
import { Cron } from 'croner';
import { tryParseDuration } from './duration.js';
import { InvalidRecurrenceError } from './errors.js';
import { checkZone, zoneOffsetMinutes } from './parse.js';

/** How an alarm repeats: a fixed interval, or a cron pattern in a zone. */
export type Recurrence = { every: string | number } | { cron: string; zone?: string };

/** What to do with an alarm that came due while the process was down. */
export type MisfirePolicy =
  /** Fire it now (the default). */
  | { policy: 'fire' }
  /** Fire it if no later than `toleranceMs`, otherwise mark it `missed`. */
  | { policy: 'skip'; toleranceMs: number }
  /** Recurring alarms: fire once for all the missed occurrences, then continue from now. */
  | { policy: 'coalesce' };

/** Shortest interval accepted for `every`. */
export const MIN_INTERVAL_MS = 1000;

const MAX_PATTERN_LENGTH = 200;
// Any instant works as the probe for "this pattern can ever fire"; a fixed one keeps validation
// deterministic. Patterns pinned to past years only still pass and simply end (null).
const PROBE = new Date(Date.UTC(2000, 0, 1));

/**
 * Validates and normalises a recurrence from untyped input: `{ every }` with an interval of at
 * least one second, or `{ cron, zone? }` with a pattern croner accepts that fires at least once.
 * Throws `InvalidRecurrenceError` (code `INVALID_RECURRENCE`).
 *
 * @example validateRecurrence({ cron: '0 9 * * 1-5', zone: 'Europe/Paris' })
 */
export function validateRecurrence(r: unknown): Recurrence {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) {
    throw new InvalidRecurrenceError(r, 'expected { every } or { cron, zone? }');
  }
  const o = r as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys === 'every') {
    const ms = tryParseDuration(o.every);
    if (typeof ms === 'string') throw new InvalidRecurrenceError(r, `'every': ${ms}`);
    if (ms < MIN_INTERVAL_MS)
      throw new InvalidRecurrenceError(r, `'every' must be at least ${MIN_INTERVAL_MS} ms`);
    return { every: o.every as string | number };
  }
  if (keys === 'cron' || keys === 'cron,zone') {
    const { cron, zone } = o;
    if (typeof cron !== 'string' || cron.trim() === '' || cron.length > MAX_PATTERN_LENGTH) {
      throw new InvalidRecurrenceError(
        r,
        `'cron' must be a pattern of 1 to ${MAX_PATTERN_LENGTH} characters`,
      );
    }
    if (zone !== undefined) {
      try {
        checkZone(zone);
      } catch (err) {
        throw new InvalidRecurrenceError(r, `'zone' is not an IANA time zone`, { cause: err });
      }
    }
    let job: Cron;
    try {
      job = cronJob(cron, (zone as string | undefined) ?? 'UTC');
    } catch (err) {
      throw new InvalidRecurrenceError(r, `'cron': ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    if (job.nextRun(PROBE) === null) throw new InvalidRecurrenceError(r, `'cron' never fires`);
    return zone === undefined ? { cron } : { cron, zone: zone as string };
  }
  throw new InvalidRecurrenceError(r, 'expected exactly { every } or { cron, zone? }');
}

/**
 * The next occurrence strictly after `afterMs`, or null when the pattern has no more runs. A cron
 * pattern is read in its own `zone`, else in `zone`, else UTC. Throws `InvalidRecurrenceError` for
 * a recurrence that does not validate.
 */
export function nextOccurrence(r: Recurrence, afterMs: number, zone?: string): number | null {
  if ('every' in r) {
    const ms = tryParseDuration(r.every);
    if (typeof ms === 'string') throw new InvalidRecurrenceError(r, `'every': ${ms}`);
    return afterMs + Math.max(ms, MIN_INTERVAL_MS);
  }
  try {
    return nextWallRun(r.cron, r.zone ?? zone ?? 'UTC', afterMs);
  } catch (err) {
    // Only reachable with an unvalidated recurrence (a hand-edited row): keep the error typed.
    throw new InvalidRecurrenceError(r, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * Validates a misfire policy from untyped input. `toleranceMs` of `skip` may be a duration
 * string ('5 minutes'); it is normalised to milliseconds. Throws `InvalidRecurrenceError`.
 */
export function validateMisfire(m: unknown): MisfirePolicy {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) {
    throw new InvalidRecurrenceError(m, "misfire policy must be { policy: 'fire' | 'skip' | 'coalesce' }");
  }
  const o = m as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys === 'policy' && (o.policy === 'fire' || o.policy === 'coalesce')) return { policy: o.policy };
  if (keys === 'policy,toleranceMs' && o.policy === 'skip') {
    const ms = tryParseDuration(o.toleranceMs);
    if (typeof ms === 'string') throw new InvalidRecurrenceError(m, `misfire 'toleranceMs': ${ms}`);
    return { policy: 'skip', toleranceMs: ms };
  }
  throw new InvalidRecurrenceError(
    m,
    "misfire policy must be { policy: 'fire' }, { policy: 'skip', toleranceMs } or { policy: 'coalesce' }",
  );
}

// Parsing a pattern is the expensive part of croner; the Alarm actor asks for the same few
// patterns on every firing, so keep a small cache (oldest evicted first).
const jobs = new Map<string, Cron>();
const MAX_CACHED_JOBS = 256;

function cronJob(pattern: string, zone: string): Cron {
  const cacheKey = `${zone}\u0000${pattern}`;
  let job = jobs.get(cacheKey);
  if (!job) {
    job = new Cron(pattern, { timezone: zone, paused: true });
    if (jobs.size >= MAX_CACHED_JOBS) jobs.delete(jobs.keys().next().value!);
    jobs.set(cacheKey, job);
  }
  return job;
}

// --- Cron across DST ----------------------------------------------------------------------------

const MINUTE = 60_000;
// Longer than any DST shift (Antarctica/Troll's is 2 h): the window in which a fall-back
// transition ahead of `after` can make an earlier wall-clock time the next real instant.
const LOOKAHEAD_MS = 3 * 3_600_000;
const MAX_STEPS = 1000;

const offsetMs = (zone: string, at: number): number => zoneOffsetMinutes(zone, at) * MINUTE;

/**
 * True when the pattern's hour field is a wildcard or a step over one (or '@hourly'): a rhythm
 * that runs on each real instant of a repeated interval, rather than at named hours that run once.
 */
function hourIsRhythm(pattern: string): boolean {
  const p = pattern.trim().toLowerCase();
  if (p.startsWith('@')) return p === '@hourly';
  const fields = p.split(/\s+/);
  const hour = fields.length >= 6 ? fields[2] : fields[1];
  return hour !== undefined && /^[*?](?:\/\d+)?$/.test(hour);
}

/** The first instant in (lo, hi] whose offset is that of `hi`: a transition, to the millisecond. */
function transitionIn(zone: string, lo: number, hi: number): number {
  const target = offsetMs(zone, hi);
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetMs(zone, mid) === target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Where a wall-clock time (as UTC fields, in ms) lands in the zone. */
type Landing =
  | { kind: 'single'; at: number }
  /** In a spring-forward gap: `at` is the end of the gap. */
  | { kind: 'gap'; at: number }
  /** In a fall-back overlap: two instants; `overlapEnd` is the wall time at which it ends. */
  | { kind: 'twice'; first: number; second: number; overlapEnd: number };

function land(wall: number, zone: string): Landing {
  // Offsets a day either side cover every real transition (as in wallTimeToInstant).
  const early = offsetMs(zone, wall - 86_400_000);
  const late = offsetMs(zone, wall + 86_400_000);
  const real = [wall - early, wall - late].filter((t) => offsetMs(zone, t) === wall - t);
  if (real.length === 0) return { kind: 'gap', at: transitionIn(zone, wall - late, wall - early) };
  if (real.length === 2 && real[0] !== real[1]) {
    const [first, second] = real[0]! < real[1]! ? [real[0]!, real[1]!] : [real[1]!, real[0]!];
    const t = transitionIn(zone, first, second);
    return { kind: 'twice', first, second, overlapEnd: t + offsetMs(zone, first) };
  }
  return { kind: 'single', at: real[0]! };
}

/**
 * The first run of `pattern` strictly after `afterMs`, reading the pattern as wall-clock time in
 * `zone` with the DST rules of the file header; null when the pattern has no more runs.
 */
function nextWallRun(pattern: string, zone: string, afterMs: number): number | null {
  const job = cronJob(pattern, 'UTC');
  if (zone === 'UTC') return job.nextRun(new Date(afterMs))?.getTime() ?? null;
  const rhythm = hourIsRhythm(pattern);
  const offsetAfter = offsetMs(zone, afterMs);
  let best: number | null = null;

  // Wall times after `after`'s own, in order. Their instants increase with them, except that a
  // named-hour pattern skips the second pass of a repeated interval: jump past it at once.
  let cursor = afterMs + offsetAfter;
  for (let step = 0; best === null; step++) {
    // Each step moves past a wall time that maps to nothing later than `after`, which only the
    // passes of one transition can do: a handful of steps. Bound it all the same.
    if (step === MAX_STEPS) return cronJob(pattern, zone).nextRun(new Date(afterMs))?.getTime() ?? null;
    const next = job.nextRun(new Date(cursor));
    if (next === null) break;
    const wall = next.getTime();
    const l = land(wall, zone);
    if (l.kind !== 'twice') {
      if (l.at > afterMs) best = l.at;
    } else if (l.first > afterMs) best = l.first;
    else if (rhythm && l.second > afterMs) best = l.second;
    if (best === null) cursor = l.kind === 'twice' && !rhythm ? Math.max(wall, l.overlapEnd - 1) : wall;
  }

  // A rhythm before a fall-back: the second pass of the repeated interval comes, in real time,
  // before wall times past it, though it is earlier on the wall clock.
  if (rhythm) {
    const offsetAhead = offsetMs(zone, afterMs + LOOKAHEAD_MS);
    if (offsetAhead < offsetAfter) {
      // The second pass runs from instant t (wall t + offsetAhead) to wall t + offsetAfter; t is
      // after `after`, so any run in it is too.
      const t = transitionIn(zone, afterMs, afterMs + LOOKAHEAD_MS);
      const next = job.nextRun(new Date(t + offsetAhead - 1));
      if (next !== null && next.getTime() < t + offsetAfter) {
        const at = next.getTime() - offsetAhead;
        if (best === null || at < best) best = at;
      }
    }
  }
  return best;
}
