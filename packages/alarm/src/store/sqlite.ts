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
import { migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
import {
  ALARM_STATUSES,
  type AlarmRow,
  type AlarmStatus,
  type AlarmStore,
  type Completion,
  type DueCursor,
  type ListFilter,
  type NewAlarm,
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

const COLUMNS = `id, fire_at AS fireAt, target, message, status, attempts, last_error AS lastError,
  created_at AS createdAt, fired_at AS firedAt, settled_at AS settledAt, key, recurrence, misfire,
  max_attempts AS maxAttempts, backoff, scheduled_for AS scheduledFor`;

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
  readonly #insertMany: (alarms: readonly NewAlarm[]) => { row: AlarmRow; created: boolean }[];
  readonly #completeMany: (batch: readonly Completion[]) => void;
  readonly #cancelOne: (id: number, at: number) => AlarmRow | undefined;

  constructor(db: Database.Database) {
    this.#db = db;
    const readOnly = db.readonly;
    const prep = <T extends unknown[] = unknown[]>(sql: string) => db.prepare<T>(sql);
    const select = `SELECT ${COLUMNS} FROM alarms`;
    // list() has four shapes; preparing each once avoids building SQL per call. The unary `+`
    // keeps SQLite off the (status, fire_at) index, which would sort every matching row to
    // return one page; walking the primary key from afterId stops after `limit` matches.
    const listSql = (byStatus: boolean, byTarget: boolean) =>
      `${select} WHERE id > ?${byStatus ? ' AND +status IN (SELECT value FROM json_each(?))' : ''}${
        byTarget ? ' AND target = ?' : ''
      } ORDER BY id LIMIT ?`;
    this.#stmts = {
      get: prep(`${select} WHERE id = ?`),
      byKey: prep(`${select} WHERE key = ?`),
      list: [listSql(false, false), listSql(true, false), listSql(false, true), listSql(true, true)].map(
        (s) => prep(s),
      ),
      due: prep(`${select} WHERE status = 'pending' AND fire_at <= ? ORDER BY fire_at, id LIMIT ?`),
      // Written as a range on fire_at plus a tie-break, so SQLite walks the (status, fire_at)
      // index from the cursor instead of scanning every due row before it.
      dueAfter: prep(
        `${select} WHERE status = 'pending' AND fire_at <= ? AND fire_at >= ? AND (fire_at > ? OR id > ?)
         ORDER BY fire_at, id LIMIT ?`,
      ),
      next: prep(`${select} WHERE status = 'pending' ORDER BY fire_at, id LIMIT 1`),
      nextAfter: prep(`${select} WHERE status = 'pending' AND fire_at > ? ORDER BY fire_at, id LIMIT 1`),
      counts: prep(`SELECT status, count(*) AS n FROM alarms GROUP BY status`),
      ...(readOnly
        ? {}
        : {
            insert: prep(
              `INSERT INTO alarms (fire_at, scheduled_for, target, message, key, recurrence, misfire, max_attempts, backoff, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            ),
            cancel: prep(
              `UPDATE alarms SET status = 'cancelled', settled_at = ? WHERE id = ? AND status = 'pending'`,
            ),
            fired: prep(
              `UPDATE alarms SET status = 'fired', fired_at = ?, settled_at = ?, attempts = ? WHERE id = ? AND status = 'pending'`,
            ),
            failed: prep(
              `UPDATE alarms SET status = 'failed', settled_at = ?, attempts = ?, last_error = ? WHERE id = ? AND status = 'pending'`,
            ),
            missed: prep(
              `UPDATE alarms SET status = 'missed', settled_at = ?, last_error = ? WHERE id = ? AND status = 'pending'`,
            ),
            retry: prep(
              `UPDATE alarms SET fire_at = ?, attempts = ?, last_error = ? WHERE id = ? AND status = 'pending'`,
            ),
          }),
    };

    const insertOne = (alarm: NewAlarm): { row: AlarmRow; created: boolean } => {
      const params = checkNewAlarm(alarm);
      // Look the key up first rather than relying on the conflict alone: a conflicting INSERT
      // still burns an AUTOINCREMENT id. A row inserted earlier in this same batch is visible here.
      const existing =
        params.key === null ? undefined : (this.#stmts.byKey.get(params.key) as AlarmRow | undefined);
      if (existing) return { row: existing, created: false };
      // Build the row in JS instead of RETURNING it: every column is known, and this halves the
      // cost of a large batch.
      const id = Number(
        this.#stmts.insert!.run(
          // Positional, not named, parameters: binding by name cost about 1 µs per row.
          params.fireAt,
          params.fireAt,
          params.target,
          params.message,
          params.key,
          params.recurrence,
          params.misfire,
          params.maxAttempts,
          params.backoff,
          params.createdAt,
        ).lastInsertRowid,
      );
      const row: AlarmRow = {
        id,
        fireAt: params.fireAt,
        target: params.target,
        message: params.message,
        status: 'pending',
        attempts: 0,
        lastError: null,
        createdAt: params.createdAt,
        firedAt: null,
        settledAt: null,
        key: params.key,
        recurrence: params.recurrence,
        misfire: params.misfire,
        maxAttempts: params.maxAttempts,
        backoff: params.backoff,
        scheduledFor: params.fireAt,
      };
      return { row, created: true };
    };
    // Write transactions are IMMEDIATE: they take the write lock up front (waiting up to
    // busy_timeout), so a read-then-write inside one cannot fail with SQLITE_BUSY_SNAPSHOT when
    // another connection committed in between.
    const insertMany = db.transaction((alarms: readonly NewAlarm[]) => alarms.map(insertOne));
    this.#insertMany = (alarms) => insertMany.immediate(alarms);
    const completeMany = db.transaction((batch: readonly Completion[]) => {
      const s = this.#stmts;
      for (const c of batch) {
        let changed: number;
        switch (c.kind) {
          case 'fired':
            changed = s.fired!.run(c.firedAt, c.firedAt, c.attempts, c.id).changes;
            break;
          case 'failed':
            changed = s.failed!.run(c.at, c.attempts, c.reason, c.id).changes;
            break;
          case 'missed':
            changed = s.missed!.run(c.at, `missed: ${c.lateMs} ms late`, c.id).changes;
            break;
          case 'retry':
            changed = s.retry!.run(c.fireAt, c.attempts, c.reason, c.id).changes;
            break;
          default:
            throw new StoreError(
              'STORE_INVALID_ROW',
              'complete',
              `unknown completion kind ${JSON.stringify((c as { kind: unknown }).kind)}`,
            );
        }
        if (changed > 0 && (c.kind === 'fired' || c.kind === 'missed') && c.next) insertOne(c.next);
      }
    });
    this.#completeMany = (batch) => completeMany.immediate(batch);
    this.#cancelOne = db.transaction((id: number, at: number) => {
      this.#stmts.cancel!.run(at, id);
      return this.#stmts.get.get(id) as AlarmRow | undefined;
    }).immediate;
  }

  async insert(alarms: readonly NewAlarm[]): Promise<{ row: AlarmRow; created: boolean }[]> {
    return this.#write('insert', () => this.#insertMany(alarms));
  }

  async get(id: number): Promise<AlarmRow | undefined> {
    return this.#read('get', () => this.#stmts.get.get(id) as AlarmRow | undefined);
  }

  async list(filter: ListFilter = {}): Promise<AlarmRow[]> {
    return this.#read('list', () => {
      const statuses = filter.status === undefined ? undefined : ([] as AlarmStatus[]).concat(filter.status);
      const byTarget = filter.target !== undefined;
      const stmt = this.#stmts.list[(statuses ? 1 : 0) + (byTarget ? 2 : 0)]!;
      const params: unknown[] = [filter.afterId ?? 0];
      if (statuses) params.push(JSON.stringify(statuses));
      if (byTarget) params.push(filter.target);
      params.push(Math.max(0, Math.trunc(filter.limit ?? DEFAULT_LIMIT)));
      return stmt.all(...params) as AlarmRow[];
    });
  }

  async cancel(id: number, at: number): Promise<AlarmRow | undefined> {
    return this.#write('cancel', () => this.#cancelOne(id, at));
  }

  async nextPending(after?: number): Promise<AlarmRow | undefined> {
    return this.#read(
      'nextPending',
      () =>
        (after === undefined ? this.#stmts.next.get() : this.#stmts.nextAfter.get(after)) as
          | AlarmRow
          | undefined,
    );
  }

  async due(now: number, limit: number, after?: DueCursor): Promise<AlarmRow[]> {
    const n = Math.max(0, Math.trunc(limit));
    return this.#read(
      'due',
      () =>
        (after === undefined
          ? this.#stmts.due.all(now, n)
          : this.#stmts.dueAfter.all(now, after.fireAt, after.fireAt, after.id, n)) as AlarmRow[],
    );
  }

  async complete(batch: readonly Completion[]): Promise<void> {
    if (batch.length === 0) return;
    this.#write('complete', () => this.#completeMany(batch));
  }

  async stats(): Promise<StoreStats> {
    return this.#read('stats', () => {
      const byStatus = Object.fromEntries(ALARM_STATUSES.map((s) => [s, 0])) as Record<AlarmStatus, number>;
      let total = 0;
      for (const { status, n } of this.#stmts.counts.all() as { status: AlarmStatus; n: number }[]) {
        byStatus[status] = n;
        total += n;
      }
      const next = this.#stmts.next.get() as AlarmRow | undefined;
      return { byStatus, total, nextFireAt: next?.fireAt ?? null };
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

// Module-level helpers rather than closures inside checkNewAlarm: it runs once per inserted row,
// and closures made per call (named by the TypeScript loader) cost more than the checks.
function bad(field: string): StoreError {
  return new StoreError('STORE_INVALID_ROW', 'insert', `field '${field}' is missing or has the wrong type`);
}

function text(field: string, v: string | null | undefined): string | null {
  if (v !== undefined && v !== null && typeof v !== 'string') throw bad(field);
  return v ?? null;
}

function checkNewAlarm(a: NewAlarm) {
  if (a === null || typeof a !== 'object') throw bad('alarm');
  if (!Number.isSafeInteger(a.fireAt)) throw bad('fireAt');
  if (!Number.isSafeInteger(a.createdAt)) throw bad('createdAt');
  if (typeof a.target !== 'string' || a.target === '') throw bad('target');
  if (typeof a.message !== 'string') throw bad('message');
  const maxAttempts = a.maxAttempts ?? 1;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw bad('maxAttempts');
  return {
    fireAt: a.fireAt,
    createdAt: a.createdAt,
    target: a.target,
    message: a.message,
    key: text('key', a.key),
    recurrence: text('recurrence', a.recurrence),
    misfire: text('misfire', a.misfire),
    backoff: text('backoff', a.backoff),
    maxAttempts,
  };
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
