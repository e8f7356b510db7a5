/**
 * Options of the alarm service, with their defaults, validated once when the spec is built.
 */

import { InvalidOptionError } from './errors.js';
import { checkZone } from './parse.js';
import type { MisfirePolicy } from './recurrence.js';
import type { AlarmStore } from './store/types.js';

/** Delay between delivery attempts: `minMs * factor^(attempt-1)`, capped at `maxMs`. */
export interface RetryBackoff {
  minMs: number;
  maxMs: number;
  factor: number;
}

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
}

/** Options with every default filled in. */
export type ResolvedAlarmOptions = Required<Omit<AlarmOptions, 'db' | 'store'>> & {
  store: () => AlarmStore;
};

/**
 * Fills defaults and checks types; throws `InvalidOptionError` naming the field, or
 * `InvalidZoneError` for a zone that is not an IANA name.
 */
export function resolveOptions(
  options: AlarmOptions,
  openDefault: (path: string, synchronous: 'FULL' | 'NORMAL', thread: boolean) => AlarmStore,
): ResolvedAlarmOptions {
  const o = options as Record<string, unknown>;
  const positive = (field: string, fallback: number, min = 1): number => {
    const value = o[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new InvalidOptionError(field, value, `must be a number >= ${min}`);
    }
    return value;
  };
  const synchronous = options.synchronous ?? 'FULL';
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new InvalidOptionError('synchronous', synchronous, "must be 'FULL' or 'NORMAL'");
  }
  const storeThread = options.storeThread ?? false;
  if (typeof storeThread !== 'boolean') {
    throw new InvalidOptionError('storeThread', storeThread, 'must be true or false');
  }
  let store = options.store;
  if (store !== undefined && typeof store !== 'function') {
    throw new InvalidOptionError('store', store, 'must be a function returning an AlarmStore');
  }
  if (!store) {
    const path = options.db;
    if (typeof path !== 'string' || path.length === 0) {
      throw new InvalidOptionError('db', path, "must be a database path (or ':memory:'), or give 'store'");
    }
    store = () => openDefault(path, synchronous, storeThread);
  }
  const name = (field: string, fallback: string): string => {
    const value = o[field] ?? fallback;
    if (typeof value !== 'string' || value.length === 0)
      throw new InvalidOptionError(field, value, 'must be a name');
    return value;
  };
  const backoff = options.backoff ?? { minMs: 1000, maxMs: 3_600_000, factor: 2 };
  if (
    typeof backoff !== 'object' ||
    !(backoff.minMs >= 0) ||
    !(backoff.maxMs >= backoff.minMs) ||
    !(backoff.factor >= 1)
  ) {
    throw new InvalidOptionError('backoff', backoff, 'must be { minMs >= 0, maxMs >= minMs, factor >= 1 }');
  }
  return {
    store,
    synchronous,
    storeThread,
    name: name('name', 'Alarm'),
    timerName: name('timerName', 'Timer'),
    supervisorName: name('supervisorName', 'alarms'),
    zone: checkZone(options.zone ?? 'UTC'),
    maxMessageBytes: positive('maxMessageBytes', 256 * 1024),
    deliveryTimeoutMs: positive('deliveryTimeoutMs', 30_000),
    maxAttempts: positive('maxAttempts', 10),
    backoff,
    misfire: options.misfire ?? { policy: 'fire' },
    sliceMs: positive('sliceMs', 1000),
    lateWakeMs: positive('lateWakeMs', 250, 0),
    pollMs: positive('pollMs', 250, 0),
    maxInFlight: positive('maxInFlight', 1024),
  };
}

/** Delay before attempt `attempt + 1`. */
export function retryDelay(backoff: RetryBackoff, attempt: number): number {
  return Math.min(backoff.maxMs, backoff.minMs * backoff.factor ** Math.max(0, attempt - 1));
}
