/**
 * The run row codec: a `RunRecord` as a database row (snake_case columns, JSON fields as text)
 * and back, shared by every `RunStore` that keeps runs in SQL tables (the SQLite store here, the
 * PostgreSQL one in `@vigil/postgres`), so the stores cannot drift apart in what they store.
 *
 * Invariants: `runFromRow(runToRow(run))` equals `run` for any run whose JSON fields are JSON;
 * a row without `version` (written before versions) reads as version 1; an `undefined` or `null`
 * JSON field is stored as NULL, except `result`, whose null is the JSON text 'null'.
 */
import type { RunRecord, RunStatus } from './types.js';

/**
 * A run as a row of a run table, for `RunStore` implementers: the columns (snake_case) of the
 * run table, with `context`, `input`, `waiting`, `snapshot`, `timers` and `result` as JSON text.
 */
export interface RunRow {
  id: string;
  workflow: string;
  kind: 'steps' | 'machine';
  /** Absent in a table written before versions (read as version 1); always set by `runToRow`. */
  version?: number;
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

/** The columns of a run row, in table order, for `RunStore` implementers building statements. */
export const RUN_COLUMNS: readonly (keyof RunRow)[] = Object.freeze([
  'id',
  'workflow',
  'kind',
  'version',
  'status',
  'step',
  'seq',
  'attempt',
  'next_at',
  'alarm_id',
  'context',
  'input',
  'waiting',
  'snapshot',
  'timers',
  'result',
  'error',
  'created_at',
  'updated_at',
  'ended_at',
]);

/**
 * The row that stores `run`, for `RunStore` implementers.
 *
 * @example
 * db.prepare('INSERT INTO runs (id, ...) VALUES (@id, ...)').run(runToRow(run));
 */
export function runToRow(run: RunRecord): RunRow {
  const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
  return {
    id: run.id,
    workflow: run.workflow,
    kind: run.kind,
    version: run.version ?? 1,
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
    // A null result is stored as the text 'null' (as before this codec): NULL means none given.
    result: run.result === undefined ? null : JSON.stringify(run.result),
    error: run.error,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    ended_at: run.endedAt,
  };
}

/**
 * The run a row stores (JSON fields parsed), for `RunStore` implementers.
 *
 * @example
 * const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(id);
 * return row ? runFromRow(row) : undefined;
 */
export function runFromRow(row: RunRow): RunRecord {
  const json = (text: string | null) => (text === null ? null : JSON.parse(text));
  return {
    id: row.id,
    workflow: row.workflow,
    kind: row.kind,
    version: row.version ?? 1,
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
