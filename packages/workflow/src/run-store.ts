/**
 * Workflow runs in SQLite, in the same database file as the alarms but in tables of their own.
 *
 * The alarm store owns `PRAGMA user_version`; the Scheduler must not touch it, so its schema
 * version lives in a row of `vigil_schema` (component 'scheduler'). Each migration runs in one
 * transaction with its version bump, so a crash mid-migration leaves the previous version.
 *
 * The run row is the source of truth for what happens next (`step`, `seq`, `next_at`): it is
 * written before the alarm that will deliver that step is set, so a crash between the two is
 * repaired at start by setting the alarm again under its idempotency key.
 */
import Database from 'better-sqlite3';
import { NoWorkflowTablesError, RunSchemaTooNewError } from './errors.js';

/** Status of a run. `running`: a step is scheduled or executing; `waiting`: for a signal. */
export type RunStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

/** The statuses of a run, in lifecycle order. */
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'waiting', 'completed', 'failed', 'cancelled'];

/** What a run waits for after `waitFor`. */
export interface Waiting {
  signal: string;
  onSignal: string;
  /** Deadline (epoch ms), or null to wait forever. */
  deadline: number | null;
  onTimeout: string | null;
}

/** One line of a run's history: a step execution, a signal, a transition of a machine. */
export interface HistoryEntry {
  seq: number;
  step: string;
  attempt: number;
  startedAt: number;
  endedAt: number;
  /** 'next' | 'repeat' | 'wait' | 'end' | 'fail' | 'error' | 'retry' | 'signal' | 'timeout' | 'event' | ... */
  outcome: string;
  /** The next step, the result, the error message or the event type. */
  detail: string | null;
}

/** A run as stored (JSON fields already parsed). */
export interface RunRecord {
  id: string;
  workflow: string;
  kind: 'steps' | 'machine';
  status: RunStatus;
  /** Step executed at `seq` (steps), or the machine's state value as JSON (machine). */
  step: string;
  /** Execution number: the alarm that runs the step at this seq has key `run:<id>:<seq>`. */
  seq: number;
  attempt: number;
  /** When the alarm for `seq` fires (null while waiting forever, or for machines). */
  nextAt: number | null;
  alarmId: number | null;
  context: Record<string, unknown>;
  /** The signal that resumed the run, handed to the next step. */
  input: Record<string, unknown> | null;
  waiting: Waiting | null;
  /** Persisted XState snapshot (machine runs). */
  snapshot: unknown;
  /** Durable delays of a machine run. */
  timers: MachineTimers | null;
  result: unknown;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
}

/** Pending delayed events of a machine run, by XState's scheduled-event id. */
export interface MachineTimers {
  /** Next delay number: alarm keys are `run:<id>:delay:<n>`. */
  next: number;
  pending: Record<string, { n: number; fireAt: number; event: Record<string, unknown> }>;
}

/** Filter of `list`. */
export interface RunFilter {
  workflow?: string;
  status?: RunStatus | RunStatus[];
  /** Runs whose id sorts after this one (paging). */
  afterId?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** Current schema version of the Scheduler's tables. */
export const RUN_SCHEMA_VERSION = 1;

const MIGRATIONS: readonly { version: number; up: string }[] = [
  {
    version: 1,
    up: `
      CREATE TABLE workflow_runs (
        id         TEXT PRIMARY KEY,
        workflow   TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('steps', 'machine')),
        status     TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'cancelled')),
        step       TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        attempt    INTEGER NOT NULL,
        next_at    INTEGER,
        alarm_id   INTEGER,
        context    TEXT NOT NULL,
        input      TEXT,
        waiting    TEXT,
        snapshot   TEXT,
        timers     TEXT,
        result     TEXT,
        error      TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ended_at   INTEGER
      );
      CREATE INDEX workflow_runs_status ON workflow_runs (status, workflow);
      CREATE TABLE workflow_history (
        run_id     TEXT NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
        n          INTEGER NOT NULL,
        seq        INTEGER NOT NULL,
        step       TEXT NOT NULL,
        attempt    INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER NOT NULL,
        outcome    TEXT NOT NULL,
        detail     TEXT,
        PRIMARY KEY (run_id, n)
      );
    `,
  },
];

interface Row {
  id: string;
  workflow: string;
  kind: 'steps' | 'machine';
  status: RunStatus;
  step: string;
  seq: number;
  attempt: number;
  next_at: number | null;
  alarm_id: number | null;
  context: string;
  input: string | null;
  waiting: string | null;
  snapshot: string | null;
  timers: string | null;
  result: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
}

/**
 * The Scheduler's store. better-sqlite3 is synchronous: every method is one short transaction,
 * and nothing else runs in this process while it holds the write lock.
 */
export class RunStore {
  readonly #db: Database.Database;

  /** Opens (creating and migrating as needed) the run tables of the database at `path`. */
  constructor(path: string);
  /** @internal */
  constructor(path: string, mode: 'write' | 'read');
  constructor(path: string, mode: 'write' | 'read' = 'write') {
    this.#db =
      mode === 'write' ? new Database(path) : new Database(path, { readonly: true, fileMustExist: true });
    try {
      this.#db.pragma('busy_timeout = 5000');
      if (mode === 'write') {
        this.#db.pragma('journal_mode = WAL');
        this.#db.pragma('synchronous = FULL');
        this.#migrate();
      } else {
        this.#checkReadable();
      }
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /**
   * Opens the run tables of an existing database for inspection (the CLI): read-only, never
   * created or migrated. Throws `NO_WORKFLOW_TABLES` when the file has none, and
   * `STORE_SCHEMA_TOO_NEW` when a newer Scheduler wrote them. Writes on it fail.
   */
  static openReadOnly(path: string): RunStore {
    return new RunStore(path, 'read');
  }

  /** The schema version recorded for the Scheduler's tables (0 if none); refuses a newer one. */
  #version(): number {
    const db = this.#db;
    const hasMeta = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vigil_schema'")
      .get();
    const current = hasMeta
      ? ((
          db.prepare("SELECT version FROM vigil_schema WHERE component = 'scheduler'").get() as
            | { version: number }
            | undefined
        )?.version ?? 0)
      : 0;
    if (current > RUN_SCHEMA_VERSION) throw new RunSchemaTooNewError(current, RUN_SCHEMA_VERSION);
    return current;
  }

  #checkReadable(): void {
    const tables = this.#db
      .prepare(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('workflow_runs', 'workflow_history')",
      )
      .get() as { n: number };
    if (tables.n < 2) throw new NoWorkflowTablesError();
    this.#version();
  }

  #migrate(): void {
    const db = this.#db;
    db.exec('CREATE TABLE IF NOT EXISTS vigil_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    const current = this.#version();
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.transaction(() => {
        db.exec(m.up);
        db.prepare(
          "INSERT INTO vigil_schema (component, version) VALUES ('scheduler', ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        ).run(m.version);
      }).immediate();
    }
  }

  /** One run, or undefined. */
  get(id: string): RunRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM workflow_runs WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** The history of a run, oldest first. */
  history(id: string): HistoryEntry[] {
    return (
      this.#db
        .prepare(
          'SELECT seq, step, attempt, started_at AS startedAt, ended_at AS endedAt, outcome, detail FROM workflow_history WHERE run_id = ? ORDER BY n',
        )
        .all(id) as HistoryEntry[]
    ).map((h) => ({ ...h }));
  }

  /** Runs matching `filter`, by id. */
  list(filter: RunFilter = {}): RunRecord[] {
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
      .all(...params) as Row[];
    return rows.map(fromRow);
  }

  /** Every run still in progress (running or waiting). */
  active(): RunRecord[] {
    const rows = this.#db
      .prepare("SELECT * FROM workflow_runs WHERE status IN ('running', 'waiting') ORDER BY id")
      .all() as Row[];
    return rows.map(fromRow);
  }

  /** Inserts a new run; returns false (changing nothing) when the id is taken. */
  insert(run: RunRecord): boolean {
    const info = this.#db
      .prepare(
        `INSERT INTO workflow_runs (id, workflow, kind, status, step, seq, attempt, next_at, alarm_id, context,
          input, waiting, snapshot, timers, result, error, created_at, updated_at, ended_at)
         VALUES (@id, @workflow, @kind, @status, @step, @seq, @attempt, @next_at, @alarm_id, @context,
          @input, @waiting, @snapshot, @timers, @result, @error, @created_at, @updated_at, @ended_at)
         ON CONFLICT (id) DO NOTHING`,
      )
      .run(toRow(run));
    return info.changes === 1;
  }

  /**
   * Writes the run and appends `entries` to its history in one transaction: the outcome of a
   * step and the next step it chose are committed together, or not at all.
   */
  save(run: RunRecord, entries: HistoryEntry[] = []): void {
    const db = this.#db;
    db.transaction(() => {
      db.prepare(
        `UPDATE workflow_runs SET status = @status, step = @step, seq = @seq, attempt = @attempt,
          next_at = @next_at, alarm_id = @alarm_id, context = @context, input = @input, waiting = @waiting,
          snapshot = @snapshot, timers = @timers, result = @result, error = @error, updated_at = @updated_at,
          ended_at = @ended_at WHERE id = @id`,
      ).run(toRow(run));
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
  setAlarmId(id: string, seq: number, alarmId: number): void {
    this.#db.prepare('UPDATE workflow_runs SET alarm_id = ? WHERE id = ? AND seq = ?').run(alarmId, id, seq);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function fromRow(row: Row): RunRecord {
  const json = (text: string | null) => (text === null ? null : JSON.parse(text));
  return {
    id: row.id,
    workflow: row.workflow,
    kind: row.kind,
    status: row.status,
    step: row.step,
    seq: row.seq,
    attempt: row.attempt,
    nextAt: row.next_at,
    alarmId: row.alarm_id,
    context: JSON.parse(row.context),
    input: json(row.input),
    waiting: json(row.waiting),
    snapshot: json(row.snapshot),
    timers: json(row.timers),
    result: json(row.result),
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}

function toRow(run: RunRecord): Row {
  const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
  return {
    id: run.id,
    workflow: run.workflow,
    kind: run.kind,
    status: run.status,
    step: run.step,
    seq: run.seq,
    attempt: run.attempt,
    next_at: run.nextAt,
    alarm_id: run.alarmId,
    context: JSON.stringify(run.context),
    input: json(run.input),
    waiting: json(run.waiting),
    snapshot: json(run.snapshot),
    timers: json(run.timers),
    result: run.result === undefined ? null : JSON.stringify(run.result),
    error: run.error,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    ended_at: run.endedAt,
  };
}
