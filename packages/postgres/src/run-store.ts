/**
 * The workflow run store on PostgreSQL: the `RunStore` contract of `@vigil/workflow` (the same
 * suite runs on the SQLite store), shared by every node that runs a Scheduler on the database.
 *
 * Per-run exclusion (`withRun`) comes from a row lock in the database, not from memory: the work
 * runs while a transaction on a connection of its own holds an uncommitted row `run_id` of
 * `vigil_workflow_locks`; another node's `withRun` on the same id inserts the same key and waits
 * on that transaction until it ends. The transaction is rolled back afterwards (so the table stays
 * empty between locks) and writes nothing else: the work's own writes (`save`...) go through the
 * other pool and commit at once, so a step's outcome is committed before the alarm of the next
 * step is set (the Scheduler's invariant), and the lock never blocks them. The run row itself is
 * not the lock because `save` updates it: a lock on it held across the work would block the work.
 *
 * Invariants: each write is one transaction (a rejected write stored nothing); `save` updates the
 * run row before it numbers the history lines, so two saves of one run (a cancel beside a step)
 * queue on the row and never number two lines alike; within one process, `withRun` calls on one id
 * queue in memory first (call order, and no lock connection spent on waiting for itself). Two pools:
 * a lock holder waiting for a query connection held by lock waiters would never finish.
 *
 * What the lock cannot do: if the connection holding it dies while the work runs (the server
 * restarted), the lock is gone from that moment and another node may take it while the work
 * still runs. The work's writes stand; the Scheduler's checks of the run's seq make a duplicate
 * step harmless in the common case (delivery is at least once anyway).
 */
import { InvalidOptionError } from '@vigil/alarm';
import {
  type HistoryEntry,
  KeyedMutex,
  RUN_COLUMNS,
  type RunFilter,
  type RunRecord,
  type RunRow,
  type RunStatus,
  type RunStore,
  runFromRow,
  runToRow,
} from '@vigil/workflow';
import pg from 'pg';
import { typeParsers } from './pg-types.js';
import { RunStoreError, runStoreError as storeError } from './run-errors.js';
import { checkRunTables, migrateRunTables } from './run-migrations.js';

/** Options of `postgresRunStore` and `openPostgresRunStore`. */
export interface PostgresRunStoreOptions {
  /** A `postgres://` URL. */
  connectionString: string;
  /** Connections for reads and writes. Default 4. */
  max?: number;
  /**
   * Connections that hold per-run locks (one per run being advanced on this node at once; more
   * `withRun` calls wait for one). Default 8.
   */
  maxLocks?: number;
  /**
   * Open for inspection (the CLI): the tables are never created or migrated, and every
   * transaction is read-only. Rejects with `NO_WORKFLOW_TABLES` when the database has none, and
   * `STORE_SCHEMA_TOO_NEW` when a newer Vigil wrote them.
   */
  readonly?: boolean;
}

/**
 * The PostgreSQL run store as the `store` option of `schedulerWorker`: a factory, called at each
 * (re)start of the Scheduler, whose store connects and migrates in the background; its first
 * calls wait for that, and reject (the Scheduler then restarts) if it failed.
 *
 * @example
 * schedulerWorker({ store: postgresRunStore({ connectionString: url }), workflows: [followUp] });
 */
export function postgresRunStore(options: PostgresRunStoreOptions): () => RunStore {
  const checked = checkOptions(options);
  return () => new PostgresRunStore(checked);
}

/**
 * Opens the PostgreSQL run store and waits until its tables are ready. Rejects with
 * `RunSchemaTooNewError` for tables from a newer Vigil, `RunStoreError` when it cannot connect.
 *
 * @example
 * const runs = await openPostgresRunStore({ connectionString: url, readonly: true });
 * console.log(await runs.list({ status: 'running' }));
 */
export async function openPostgresRunStore(options: PostgresRunStoreOptions): Promise<RunStore> {
  const store = new PostgresRunStore(checkOptions(options));
  try {
    await store.ready;
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

function checkOptions(options: PostgresRunStoreOptions): PostgresRunStoreOptions {
  const count = (field: string, v: unknown) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || (v as number) < 1))
      throw new InvalidOptionError(field, v, 'must be an integer >= 1');
  };
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('(options)', options, 'must be an object { connectionString, ... }');
  if (typeof options.connectionString !== 'string' || options.connectionString === '')
    throw new InvalidOptionError('connectionString', options.connectionString, 'must be a postgres:// URL');
  count('max', options.max);
  count('maxLocks', options.maxLocks);
  return { ...options };
}

/** Columns a `save` writes: all but those a run never changes. */
const UPDATED = RUN_COLUMNS.filter(
  (c) => c !== 'id' && c !== 'workflow' && c !== 'kind' && c !== 'created_at',
);

const INSERT = `INSERT INTO vigil_workflow_runs (${RUN_COLUMNS.join(', ')})
  VALUES (${RUN_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (id) DO NOTHING`;

const UPDATE = `UPDATE vigil_workflow_runs SET ${UPDATED.map((c, i) => `${c} = $${i + 2}`).join(', ')}
  WHERE id = $1`;

/** A row's values for `columns`, as the table takes them (`error` is bytea: it may hold NUL). */
function values(row: RunRow, columns: readonly (keyof RunRow)[]): unknown[] {
  return columns.map((c) => (c === 'error' ? bytes(row.error) : row[c]));
}

const HISTORY = `SELECT seq, step, attempt, started_at AS "startedAt", ended_at AS "endedAt", outcome, detail
  FROM vigil_workflow_history WHERE run_id = $1 ORDER BY n`;

class PostgresRunStore implements RunStore {
  readonly #pool: pg.Pool;
  readonly #locks: pg.Pool;
  readonly #queued = new KeyedMutex();
  /** Settles once the tables are checked (and migrated unless read-only). */
  readonly ready: Promise<void>;
  #closed = false;

  constructor(options: PostgresRunStoreOptions) {
    const readOnly = options.readonly === true;
    const config = {
      connectionString: options.connectionString,
      types: typeParsers,
      // A read-only store cannot write even by mistake: the server refuses it.
      ...(readOnly && { options: '-c default_transaction_read_only=on' }),
    };
    this.#pool = new pg.Pool({ ...config, max: options.max ?? 4 });
    this.#locks = new pg.Pool({ ...config, max: options.maxLocks ?? 8 });
    // An idle client's error (the server went away) must not crash the process: the next query fails.
    this.#pool.on('error', () => {});
    this.#locks.on('error', () => {});
    this.ready = this.#prepare(readOnly);
    // Handled here so that a store nobody uses yet never raises an unhandled rejection; every
    // method awaits `ready` and rejects with its error.
    this.ready.catch(() => {});
  }

  async #prepare(readOnly: boolean): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw storeError(err, 'open');
    }
    try {
      await (readOnly ? checkRunTables(client) : migrateRunTables(client));
    } catch (err) {
      throw storeError(err, 'open');
    } finally {
      client.release();
    }
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const rows = await this.#query<RunRow>('get', 'SELECT * FROM vigil_workflow_runs WHERE id = $1', [id]);
    return rows[0] ? runFromRow(rows[0]) : undefined;
  }

  async history(id: string): Promise<HistoryEntry[]> {
    return this.#query<HistoryEntry>('history', HISTORY, [id]);
  }

  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
    const params: unknown[] = [filter.afterId ?? ''];
    let sql = 'SELECT * FROM vigil_workflow_runs WHERE id > $1';
    if (filter.workflow !== undefined) {
      params.push(filter.workflow);
      sql += ` AND workflow = $${params.length}`;
    }
    if (filter.status !== undefined) {
      params.push(([] as RunStatus[]).concat(filter.status));
      sql += ` AND status = ANY($${params.length}::text[])`;
    }
    params.push(Math.min(1000, Math.max(1, Math.trunc(filter.limit ?? 100))));
    sql += ` ORDER BY id LIMIT $${params.length}`;
    return (await this.#query<RunRow>('list', sql, params)).map(runFromRow);
  }

  async active(): Promise<RunRecord[]> {
    return (
      await this.#query<RunRow>(
        'active',
        `SELECT * FROM vigil_workflow_runs WHERE status IN ('running', 'waiting') ORDER BY id`,
        [],
      )
    ).map(runFromRow);
  }

  async insert(run: RunRecord): Promise<boolean> {
    const row = runToRow(run);
    return this.#tx('insert', async (c) => {
      const result = await c.query(INSERT, values(row, RUN_COLUMNS));
      return result.rowCount === 1;
    });
  }

  async save(run: RunRecord, entries: readonly HistoryEntry[] = []): Promise<void> {
    const row = runToRow(run);
    await this.#tx('save', async (c) => {
      // The UPDATE takes the run row's lock first: a concurrent save of this run waits here, and
      // then numbers its lines after these (each statement reads what was committed before it).
      const updated = await c.query(UPDATE, [row.id, ...values(row, UPDATED)]);
      // No such run: nothing to attach history to (the SQLite store writes none either that anyone reads).
      if (updated.rowCount === 0 || entries.length === 0) return;
      const last = await c.query<{ n: number }>(
        'SELECT coalesce(max(n), 0) AS n FROM vigil_workflow_history WHERE run_id = $1',
        [run.id],
      );
      let n = last.rows[0]!.n;
      for (const e of entries) {
        await c.query(
          `INSERT INTO vigil_workflow_history (run_id, n, seq, step, attempt, started_at, ended_at, outcome, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [run.id, ++n, e.seq, e.step, e.attempt, e.startedAt, e.endedAt, e.outcome, bytes(e.detail)],
        );
      }
    });
  }

  async setAlarmId(id: string, seq: number, alarmId: number): Promise<void> {
    await this.#query(
      'setAlarmId',
      'UPDATE vigil_workflow_runs SET alarm_id = $1 WHERE id = $2 AND seq = $3',
      [alarmId, id, seq],
    );
  }

  withRun<T>(runId: string, work: () => Promise<T>): Promise<T> {
    return this.#queued.run(runId, () => this.#locked(runId, work));
  }

  async #locked<T>(runId: string, work: () => Promise<T>): Promise<T> {
    await this.#open('withRun');
    let client: pg.PoolClient;
    try {
      client = await this.#locks.connect();
    } catch (err) {
      throw storeError(err, 'withRun');
    }
    // A connection that dies while it holds the lock emits 'error' on the client: without a
    // listener that would be an uncaught exception. The lock is gone then (see the header).
    let lost: unknown;
    const onError = (err: unknown) => {
      lost = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO vigil_workflow_locks (run_id) VALUES ($1)
         ON CONFLICT (run_id) DO UPDATE SET run_id = excluded.run_id`,
        [runId],
      );
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      client.off('error', onError);
      client.release(err instanceof Error ? err : true);
      throw storeError(err, 'withRun');
    }
    try {
      return await work();
    } finally {
      // Rolling back releases the lock and leaves no row. A connection lost meanwhile is thrown
      // away rather than returned to the pool.
      await client.query('ROLLBACK').catch((err) => {
        lost ??= err;
      });
      client.off('error', onError);
      client.release(lost === undefined ? undefined : lost instanceof Error ? lost : true);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#pool.end(), this.#locks.end()]);
  }

  async #open(operation: string): Promise<void> {
    if (this.#closed) throw new RunStoreError('STORE_CLOSED', operation, 'the run store is closed');
    await this.ready;
    if (this.#closed) throw new RunStoreError('STORE_CLOSED', operation, 'the run store is closed');
  }

  async #query<R>(operation: string, sql: string, params: unknown[]): Promise<R[]> {
    await this.#open(operation);
    try {
      return (await this.#pool.query(sql, params)).rows as R[];
    } catch (err) {
      throw storeError(err, operation);
    }
  }

  async #tx<T>(operation: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.#open(operation);
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw storeError(err, operation);
    }
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw storeError(err, operation);
    } finally {
      client.release();
    }
  }
}

function bytes(v: string | null): Buffer | null {
  return v === null ? null : Buffer.from(v, 'utf8');
}
