/**
 * The alarm store interface. It is owned by the alarm package and kept narrow so that a second
 * backend (PostgreSQL, several nodes sharing one table) can be added without touching the actors.
 * Every method returns a promise even though the SQLite backend is synchronous underneath.
 *
 * Series: a recurring alarm is one row for its whole life. Its `id`, `key` and `cancel` address the
 * series; `fireAt`, `scheduledFor`, `attempts` and `lastError` describe its current occurrence
 * (number `occurrence`); when an occurrence settles and another follows, the row moves to the
 * next one in the same transaction that records the settled one in the history
 * (`OccurrenceRow`). A one-shot alarm is a series of one: its row is its only occurrence, and no
 * history row is written for it (`history` derives it from the row).
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
  /** Number of the current (or last) occurrence of the series, from 1. */
  occurrence: number;
  /** Occurrences delivered, missed and failed so far (a one-shot: 0 or 1 of them). */
  deliveredCount: number;
  missedCount: number;
  failedCount: number;
  /**
   * When a cancel was asked while an occurrence was being delivered (the delivery is not recalled:
   * its outcome is recorded, then the series stops). Null if no such cancel was asked.
   */
  cancelRequestedAt: number | null;
}

/** Outcome of one settled occurrence. */
export type OccurrenceOutcome = 'delivered' | 'missed' | 'failed';

/** One settled occurrence of a series, in the history. */
export interface OccurrenceRow {
  alarmId: number;
  /** Its number in the series, from 1. */
  seq: number;
  scheduledFor: number;
  attempts: number;
  outcome: OccurrenceOutcome;
  /** Why it failed or was missed. */
  error: string | null;
  settledAt: number;
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
 * The occurrence a completion settles, given for a recurring alarm so that the store records it in
 * the history (omitted for a one-shot alarm, whose row is its own record).
 */
export interface SettledOccurrence {
  seq: number;
  scheduledFor: number;
}

/**
 * One outcome of a firing batch. Each applies to a row that is still `pending` and not asked to
 * cancel. A row cancelled meanwhile (by a cancel that met the delivery in flight, here or on
 * another connection) still gets the truth recorded: a delivery counts as delivered (a one-shot
 * alarm ends `fired`, a series ends `cancelled` with the occurrence in its history), a failed
 * attempt is kept as its last error, and nothing comes next: a cancelled series stays stopped.
 *
 * `next` is the instant of the series' next occurrence: the row moves to it (attempts back to 0)
 * instead of taking a final status.
 */
export type Completion =
  | {
      kind: 'fired';
      id: number;
      firedAt: number;
      attempts: number;
      occurrence?: SettledOccurrence;
      next?: number;
    }
  | {
      kind: 'failed';
      id: number;
      at: number;
      attempts: number;
      reason: string;
      occurrence?: SettledOccurrence;
      next?: number;
    }
  | { kind: 'missed'; id: number; at: number; lateMs: number; occurrence?: SettledOccurrence; next?: number }
  | { kind: 'retry'; id: number; attempts: number; fireAt: number; reason: string }
  /** A cancel asked while the delivery was in flight takes effect: the series stops here. */
  | { kind: 'cancelled'; id: number; at: number; reason: string };

/**
 * What `complete` did with a batch. An outcome is either applied (its record written, possibly
 * by the cancel rules above) or refused: nothing about it was written, because its row is no
 * longer this caller's to settle (absent, already final, or, in a store shared by nodes, held by
 * another node that reclaimed it after this caller's lease ran out). The Alarm announces only
 * applied outcomes as what happened.
 */
export interface CompleteResult {
  /** Ids this batch moved to `cancelled` (a cancel asked while their delivery was in flight took effect). */
  cancelled: number[];
  /** Ids whose outcome was not applied, in batch order (an id refused twice is listed twice). */
  refused: number[];
}

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
  /** Only the alarm (series) with this idempotency key. */
  key?: string;
  /** Only alarms whose next instant (`fireAt`) is at or after this one (epoch ms). */
  fireFrom?: number;
  /** Only alarms whose next instant (`fireAt`) is before this one (epoch ms). */
  fireTo?: number;
  /** Defaults to 100. */
  limit?: number;
  /** Return rows with an id above this one (keyset paging). */
  afterId?: number;
}

/** Counts of series by status, of occurrences by outcome, and the next instant anything fires. */
export interface StoreStats {
  /** Series (one-shot alarms included) by status. */
  byStatus: Record<AlarmStatus, number>;
  /** Occurrences by outcome, over every series. */
  occurrences: Record<OccurrenceOutcome, number>;
  nextFireAt: number | null;
  total: number;
  /** A store with its own clock of record (PostgreSQL): this process's clock minus it, ms. */
  clockSkewMs?: number;
  /**
   * A store shared by nodes that declare targets (PostgreSQL): pending alarms due now whose target
   * no live node declares; they wait for one (or for their tolerance, then fail).
   */
  unrouted?: number;
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
  /**
   * Moves a pending alarm to `cancelled`. With `inFlight` (the caller knows an occurrence is being
   * delivered), only records the request (`cancelRequestedAt`): the row stays pending until the
   * delivery's outcome completes it. Returns the row whatever its status, or undefined if absent.
   */
  cancel(id: number, at: number, inFlight?: boolean): Promise<AlarmRow | undefined>;
  /** Settled occurrences of a series, oldest first (a settled one-shot alarm: its one occurrence). */
  history(id: number, limit?: number, afterSeq?: number): Promise<OccurrenceRow[]>;
  /** The earliest pending alarm by (fireAt, id); with `after`, the earliest with fireAt > after. */
  nextPending(after?: number): Promise<AlarmRow | undefined>;
  /**
   * Pending alarms with fireAt <= now, in (fireAt, id) order, at most `limit`. With `exceptTargets`
   * (an optional addition: a store may ignore it, the Alarm skips such rows itself), rows of those
   * targets are left out, so a target at its in-flight limit does not fill the page.
   */
  due(now: number, limit: number, after?: DueCursor, exceptTargets?: readonly string[]): Promise<AlarmRow[]>;
  /**
   * Pending alarms after `after` in (fireAt, id) order, due or not, at most `limit`: the Alarm's
   * read-ahead (its prefetch window of the next alarms). Optional: without it the Alarm reads due
   * rows when they are due. The Alarm fires rows of this window without another read, so a store
   * shared by several nodes, whose due read claims rows (a lease), must not offer it.
   */
  upcoming?(after: DueCursor, limit: number): Promise<AlarmRow[]>;
  /**
   * Applies all outcomes (moving series to their next occurrence, recording history) in one
   * transaction. Resolves with the ids that this batch moved to `cancelled` (a cancel that was
   * asked while their delivery was in flight took effect) and the ids whose outcome it refused
   * (see `CompleteResult`).
   */
  complete(batch: readonly Completion[]): Promise<CompleteResult>;
  stats(): Promise<StoreStats>;
  /**
   * A number that changes when another connection (the CLI, another process) commits a write, so
   * a running Alarm actor can notice and re-read. Writes on this connection do not change it.
   */
  changeToken(): Promise<number>;
  /**
   * Optional (a store shared by several processes): calls `onChange(fireAt)` soon after another
   * connection commits alarms, the earliest due at `fireAt` (0 when unknown: read again), so the
   * Alarm re-reads at once instead of at its next `changeToken` poll, which stays as the safety
   * net for a missed notice. Returns a function that ends the subscription.
   */
  subscribe?(onChange: (fireAt: number) => void): () => void;
  /**
   * Optional: how far this process's clock runs ahead of the store's clock of record, ms
   * (negative: behind). The Alarm arms its Timer that much later, so it wakes when the alarm is
   * due by the store's clock: not early (and again, and again), not late.
   */
  clockSkewMs?(): number;
  /**
   * Optional, for a store shared by nodes that route alarms by target (PostgreSQL with
   * `targets`): whether another node sharing the store declares `name`, now or before (a node
   * restarting does not make it unknown). The Alarm accepts a `set` for a target that is a local
   * worker or for which this answers true; any other is `UNKNOWN_TARGET`. Synchronous, on the
   * set path: answered from what the store last read (at open and at each heartbeat), never by a
   * query. A store whose node claims every target must answer false (or leave it out): it would
   * claim such an alarm and fail it, having no such target.
   */
  declaredElsewhere?(name: string): boolean;
  /** Closes the store; idempotent. Later calls reject with `STORE_CLOSED`. */
  close(): Promise<void>;
}
