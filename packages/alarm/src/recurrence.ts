/**
 * Recurrence of an alarm, and what to do with occurrences that came due while the process was
 * down (misfire policy). Cron patterns are evaluated by croner, in an IANA zone.
 *
 * DST, as croner evaluates wall-clock patterns (pinned by recurrence.test.ts):
 * - spring forward: a run inside the skipped hour ('30 2 * * *' in Paris on the last Sunday of
 *   March) is not skipped; it fires once, at the end of the gap (03:00 local);
 * - fall back: a daily run inside the repeated hour fires once, at its first occurrence (02:30
 *   summer time); patterns that match every N minutes fire on each real instant of both hours.
 * Runs outside the transition hour keep their wall-clock time (09:00 stays 09:00 local).
 *
 * `every` intervals are exact elapsed time, unaffected by DST.
 */
import { Cron } from 'croner';
import { tryParseDuration } from './duration.js';
import { InvalidRecurrenceError } from './errors.js';
import { checkZone } from './parse.js';

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
  let next: Date | null;
  try {
    next = cronJob(r.cron, r.zone ?? zone ?? 'UTC').nextRun(new Date(afterMs));
  } catch (err) {
    // Only reachable with an unvalidated recurrence (a hand-edited row): keep the error typed.
    throw new InvalidRecurrenceError(r, err instanceof Error ? err.message : String(err), { cause: err });
  }
  return next === null ? null : next.getTime();
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
