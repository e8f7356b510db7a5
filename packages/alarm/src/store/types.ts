/**
 * The alarm store interface. It is owned by the alarm package and kept narrow so that a second
 * backend (PostgreSQL, several nodes sharing one table) can be added without touching the actors.
 * Every method returns a promise even though the SQLite backend is synchronous underneath.
 *
 * The store never interprets `message`, `recurrence`, `misfire` or `backoff`: it keeps their raw
 * JSON text, so a row whose JSON is garbage is still returned and the Alarm actor decides what to
 * do with it (mark it failed with a reason).
 */

/** Lifecycle of a stored alarm. Only `pending` rows ever change; the others are final. */
export type AlarmStatus = 'pending' | 'fired' | 'failed' | 'cancelled' | 'missed';

/** All statuses, in a stable order. */
export const ALARM_STATUSES: readonly AlarmStatus[] = ['pending', 'fired', 'failed', 'cancelled', 'missed'];

/** One stored alarm. All instants are UTC epoch milliseconds. */
export interface AlarmRow {
  id: number;
  /** When it fires next; moved forward by retries. */
  fireAt: number;
  /** Registered name of the target actor. */
  target: string;
  /** Raw JSON text of the message; decoded by the Alarm actor. */
  message: string;
  status: AlarmStatus;
  /** Delivery attempts made so far. */
  attempts: number;
  /** Reason of the last failed attempt, or of the final `failed` / `missed` outcome. */
  lastError: string | null;
  createdAt: number;
  /** When it was delivered (status `fired`). */
  firedAt: number | null;
  /** When it left `pending` (any final status). */
  settledAt: number | null;
  /** Idempotency key, unique across the table. */
  key: string | null;
  /** Raw JSON text of a `Recurrence`. */
  recurrence: string | null;
  /** Raw JSON text of a `MisfirePolicy`. */
  misfire: string | null;
  maxAttempts: number;
  /** Raw JSON text of a backoff policy. */
  backoff: string | null;
  /** The instant originally scheduled; unchanged by retries (what lateness is measured from). */
  scheduledFor: number;
}

/** An alarm to insert. */
export interface NewAlarm {
  fireAt: number;
  target: string;
  /** JSON text, already validated by `encodeMessage`. */
  message: string;
  key?: string | null;
  recurrence?: string | null;
  misfire?: string | null;
  /** Defaults to 1. */
  maxAttempts?: number;
  backoff?: string | null;
  createdAt: number;
}

/**
 * One outcome of a firing batch. Each applies only to a row that is still `pending`: a row that
 * was cancelled meanwhile (say by the CLI on another connection) stays cancelled, and its `next`
 * occurrence is not inserted, so a cancelled series stays stopped.
 */
export type Completion =
  | {
      kind: 'fired';
      id: number;
      firedAt: number;
      attempts: number;
      /** Next occurrence of a recurring alarm. Its `key` must differ from this row's or be omitted. */
      next?: NewAlarm;
    }
  | { kind: 'failed'; id: number; at: number; attempts: number; reason: string }
  | { kind: 'missed'; id: number; at: number; lateMs: number; next?: NewAlarm }
  | { kind: 'retry'; id: number; attempts: number; fireAt: number; reason: string };

/**
 * Keyset position in the `(fireAt, id)` order of due alarms: `due(now, limit, after)` returns only
 * rows after it, so a reader that hands rows out in order never reads the same row twice.
 */
export interface DueCursor {
  fireAt: number;
  id: number;
}

/** Filter and page of `AlarmStore.list`; rows come back in ascending id order. */
export interface ListFilter {
  status?: AlarmStatus | AlarmStatus[];
  target?: string;
  /** Defaults to 100. */
  limit?: number;
  /** Return rows with an id above this one (keyset paging). */
  afterId?: number;
}

/** Counts by status and the next instant anything fires. */
export interface StoreStats {
  byStatus: Record<AlarmStatus, number>;
  nextFireAt: number | null;
  total: number;
}

/**
 * Durable storage of alarms. Writes are atomic per call: a rejected write stored nothing.
 * Failures reject with `StoreError` (codes `STORE_FULL`, `STORE_BUSY`, ...).
 */
export interface AlarmStore {
  /**
   * Inserts a batch in one transaction (group commit). A duplicate idempotency key, also within
   * the same batch, returns the existing row with `created: false`. Results follow input order.
   */
  insert(alarms: readonly NewAlarm[]): Promise<{ row: AlarmRow; created: boolean }[]>;
  get(id: number): Promise<AlarmRow | undefined>;
  /** Rows matching the filter, paged by id. */
  list(filter?: ListFilter): Promise<AlarmRow[]>;
  /** Moves a pending alarm to `cancelled`. Returns the row whatever its status, or undefined if absent. */
  cancel(id: number, at: number): Promise<AlarmRow | undefined>;
  /** The earliest pending alarm by (fireAt, id); with `after`, the earliest with fireAt > after. */
  nextPending(after?: number): Promise<AlarmRow | undefined>;
  /** Pending alarms with fireAt <= now, in (fireAt, id) order, at most `limit`. */
  due(now: number, limit: number, after?: DueCursor): Promise<AlarmRow[]>;
  /** Applies all outcomes and inserts next occurrences in one transaction. */
  complete(batch: readonly Completion[]): Promise<void>;
  stats(): Promise<StoreStats>;
  /**
   * A number that changes when another connection (the CLI, another process) commits a write, so
   * a running Alarm actor can notice and re-read. Writes on this connection do not change it.
   */
  changeToken(): Promise<number>;
  /** Closes the store; idempotent. Later calls reject with `STORE_CLOSED`. */
  close(): Promise<void>;
}
