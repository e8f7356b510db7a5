/**
 * Options of the alarm service, with their defaults, validated once when the spec is built.
 */

import { parseWith } from '@vigil/runtime';
import * as v from 'valibot';
import { InvalidOptionError } from './errors.js';
import { checkZone } from './parse.js';
import { type MisfirePolicy, validateMisfire } from './recurrence.js';
import type { AlarmStore } from './store/types.js';

/** Delay between delivery attempts: `minMs * factor^(attempt-1)`, capped at `maxMs`. */
export interface RetryBackoff {
  minMs: number;
  maxMs: number;
  factor: number;
}

/** How a target that takes batches is configured (`alarmSupervisor({ batchTargets })`). */
export interface BatchTargetOptions {
  /**
   * Most deliveries in one batch message (default 1024, the default `maxInFlight`: a whole page).
   * A page split in several batches has its replies arrive in several turns, and their outcomes
   * wait for each other to share a commit: 256 drained a backlog about a quarter slower.
   */
  maxBatch?: number;
}

/** The default of `BatchTargetOptions.maxBatch`. */
export const DEFAULT_MAX_BATCH = 1024;

/** Options of `alarmSupervisor`. */
export interface AlarmOptions {
  /** Path of the SQLite database file (or ':memory:'); ignored when `store` is given. */
  db?: string;
  /** Builds the store; called at each (re)start of the Alarm actor, which reads it back. */
  store?: () => AlarmStore;
  /** SQLite durability: `FULL` (default, survives power loss) or `NORMAL` (faster, survives crashes). */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Run the SQLite connection of `db` on a worker thread (`openWorkerStore`), so no commit's fsync
   * blocks the main thread's timers (default false). Ignored when `store` is given.
   */
  storeThread?: boolean;
  /** Registered name of the Alarm actor (default 'Alarm'). */
  name?: string;
  /** Registered name of the Timer actor (default 'Timer'). */
  timerName?: string;
  /** Name of the supervisor of both (default 'alarms'). */
  supervisorName?: string;
  /**
   * IANA zone in which natural-language and zone-less ISO times, and cron patterns without their
   * own zone, are read (default 'UTC'). Checked when the spec is built: a bad zone throws
   * `InvalidZoneError` (code `INVALID_ZONE`).
   */
  zone?: string;
  /** Largest message, in UTF-8 bytes of JSON (default 256 KiB). */
  maxMessageBytes?: number;
  /** How long a target may take to accept and process a delivery (default 30 s). */
  deliveryTimeoutMs?: number;
  /** Default delivery attempts per alarm before it is marked failed (default 10). */
  maxAttempts?: number;
  /** Default retry backoff (default 1 s doubling up to 1 h). */
  backoff?: RetryBackoff;
  /** Default misfire policy (default: fire late alarms now, in order). */
  misfire?: MisfirePolicy;
  /** Longest single Timer sleep (default 1000 ms): bounds lateness after a wall-clock jump. */
  sliceMs?: number;
  /** A Timer wake later than planned by more than this is reported (default 250 ms). */
  lateWakeMs?: number;
  /** How often to look for writes by other connections, e.g. the CLI (default 250 ms; 0 = never). */
  pollMs?: number;
  /** Most deliveries in flight at once (default 1024). */
  maxInFlight?: number;
  /**
   * Most deliveries in flight at once to any one target (default `maxInFlight`, i.e. no limit of
   * its own): set below `maxInFlight`, a target that hangs holds at most this many, and the rest
   * of the window serves the other targets' due alarms. While a target is at its limit, each
   * refill read also walks that target's due rows in the store (they are filtered out there).
   */
  maxInFlightPerTarget?: number;
  /**
   * Targets that take their deliveries in batches: each gets one `{ type: 'alarm.batch', alarms }`
   * message per due page (at most `maxBatch` deliveries, default 1024) and answers it with one
   * outcome per item (`true`, or an `Error` with the meaning it has in `replyError`). Every other
   * target gets one message per alarm. Each item counts as one delivery in flight.
   */
  batchTargets?: Record<string, BatchTargetOptions>;
}

/** Options with every default filled in. */
export type ResolvedAlarmOptions = Required<Omit<AlarmOptions, 'db' | 'store' | 'batchTargets'>> & {
  store: () => AlarmStore;
  batchTargets: Record<string, { maxBatch: number }>;
};

/**
 * Fills defaults and checks types; throws `InvalidOptionError` naming the field, `InvalidZoneError`
 * for a zone that is not an IANA name, or `InvalidRecurrenceError` for a bad misfire policy.
 */
export function resolveOptions(
  options: AlarmOptions,
  openDefault: (path: string, synchronous: 'FULL' | 'NORMAL', thread: boolean) => AlarmStore,
): ResolvedAlarmOptions {
  const { db, store, zone, misfire, ...rest } = parseWith(OptionsSchema, options, (field, detail, value) => {
    throw new InvalidOptionError(field || '(options)', value, detail);
  });
  return {
    ...rest,
    maxInFlightPerTarget: Math.min(rest.maxInFlight, rest.maxInFlightPerTarget ?? rest.maxInFlight),
    // `db` is a non-empty string whenever `store` is absent: the schema's last check.
    store: store ?? (() => openDefault(db as string, rest.synchronous, rest.storeThread)),
    zone: checkZone(zone ?? 'UTC'),
    misfire: misfire == null ? { policy: 'fire' } : validateMisfire(misfire),
  };
}

// --- Schema ---------------------------------------------------------------------------------
// An absent or null option takes its default. The first bad field, in this order, is reported.

const atLeast = (min: number, fallback: number) => {
  const message = `must be a number >= ${min}`;
  return v.nullish(v.pipe(v.number(message), v.finite(message), v.minValue(min, message)), fallback);
};

const name = (fallback: string) =>
  v.nullish(v.pipe(v.string('must be a name'), v.minLength(1, 'must be a name')), fallback);

const BACKOFF = 'must be { minMs >= 0, maxMs >= minMs, factor >= 1 }';

const BackoffSchema = v.pipe(
  v.object(
    {
      minMs: v.pipe(v.number(BACKOFF), v.minValue(0, BACKOFF)),
      maxMs: v.number(BACKOFF),
      factor: v.pipe(v.number(BACKOFF), v.minValue(1, BACKOFF)),
    },
    BACKOFF,
  ),
  v.forward(
    v.check((b) => b.maxMs >= b.minMs, BACKOFF),
    ['maxMs'],
  ),
);

const OptionsSchema = v.pipe(
  v.object(
    {
      synchronous: v.nullish(v.picklist(['FULL', 'NORMAL'], "must be 'FULL' or 'NORMAL'"), 'FULL'),
      storeThread: v.nullish(v.boolean('must be true or false'), false),
      store: v.nullish(
        v.custom<() => AlarmStore>(
          (value) => typeof value === 'function',
          'must be a function returning an AlarmStore',
        ),
      ),
      db: v.optional(v.unknown()),
      name: name('Alarm'),
      timerName: name('Timer'),
      supervisorName: name('alarms'),
      backoff: v.nullish(BackoffSchema, { minMs: 1000, maxMs: 3_600_000, factor: 2 }),
      zone: v.optional(v.unknown()),
      maxMessageBytes: atLeast(1, 256 * 1024),
      deliveryTimeoutMs: atLeast(1, 30_000),
      maxAttempts: atLeast(1, 10),
      misfire: v.optional(v.unknown()),
      sliceMs: atLeast(1, 1000),
      lateWakeMs: atLeast(0, 250),
      pollMs: atLeast(0, 250),
      maxInFlight: atLeast(1, 1024),
      batchTargets: v.nullish(
        v.record(
          v.pipe(v.string(), v.minLength(1, 'must name targets')),
          v.object({ maxBatch: atLeast(1, DEFAULT_MAX_BATCH) }, 'must be { maxBatch?: number >= 1 }'),
          'must be an object of target names',
        ),
        {},
      ),
      // Its default depends on maxInFlight: filled in by resolveOptions.
      maxInFlightPerTarget: v.nullish(
        v.pipe(
          v.number('must be a number >= 1'),
          v.finite('must be a number >= 1'),
          v.minValue(1, 'must be a number >= 1'),
        ),
      ),
    },
    'must be an object of alarm options',
  ),
  v.forward(
    v.check(
      (o) => o.store != null || (typeof o.db === 'string' && o.db.length > 0),
      "must be a database path (or ':memory:'), or give 'store'",
    ),
    ['db'],
  ),
);

/** Delay before attempt `attempt + 1`. */
export function retryDelay(backoff: RetryBackoff, attempt: number): number {
  return Math.min(backoff.maxMs, backoff.minMs * backoff.factor ** Math.max(0, attempt - 1));
}
