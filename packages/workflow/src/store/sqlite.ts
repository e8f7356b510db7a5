/**
 * The SQLite run store: workflow runs in the same database file as the alarms, in tables of their
 * own (migrations.ts). better-sqlite3 is synchronous: every method is one short transaction done
 * before its promise is returned, so writes are committed in call order, and nothing else runs in
 * this process while it holds the write lock.
 *
 * One process writes the file (the one running the Scheduler; the CLI only reads), so per-run
 * exclusion (`withRun`) is an in-process keyed mutex.
 */
import Database from 'better-sqlite3';
import { NoWorkflowTablesError } from '../errors.js';
import { KeyedMutex } from '../keyed-mutex.js';
import { type RunRow, runFromRow, runToRow } from './codec.js';
import { migrate, schemaVersion } from './migrations.js';
import type { HistoryEntry, RunFilter, RunRecord, RunStore } from './types.js';

/** Options of `openSqliteRunStore`. */
export interface SqliteRunStoreOptions {
  /**
   * Open an existing database for inspection (the CLI): read-only, never created or migrated.
   * Rejects with `NO_WORKFLOW_TABLES` when the file has none, and `STORE_SCHEMA_TOO_NEW` when a
   * newer Scheduler wrote them. Writes on it fail.
   */
  readonly?: boolean;
}

/**
 * Opens (creating and migrating as needed) the run tables of the database at `path`.
 * Synchronous, so that a Scheduler whose database cannot be opened fails its start.
 *
 * @example
 * const runs = openSqliteRunStore('./vigil.db', { readonly: true });
 * console.log(await runs.list({ status: 'running' }));
 */
export function openSqliteRunStore(path: string, options: SqliteRunStoreOptions = {}): RunStore {
  return new SqliteRunStore(path, options.readonly ? 'read' : 'write');
}

class SqliteRunStore implements RunStore {
  readonly #db: Database.Database;
  readonly #runs = new KeyedMutex();

  constructor(path: string, mode: 'write' | 'read') {
    this.#db =
      mode === 'write' ? new Database(path) : new Database(path, { readonly: true, fileMustExist: true });
    try {
      this.#db.pragma('busy_timeout = 5000');
      if (mode === 'write') {
        this.#db.pragma('journal_mode = WAL');
        this.#db.pragma('synchronous = FULL');
        migrate(this.#db);
      } else {
        this.#checkReadable();
      }
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  #checkReadable(): void {
    const tables = this.#db
      .prepare(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('workflow_runs', 'workflow_history')",
      )
      .get() as { n: number };
    if (tables.n < 2) throw new NoWorkflowTablesError();
    schemaVersion(this.#db);
  }

  /** One run, or undefined. */
  async get(id: string): Promise<RunRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM workflow_runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? runFromRow(row) : undefined;
  }

  /** The history of a run, oldest first. */
  async history(id: string): Promise<HistoryEntry[]> {
    return (
      this.#db
        .prepare(
          'SELECT seq, step, attempt, started_at AS startedAt, ended_at AS endedAt, outcome, detail FROM workflow_history WHERE run_id = ? ORDER BY n',
        )
        .all(id) as HistoryEntry[]
    ).map((h) => ({ ...h }));
  }

  /** Runs matching `filter`, by id. */
  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = ['id > ?'];
    const params: unknown[] = [filter.afterId ?? ''];
    if (filter.workflow !== undefined) {
      where.push('workflow = ?');
      params.push(filter.workflow);
    }
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      where.push('status IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(statuses));
    }
    const limit = Math.min(1000, Math.max(1, Math.trunc(filter.limit ?? 100)));
    params.push(limit);
    const rows = this.#db
      .prepare(`SELECT * FROM workflow_runs WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
      .all(...params) as RunRow[];
    return rows.map(runFromRow);
  }

  /** Every run still in progress (running or waiting). */
  async active(): Promise<RunRecord[]> {
    const rows = this.#db
      .prepare("SELECT * FROM workflow_runs WHERE status IN ('running', 'waiting') ORDER BY id")
      .all() as RunRow[];
    return rows.map(runFromRow);
  }

  /** Inserts a new run; returns false (changing nothing) when the id is taken. */
  async insert(run: RunRecord): Promise<boolean> {
    const info = this.#db
      .prepare(
        `INSERT INTO workflow_runs (id, workflow, kind, version, status, step, seq, attempt, next_at, alarm_id,
          context, input, waiting, snapshot, timers, result, error, created_at, updated_at, ended_at)
         VALUES (@id, @workflow, @kind, @version, @status, @step, @seq, @attempt, @next_at, @alarm_id,
          @context, @input, @waiting, @snapshot, @timers, @result, @error, @created_at, @updated_at, @ended_at)
         ON CONFLICT (id) DO NOTHING`,
      )
      .run(runToRow(run));
    return info.changes === 1;
  }

  /**
   * Writes the run and appends `entries` to its history in one transaction: the outcome of a
   * step and the next step it chose are committed together, or not at all.
   */
  async save(run: RunRecord, entries: readonly HistoryEntry[] = []): Promise<void> {
    const db = this.#db;
    db.transaction(() => {
      db.prepare(
        `UPDATE workflow_runs SET version = @version, status = @status, step = @step, seq = @seq, attempt = @attempt,
          next_at = @next_at, alarm_id = @alarm_id, context = @context, input = @input, waiting = @waiting,
          snapshot = @snapshot, timers = @timers, result = @result, error = @error, updated_at = @updated_at,
          ended_at = @ended_at WHERE id = @id`,
      ).run(runToRow(run));
      if (entries.length > 0) {
        const n =
          (
            db.prepare('SELECT max(n) AS n FROM workflow_history WHERE run_id = ?').get(run.id) as {
              n: number | null;
            }
          ).n ?? 0;
        const insert = db.prepare(
          `INSERT INTO workflow_history (run_id, n, seq, step, attempt, started_at, ended_at, outcome, detail)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        entries.forEach((e, i) => {
          insert.run(
            run.id,
            n + i + 1,
            e.seq,
            e.step,
            e.attempt,
            e.startedAt,
            e.endedAt,
            e.outcome,
            e.detail,
          );
        });
      }
    }).immediate();
  }

  /** Records the id of the alarm set for the run's current seq (for cancel); a no-op if seq moved. */
  async setAlarmId(id: string, seq: number, alarmId: number): Promise<void> {
    this.#db.prepare('UPDATE workflow_runs SET alarm_id = ? WHERE id = ? AND seq = ?').run(alarmId, id, seq);
  }

  withRun<T>(runId: string, work: () => Promise<T>): Promise<T> {
    return this.#runs.run(runId, work);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
