/**
 * The embedded SQLite store (better-sqlite3). Durability first: WAL with `synchronous=FULL`, so a
 * resolved `insert` survives power loss; `NORMAL` is an opt-in that may lose the last commits on
 * power loss (never on a process crash) in exchange for fewer fsyncs.
 *
 * better-sqlite3 is synchronous; the methods are `async` so that a driver error becomes a
 * rejection, and so the interface matches an asynchronous backend.
 */
import Database from 'better-sqlite3';
import { SchemaTooNewError, StoreError, type StoreErrorCode } from '../errors.js';
import { type CheckedAlarm, checkNewAlarm, oneShotHistory } from './check.js';
import { migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
import {
  ALARM_STATUSES,
  type AlarmRow,
  type AlarmStatus,
  type AlarmStore,
  type CompleteResult,
  type Completion,
  type DueCursor,
  type ListFilter,
  type NewAlarm,
  type OccurrenceOutcome,
  type OccurrenceRow,
  type StoreStats,
} from './types.js';

/** Options of `openSqliteStore`. */
export interface SqliteStoreOptions {
  /**
   * `FULL` (default): every commit is fsynced; an acknowledged alarm survives power loss.
   * `NORMAL`: in WAL mode, commits survive a process crash but the last ones may be lost on power
   * loss or an OS crash; several times faster for small batches.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long a write waits for another connection's lock before `STORE_BUSY`. Default 5000. */
  busyTimeoutMs?: number;
  /** Open an existing database read-only (inspection tools). It must already be at the current schema. */
  readonly?: boolean;
  /**
   * Caps the database size in pages (`PRAGMA max_page_count`); writes past it reject with
   * `STORE_FULL`. For quotas and for tests of the disk-full path.
   */
  maxPageCount?: number;
}

// Rows are read in better-sqlite3's raw mode (arrays) and built here as one object literal of a
// fixed shape: letting the driver build each row object (one property at a time, 21 of them)
// cost twice as much as the query itself, and `due()` reads every alarm that fires. The order
// of COLUMNS and of toRow's indices must be the same.
const COLUMNS = `id, fire_at, target, message, status, attempts, last_error, created_at, fired_at,
  settled_at, key, recurrence, misfire, max_attempts, backoff, scheduled_for, occurrence,
  delivered_count, missed_count, failed_count, cancel_requested_at`;

type RawRow = readonly unknown[];

function toRow(r: RawRow): AlarmRow {
  return {
    id: r[0] as number,
    fireAt: r[1] as number,
    target: r[2] as string,
    message: r[3] as string,
    status: r[4] as AlarmStatus,
    attempts: r[5] as number,
    lastError: r[6] as string | null,
    createdAt: r[7] as number,
    firedAt: r[8] as number | null,
    settledAt: r[9] as number | null,
    key: r[10] as string | null,
    recurrence: r[11] as string | null,
    misfire: r[12] as string | null,
    maxAttempts: r[13] as number,
    backoff: r[14] as string | null,
    scheduledFor: r[15] as number,
    occurrence: r[16] as number,
    deliveredCount: r[17] as number,
    missedCount: r[18] as number,
    failedCount: r[19] as number,
    cancelRequestedAt: r[20] as number | null,
  };
}

/** One row of a raw statement over COLUMNS, or undefined. */
function oneRow(stmt: Database.Statement, ...params: unknown[]): AlarmRow | undefined {
  const r = stmt.get(...params) as RawRow | undefined;
  return r === undefined ? undefined : toRow(r);
}

/** Every row of a raw statement over COLUMNS. */
function allRows(stmt: Database.Statement, ...params: unknown[]): AlarmRow[] {
  return (stmt.all(...params) as RawRow[]).map(toRow);
}

const OCCURRENCE_COLUMNS = `alarm_id AS alarmId, seq, scheduled_for AS scheduledFor, attempts, outcome,
  error, settled_at AS settledAt`;

const INSERT = `INSERT INTO alarms (fire_at, scheduled_for, target, message, key, recurrence, misfire,
  max_attempts, backoff, created_at)`;
const INSERT_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
/**
 * Most rows one INSERT statement writes (1,280 parameters, far below SQLite's 32,766). Past about
 * a hundred rows a statement, bigger ones were no faster.
 */
const INSERT_CHUNK = 128;

/** Rows of the next statement for `left` rows to write: a power of two, so few shapes are prepared. */
function chunkSize(left: number): number {
  if (left >= INSERT_CHUNK) return INSERT_CHUNK;
  return 2 ** Math.floor(Math.log2(left));
}

/** The row an insert just wrote: every column is known, so it is not read back. */
function newRow(id: number, a: CheckedAlarm): AlarmRow {
  return {
    id,
    fireAt: a.fireAt,
    target: a.target,
    message: a.message,
    status: 'pending',
    attempts: 0,
    lastError: null,
    createdAt: a.createdAt,
    firedAt: null,
    settledAt: null,
    key: a.key,
    recurrence: a.recurrence,
    misfire: a.misfire,
    maxAttempts: a.maxAttempts,
    backoff: a.backoff,
    scheduledFor: a.fireAt,
    occurrence: 1,
    deliveredCount: 0,
    missedCount: 0,
    failedCount: 0,
    cancelRequestedAt: null,
  };
}

/** Fast-path condition of a completion: the row is pending and nobody asked to cancel it. */
const UNTOUCHED = `id = ? AND status = 'pending' AND cancel_requested_at IS NULL`;

const DEFAULT_LIMIT = 100;

/**
 * Opens (creating and migrating as needed) a SQLite alarm store. `':memory:'` gives a private
 * in-memory database. Throws `SchemaTooNewError` for a database from a newer Vigil, `StoreError`
 * when the file cannot be opened or is not a database.
 *
 * @example
 * const store = openSqliteStore('./alarms.db');
 * const [{ row }] = await store.insert([{ fireAt: Date.now() + 60_000, target: 'Log', message: '{}', createdAt: Date.now() }]);
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): AlarmStore {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    if (options.readonly) {
      const version = schemaVersion(db);
      if (version > SCHEMA_VERSION) throw new SchemaTooNewError(path, version, SCHEMA_VERSION);
      if (version !== SCHEMA_VERSION) {
        throw new StoreError(
          'STORE_READONLY',
          'open',
          `read-only database is at schema ${version}, not ${SCHEMA_VERSION}`,
        );
      }
    } else {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      migrate(db, path);
    }
    if (options.maxPageCount !== undefined) {
      db.pragma(`max_page_count = ${Math.max(1, Math.trunc(options.maxPageCount))}`);
    }
    return new SqliteAlarmStore(db);
  } catch (err) {
    db?.close();
    if (err instanceof SchemaTooNewError) throw err;
    throw toStoreError(err, 'open');
  }
}

class SqliteAlarmStore implements AlarmStore {
  readonly #db: Database.Database;
  #closed = false;
  readonly #stmts;
  readonly #listStmts = new Map<string, Database.Statement>();
  readonly #insertMany: (alarms: readonly NewAlarm[]) => { row: AlarmRow; created: boolean }[];
  readonly #completeMany: (batch: readonly Completion[]) => CompleteResult;
  readonly #cancelOne: (id: number, at: number, inFlight: boolean) => AlarmRow | undefined;

  constructor(db: Database.Database) {
    this.#db = db;
    const readOnly = db.readonly;
    const prep = <T extends unknown[] = unknown[]>(sql: string) => db.prepare<T>(sql);
    /** A statement over COLUMNS, read as arrays (see toRow). */
    const rows = (sql: string) => db.prepare(sql).raw(true);
    const select = `SELECT ${COLUMNS} FROM alarms`;
    // list() has one shape per combination of filters; each is prepared once, on first use
    // (#listStmt). The unary `+` keeps SQLite off the (status, fire_at) and fire_at indexes,
    // which would sort every matching row to return one page; walking the primary key from
    // afterId stops after `limit` matches. A key is unique: its index finds the one row.
    this.#stmts = {
      get: rows(`${select} WHERE id = ?`),
      byKeys: rows(`${select} WHERE key IN (SELECT value FROM json_each(?))`),
      due: rows(`${select} WHERE status = 'pending' AND fire_at <= ? ORDER BY fire_at, id LIMIT ?`),
      // Written as a range on fire_at plus a tie-break, so SQLite walks the (status, fire_at)
      // index from the cursor instead of scanning every due row before it.
      dueAfter: rows(
        `${select} WHERE status = 'pending' AND fire_at <= ? AND fire_at >= ? AND (fire_at > ? OR id > ?)
         ORDER BY fire_at, id LIMIT ?`,
      ),
      // The same two, leaving out some targets (those at their in-flight limit): a residual
      // filter on the same index walk, so it costs the skipped rows of those targets only.
      dueExcept: rows(
        `${select} WHERE status = 'pending' AND fire_at <= ?
         AND target NOT IN (SELECT value FROM json_each(?)) ORDER BY fire_at, id LIMIT ?`,
      ),
      dueAfterExcept: rows(
        `${select} WHERE status = 'pending' AND fire_at <= ? AND fire_at >= ? AND (fire_at > ? OR id > ?)
         AND target NOT IN (SELECT value FROM json_each(?)) ORDER BY fire_at, id LIMIT ?`,
      ),
      // The read-ahead: the same index walk as dueAfter, with no upper bound on fire_at.
      upcoming: rows(
        `${select} WHERE status = 'pending' AND fire_at >= ? AND (fire_at > ? OR id > ?) ORDER BY fire_at, id LIMIT ?`,
      ),
      next: rows(`${select} WHERE status = 'pending' ORDER BY fire_at, id LIMIT 1`),
      nextAfter: rows(`${select} WHERE status = 'pending' AND fire_at > ? ORDER BY fire_at, id LIMIT 1`),
      counts: prep(`SELECT status, count(*) AS n FROM alarms GROUP BY status`),
      outcomes: prep(
        `SELECT coalesce(sum(delivered_count), 0) AS delivered, coalesce(sum(missed_count), 0) AS missed,
           coalesce(sum(failed_count), 0) AS failed FROM alarms`,
      ),
      history: prep(
        `SELECT ${OCCURRENCE_COLUMNS} FROM occurrences WHERE alarm_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      ...(readOnly
        ? {}
        : {
            cancel: prep(
              `UPDATE alarms SET status = 'cancelled', settled_at = ?, cancel_requested_at = coalesce(cancel_requested_at, ?)
               WHERE id = ? AND status = 'pending'`,
            ),
            requestCancel: prep(
              `UPDATE alarms SET cancel_requested_at = ? WHERE id = ? AND status = 'pending' AND cancel_requested_at IS NULL`,
            ),
            // A run of one-shot deliveries in one statement: [id, firedAt, attempts] triples as a
            // JSON array, joined by primary key. It returns the ids it changed; the others (asked
            // to cancel, or no longer pending) take the slow path one by one, as below. The unary
            // `+` keeps SQLite off the (status, fire_at) index: driven by it, the join walked
            // every pending row for each batch (quadratic in a backlog) instead of one lookup
            // by primary key per id.
            firedMany: prep(
              `UPDATE alarms SET status = 'fired', fired_at = j.value ->> 1, settled_at = j.value ->> 1,
                 attempts = j.value ->> 2, delivered_count = delivered_count + 1
               FROM json_each(?) AS j
               WHERE alarms.id = j.value ->> 0 AND +alarms.status = 'pending' AND alarms.cancel_requested_at IS NULL
               RETURNING alarms.id`,
            ).pluck(true),
            // One statement per outcome, final or moving the series on to its next occurrence.
            fired: prep(
              `UPDATE alarms SET status = 'fired', fired_at = ?, settled_at = ?, attempts = ?,
                 delivered_count = delivered_count + 1 WHERE ${UNTOUCHED}`,
            ),
            firedNext: prep(
              `UPDATE alarms SET fire_at = ?, scheduled_for = ?, attempts = 0, last_error = NULL, fired_at = ?,
                 occurrence = occurrence + 1, delivered_count = delivered_count + 1 WHERE ${UNTOUCHED}`,
            ),
            failed: prep(
              `UPDATE alarms SET status = 'failed', settled_at = ?, attempts = ?, last_error = ?,
                 failed_count = failed_count + 1 WHERE ${UNTOUCHED}`,
            ),
            failedNext: prep(
              `UPDATE alarms SET fire_at = ?, scheduled_for = ?, attempts = 0, last_error = ?,
                 occurrence = occurrence + 1, failed_count = failed_count + 1 WHERE ${UNTOUCHED}`,
            ),
            missed: prep(
              `UPDATE alarms SET status = 'missed', settled_at = ?, last_error = ?,
                 missed_count = missed_count + 1 WHERE ${UNTOUCHED}`,
            ),
            missedNext: prep(
              `UPDATE alarms SET fire_at = ?, scheduled_for = ?, attempts = 0, last_error = ?,
                 occurrence = occurrence + 1, missed_count = missed_count + 1 WHERE ${UNTOUCHED}`,
            ),
            retry: prep(`UPDATE alarms SET fire_at = ?, attempts = ?, last_error = ? WHERE ${UNTOUCHED}`),
            // The slow path: a row whose cancel met its delivery. Every value computed in JS.
            settleCancelled: prep(
              `UPDATE alarms SET status = ?, fired_at = coalesce(?, fired_at), attempts = ?,
                 last_error = coalesce(?, last_error), settled_at = ?, delivered_count = delivered_count + ?,
                 missed_count = missed_count + ?, failed_count = failed_count + ? WHERE id = ?`,
            ),
            occurrence: prep(
              `INSERT OR IGNORE INTO occurrences (alarm_id, seq, scheduled_for, attempts, outcome, error, settled_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)`,
            ),
          }),
    };

    // Inserts: rows are written by multi-row INSERT statements of up to INSERT_CHUNK rows (one
    // prepared statement per power-of-two size, made on first use), so a batch of 1,000 runs a
    // dozen statements instead of a thousand: the per-statement cost of the driver was half the
    // cost of a row. Keys are looked up first, in one query per batch, rather than left to the
    // UNIQUE constraint: a conflicting INSERT would abort the statement (every row of it) and
    // still burn AUTOINCREMENT ids.
    const insertStmts = new Map<number, Database.Statement>();
    const insertStmt = (rows: number): Database.Statement => {
      let stmt = insertStmts.get(rows);
      if (!stmt) {
        stmt = db.prepare(`${INSERT} VALUES ${Array(rows).fill(INSERT_ROW).join(', ')}`);
        insertStmts.set(rows, stmt);
      }
      return stmt;
    };
    const insertMany = db.transaction((alarms: readonly NewAlarm[]) => {
      const checked = alarms.map(checkNewAlarm);
      const results = new Array<{ row: AlarmRow; created: boolean }>(checked.length);
      // Which rows to write: all but those whose key exists (before this batch, or earlier in it).
      let fresh: number[] | undefined;
      const keys = checked.some((a) => a.key !== null) ? new Map<string, number>() : undefined;
      if (keys) {
        const existing = new Map<string, AlarmRow>();
        const wanted = [...new Set(checked.flatMap((a) => (a.key === null ? [] : [a.key])))];
        for (const row of allRows(this.#stmts.byKeys, JSON.stringify(wanted))) existing.set(row.key!, row);
        fresh = [];
        for (let i = 0; i < checked.length; i++) {
          const key = checked[i]!.key;
          const row = key === null ? undefined : existing.get(key);
          if (row) {
            results[i] = { row, created: false };
          } else if (key === null) {
            fresh.push(i);
          } else if (!keys.has(key)) {
            keys.set(key, i);
            fresh.push(i);
          } // else: a key given earlier in this batch, answered below with that item's row
        }
      }
      const count = fresh ? fresh.length : checked.length;
      const at = (n: number) => (fresh ? fresh[n]! : n);
      const params: unknown[] = [];
      for (let from = 0; from < count; ) {
        const rows = chunkSize(count - from);
        params.length = 0;
        for (let n = from; n < from + rows; n++) {
          const a = checked[at(n)]!;
          // Positional, not named, parameters: binding by name cost about 1 µs per row.
          params.push(
            a.fireAt,
            a.fireAt,
            a.target,
            a.message,
            a.key,
            a.recurrence,
            a.misfire,
            a.maxAttempts,
            a.backoff,
            a.createdAt,
          );
        }
        const info = insertStmt(rows).run(params);
        // One statement's rows take consecutive ids, in VALUES order: with AUTOINCREMENT each new
        // row gets one more than the largest id ever used, and this transaction holds the write
        // lock. The row is built in JS, not RETURNING-ed (whose order SQLite does not promise),
        // which also halves the cost of a large batch.
        const first = Number(info.lastInsertRowid) - rows + 1;
        for (let n = from; n < from + rows; n++) {
          results[at(n)] = { row: newRow(first + n - from, checked[at(n)]!), created: true };
        }
        from += rows;
      }
      // A key given twice in the batch: the later items answer with the row the first created.
      if (keys) {
        for (let i = 0; i < checked.length; i++) {
          if (results[i] === undefined) {
            results[i] = { row: results[keys.get(checked[i]!.key!)!]!.row, created: false };
          }
        }
      }
      return results;
    });
    // Write transactions are IMMEDIATE: they take the write lock up front (waiting up to
    // busy_timeout), so a read-then-write inside one cannot fail with SQLITE_BUSY_SNAPSHOT when
    // another connection committed in between.
    this.#insertMany = (alarms) => insertMany.immediate(alarms);
    const record = (
      c: Completion,
      outcome: OccurrenceOutcome,
      attempts: number,
      error: string | null,
      at: number,
    ) => {
      if (!('occurrence' in c) || !c.occurrence) return;
      const o = c.occurrence;
      this.#stmts.occurrence!.run(c.id, o.seq, o.scheduledFor, attempts, outcome, error, at);
    };
    /**
     * Marks a run of one-shot deliveries fired in one statement (set-based: one UPDATE for the
     * run instead of one per row, about a third of a backlog's store time). A row the statement
     * did not change takes the same slow path as in the loop below.
     */
    const firedRun = (run: readonly Completion[], result: CompleteResult) => {
      const triples = run.map((c) => {
        const f = c as Extract<Completion, { kind: 'fired' }>;
        return [f.id, f.firedAt, f.attempts];
      });
      const changed = new Set(this.#stmts.firedMany!.all(JSON.stringify(triples)) as number[]);
      for (const c of run) if (!changed.has(c.id)) slowPath(c, result);
    };
    /** One-shot deliveries: the set-based statement applies to them. */
    const oneShotFired = (c: Completion) => c.kind === 'fired' && c.next === undefined && !c.occurrence;
    const completeMany = db.transaction((batch: readonly Completion[]) => {
      const s = this.#stmts;
      const result: CompleteResult = { cancelled: [], refused: [] };
      for (let i = 0; i < batch.length; i++) {
        const c = batch[i]!;
        if (oneShotFired(c)) {
          // A run ends before an id it already holds: a second outcome for the same row must
          // meet the first one's result (a final row: nothing to record), as one by one.
          const ids = new Set([c.id]);
          let end = i + 1;
          while (end < batch.length && oneShotFired(batch[end]!) && !ids.has(batch[end]!.id)) {
            ids.add(batch[end]!.id);
            end++;
          }
          if (end - i > 1) {
            firedRun(batch.slice(i, end), result);
            i = end - 1;
            continue;
          }
        }
        let changed: number;
        switch (c.kind) {
          case 'fired':
            changed = (
              c.next === undefined
                ? s.fired!.run(c.firedAt, c.firedAt, c.attempts, c.id)
                : s.firedNext!.run(c.next, c.next, c.firedAt, c.id)
            ).changes;
            if (changed > 0) record(c, 'delivered', c.attempts, null, c.firedAt);
            break;
          case 'failed':
            changed = (
              c.next === undefined
                ? s.failed!.run(c.at, c.attempts, c.reason, c.id)
                : s.failedNext!.run(c.next, c.next, c.reason, c.id)
            ).changes;
            if (changed > 0) record(c, 'failed', c.attempts, c.reason, c.at);
            break;
          case 'missed': {
            const reason = `missed: ${c.lateMs} ms late`;
            changed = (
              c.next === undefined
                ? s.missed!.run(c.at, reason, c.id)
                : s.missedNext!.run(c.next, c.next, reason, c.id)
            ).changes;
            if (changed > 0) record(c, 'missed', 0, reason, c.at);
            break;
          }
          case 'retry':
            changed = s.retry!.run(c.fireAt, c.attempts, c.reason, c.id).changes;
            break;
          case 'cancelled':
            changed = 0; // always the slow path: it only ever applies to a row asked to cancel
            break;
          default:
            throw new StoreError(
              'STORE_INVALID_ROW',
              'complete',
              `unknown completion kind ${JSON.stringify((c as { kind: unknown }).kind)}`,
            );
        }
        if (changed === 0) slowPath(c, result);
      }
      return result;
    });
    /** An outcome the fast statements did not apply: settled by the cancel rules, or refused. */
    const slowPath = (c: Completion, result: CompleteResult) => {
      const settled = settleCancelled(c);
      if (settled === 'cancelled') result.cancelled.push(c.id);
      else if (settled === 'refused') result.refused.push(c.id);
    };
    /**
     * A completion for a row whose cancel met its delivery (asked while in flight here, or made by
     * another connection that could not know): the outcome is recorded as it happened, and the
     * series stops. Says whether this moved a pending row to `cancelled`, recorded the outcome on
     * a row that stays as it was, or refused it (no such row, or already final: nothing to record).
     */
    const settleCancelled = (c: Completion): 'cancelled' | 'applied' | 'refused' => {
      const row = oneRow(this.#stmts.get, c.id);
      if (!row) return 'refused';
      const asked = row.status === 'pending' && row.cancelRequestedAt !== null;
      if (!asked && row.status !== 'cancelled') return 'refused'; // already final: nothing to record
      const settledAt = row.settledAt ?? row.cancelRequestedAt ?? 0;
      let status: AlarmStatus = 'cancelled';
      let firedAt: number | null = null;
      let attempts = row.attempts;
      let error: string | null = null;
      let counts = [0, 0, 0];
      let at = settledAt;
      switch (c.kind) {
        case 'fired':
          // The delivery happened: the record says so. A one-shot alarm was delivered, so it is
          // `fired`; a series keeps the occurrence in its history and stops.
          record(c, 'delivered', c.attempts, null, c.firedAt);
          if (!c.occurrence) status = 'fired';
          firedAt = c.firedAt;
          attempts = c.attempts;
          counts = [1, 0, 0];
          at = status === 'fired' ? c.firedAt : row.status === 'cancelled' ? settledAt : c.firedAt;
          break;
        case 'failed':
          record(c, 'failed', c.attempts, c.reason, c.at);
          attempts = c.attempts;
          error = c.reason;
          counts = [0, 0, 1];
          if (asked) at = c.at;
          break;
        case 'missed':
          record(c, 'missed', 0, `missed: ${c.lateMs} ms late`, c.at);
          counts = [0, 1, 0];
          if (asked) at = c.at;
          break;
        case 'retry':
          attempts = c.attempts;
          error = c.reason;
          break;
        case 'cancelled':
          error = c.reason;
          if (asked) at = c.at;
          break;
      }
      this.#stmts.settleCancelled!.run(status, firedAt, attempts, error, at, ...counts, c.id);
      return asked && status === 'cancelled' ? 'cancelled' : 'applied';
    };
    this.#completeMany = (batch) => completeMany.immediate(batch);
    this.#cancelOne = db.transaction((id: number, at: number, inFlight: boolean) => {
      if (inFlight) this.#stmts.requestCancel!.run(at, id);
      else this.#stmts.cancel!.run(at, at, id);
      return oneRow(this.#stmts.get, id);
    }).immediate;
  }

  async insert(alarms: readonly NewAlarm[]): Promise<{ row: AlarmRow; created: boolean }[]> {
    return this.#write('insert', () => this.#insertMany(alarms));
  }

  async get(id: number): Promise<AlarmRow | undefined> {
    return this.#read('get', () => oneRow(this.#stmts.get, id));
  }

  async list(filter: ListFilter = {}): Promise<AlarmRow[]> {
    return this.#read('list', () => {
      const statuses = filter.status === undefined ? undefined : ([] as AlarmStatus[]).concat(filter.status);
      const where = ['id > ?'];
      const params: unknown[] = [filter.afterId ?? 0];
      const add = (condition: string, value: unknown) => {
        where.push(condition);
        params.push(value);
      };
      if (statuses) add('+status IN (SELECT value FROM json_each(?))', JSON.stringify(statuses));
      if (filter.target !== undefined) add('target = ?', filter.target);
      if (filter.key !== undefined) add('key = ?', filter.key);
      if (filter.fireFrom !== undefined) add('+fire_at >= ?', filter.fireFrom);
      if (filter.fireTo !== undefined) add('+fire_at < ?', filter.fireTo);
      params.push(Math.max(0, Math.trunc(filter.limit ?? DEFAULT_LIMIT)));
      const sql = `SELECT ${COLUMNS} FROM alarms WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`;
      let stmt = this.#listStmts.get(sql);
      if (!stmt) {
        stmt = this.#db.prepare(sql).raw(true);
        this.#listStmts.set(sql, stmt);
      }
      return allRows(stmt, ...params);
    });
  }

  async cancel(id: number, at: number, inFlight = false): Promise<AlarmRow | undefined> {
    return this.#write('cancel', () => this.#cancelOne(id, at, inFlight === true));
  }

  async history(id: number, limit = DEFAULT_LIMIT, afterSeq = 0): Promise<OccurrenceRow[]> {
    return this.#read('history', () => {
      const n = Math.max(0, Math.trunc(limit));
      const rows = this.#stmts.history.all(id, afterSeq, n) as OccurrenceRow[];
      if (rows.length > 0) return rows;
      // A one-shot alarm writes no history: its row is its one occurrence, once settled.
      return oneShotHistory(oneRow(this.#stmts.get, id), n, afterSeq);
    });
  }

  async nextPending(after?: number): Promise<AlarmRow | undefined> {
    return this.#read('nextPending', () =>
      after === undefined ? oneRow(this.#stmts.next) : oneRow(this.#stmts.nextAfter, after),
    );
  }

  async due(
    now: number,
    limit: number,
    after?: DueCursor,
    exceptTargets?: readonly string[],
  ): Promise<AlarmRow[]> {
    const n = Math.max(0, Math.trunc(limit));
    if (exceptTargets !== undefined && exceptTargets.length > 0) {
      const except = JSON.stringify(exceptTargets);
      return this.#read('due', () =>
        after === undefined
          ? allRows(this.#stmts.dueExcept, now, except, n)
          : allRows(this.#stmts.dueAfterExcept, now, after.fireAt, after.fireAt, after.id, except, n),
      );
    }
    return this.#read('due', () =>
      after === undefined
        ? allRows(this.#stmts.due, now, n)
        : allRows(this.#stmts.dueAfter, now, after.fireAt, after.fireAt, after.id, n),
    );
  }

  async upcoming(after: DueCursor, limit: number): Promise<AlarmRow[]> {
    const n = Math.max(0, Math.trunc(limit));
    return this.#read('upcoming', () =>
      allRows(this.#stmts.upcoming, after.fireAt, after.fireAt, after.id, n),
    );
  }

  async complete(batch: readonly Completion[]): Promise<CompleteResult> {
    if (batch.length === 0) return { cancelled: [], refused: [] };
    return this.#write('complete', () => this.#completeMany(batch));
  }

  async stats(): Promise<StoreStats> {
    return this.#read('stats', () => {
      const byStatus = Object.fromEntries(ALARM_STATUSES.map((s) => [s, 0])) as Record<AlarmStatus, number>;
      let total = 0;
      for (const { status, n } of this.#stmts.counts.all() as { status: AlarmStatus; n: number }[]) {
        byStatus[status] = n;
        total += n;
      }
      const occurrences = this.#stmts.outcomes.get() as Record<OccurrenceOutcome, number>;
      const next = oneRow(this.#stmts.next);
      return { byStatus, occurrences: { ...occurrences }, total, nextFireAt: next?.fireAt ?? null };
    });
  }

  async changeToken(): Promise<number> {
    return this.#read('changeToken', () => this.#db.pragma('data_version', { simple: true }) as number);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #read<T>(operation: string, fn: () => T): T {
    if (this.#closed) throw new StoreError('STORE_CLOSED', operation, 'the store is closed');
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, operation);
    }
  }

  #write<T>(operation: string, fn: () => T): T {
    if (this.#db.readonly && !this.#closed) {
      throw new StoreError('STORE_READONLY', operation, 'the store was opened read-only');
    }
    // better-sqlite3's transaction wrapper has already rolled back when the error reaches here.
    return this.#read(operation, fn);
  }
}

/** Maps a driver error to a typed `StoreError`, keeping it as `cause`. @internal */
export function toStoreError(err: unknown, operation: string): StoreError {
  if (err instanceof StoreError) return err;
  const sqliteCode = (err as { code?: unknown })?.code;
  const detail = err instanceof Error ? err.message : String(err);
  let code: StoreErrorCode = 'STORE_FAILED';
  if (typeof sqliteCode === 'string') {
    if (sqliteCode.startsWith('SQLITE_FULL')) code = 'STORE_FULL';
    else if (sqliteCode.startsWith('SQLITE_BUSY') || sqliteCode.startsWith('SQLITE_LOCKED'))
      code = 'STORE_BUSY';
    else if (sqliteCode.startsWith('SQLITE_READONLY')) code = 'STORE_READONLY';
    else if (sqliteCode.startsWith('SQLITE_CORRUPT') || sqliteCode === 'SQLITE_NOTADB')
      code = 'STORE_CORRUPT';
  } else if (err instanceof TypeError && /database connection is not open/.test(detail)) {
    code = 'STORE_CLOSED';
  }
  return new StoreError(code, operation, detail, { cause: err });
}
