/**
 * Read-only access to the Scheduler's workflow runs (tables `workflow_runs` and `workflow_history`
 * in the same database file as the alarms). The Scheduler's own `RunStore` opens for writing and
 * migrates, which an inspection tool must never do, so this reads the tables with plain SQL on a
 * read-only connection. A database without those tables (alarms only) is reported as such.
 */
import { VigilError } from '@vigil/runtime';
import Database from 'better-sqlite3';
import { requireFile } from './db.js';
import { CliError } from './errors.js';

/** Newest Scheduler schema this reader knows (`vigil_schema`, component 'scheduler'). */
const KNOWN_SCHEMA = 1;

/** One run as the CLI shows it; JSON columns parsed (or kept as text if they do not parse). */
export interface RunView {
  id: string;
  workflow: string;
  kind: string;
  status: string;
  step: string;
  seq: number;
  attempt: number;
  nextAt: number | null;
  alarmId: number | null;
  context: unknown;
  input: unknown;
  waiting: unknown;
  result: unknown;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
}

/** One line of a run's history. */
export interface HistoryView {
  seq: number;
  step: string;
  attempt: number;
  startedAt: number;
  endedAt: number;
  outcome: string;
  detail: string | null;
}

/** Filter and page of `listRuns`, in id order. */
export interface RunQuery {
  status?: string[];
  workflow?: string;
  afterId?: string;
  limit: number;
}

const RUN_COLUMNS = `id, workflow, kind, status, step, seq, attempt, next_at AS nextAt, alarm_id AS alarmId,
  context, input, waiting, result, error, created_at AS createdAt, updated_at AS updatedAt, ended_at AS endedAt`;

/** A read-only connection to the workflow tables of an existing database file. */
export class WorkflowReader {
  readonly #db: Database.Database;

  /** Throws DB_NOT_FOUND, NO_WORKFLOWS, or STORE_* when the file is not a readable database. */
  constructor(path: string) {
    requireFile(path);
    try {
      this.#db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw storeError(err);
    }
    try {
      this.#check();
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  #check(): void {
    const tables = new Set(
      this.#query(() =>
        (
          this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
        ).map((t) => t.name),
      ),
    );
    if (!tables.has('workflow_runs') || !tables.has('workflow_history'))
      throw new CliError('NO_WORKFLOWS', 'no workflow runs table in this database');
    if (tables.has('vigil_schema')) {
      const version = this.#query(
        () =>
          (
            this.#db.prepare("SELECT version FROM vigil_schema WHERE component = 'scheduler'").get() as
              | { version: number }
              | undefined
          )?.version,
      );
      if (version !== undefined && version > KNOWN_SCHEMA) {
        throw new VigilError(
          'STORE_SCHEMA_TOO_NEW',
          `the workflow tables are at schema ${version}; this vigil reads up to ${KNOWN_SCHEMA}`,
        );
      }
    }
  }

  /** Runs matching the query, by id. */
  list(q: RunQuery): RunView[] {
    const where = ['id > ?'];
    const params: unknown[] = [q.afterId ?? ''];
    if (q.workflow !== undefined) {
      where.push('workflow = ?');
      params.push(q.workflow);
    }
    if (q.status !== undefined) {
      where.push('status IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(q.status));
    }
    params.push(q.limit);
    const sql = `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`;
    return this.#query(() => (this.#db.prepare(sql).all(...params) as RawRun[]).map(toView));
  }

  /** One run, or undefined. */
  get(id: string): RunView | undefined {
    const row = this.#query(
      () =>
        this.#db.prepare(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE id = ?`).get(id) as
          | RawRun
          | undefined,
    );
    return row && toView(row);
  }

  /** The history of a run, oldest first. */
  history(id: string): HistoryView[] {
    return this.#query(
      () =>
        this.#db
          .prepare(
            `SELECT seq, step, attempt, started_at AS startedAt, ended_at AS endedAt, outcome, detail
             FROM workflow_history WHERE run_id = ? ORDER BY n`,
          )
          .all(id) as HistoryView[],
    );
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #query<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeError(err);
    }
  }
}

type RawRun = Omit<RunView, 'context' | 'input' | 'waiting' | 'result'> & {
  context: string;
  input: string | null;
  waiting: string | null;
  result: string | null;
};

function toView(row: RawRun): RunView {
  return {
    ...row,
    context: parseJson(row.context),
    input: parseJson(row.input),
    waiting: parseJson(row.waiting),
    result: parseJson(row.result),
  };
}

/** Parsed JSON, or the text itself when it does not parse: an inspector shows what is there. */
function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A driver error as a typed error: STORE_CORRUPT for a file that is not a database. */
function storeError(err: unknown): VigilError {
  if (err instanceof VigilError) return err;
  const code = (err as { code?: unknown })?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')))
    return new VigilError('STORE_CORRUPT', `workflow store read failed: ${detail}`, { cause: err });
  if (typeof code === 'string' && code.startsWith('SQLITE_BUSY'))
    return new VigilError('STORE_BUSY', `workflow store read failed: ${detail}`, { cause: err });
  return new VigilError('STORE_FAILED', `workflow store read failed: ${detail}`, { cause: err });
}
