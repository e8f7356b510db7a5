/**
 * The run store interface. It is owned by the workflow package and kept narrow so that a second
 * backend (PostgreSQL, several nodes sharing one table) can be added without touching the
 * Scheduler. Every method returns a promise even though the SQLite backend is synchronous
 * underneath.
 *
 * The run row is the source of truth for what happens next (`step`, `seq`, `nextAt`): it is
 * written before the alarm that will deliver that step is set, so a crash between the two is
 * repaired at start by setting the alarm again under its idempotency key.
 */

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
  /**
   * Version of the workflow definition the run runs (see `WorkflowDefinition.version`). Optional
   * so that a store written before versions reads as version 1; the Scheduler always sets it.
   */
  version?: number;
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

/**
 * Where workflow runs are kept. Implementations: `openSqliteRunStore` (one process writes the
 * file) and, for several nodes sharing one database, `postgresRunStore` of `@vigil/postgres`.
 */
export interface RunStore {
  /** One run, or undefined. */
  get(id: string): Promise<RunRecord | undefined>;
  /** The history of a run, oldest first. */
  history(id: string): Promise<HistoryEntry[]>;
  /** Runs matching `filter`, by id. */
  list(filter?: RunFilter): Promise<RunRecord[]>;
  /** Every run still in progress (running or waiting), by id. */
  active(): Promise<RunRecord[]>;
  /** Inserts a new run; resolves false (changing nothing) when the id is taken. */
  insert(run: RunRecord): Promise<boolean>;
  /**
   * Writes the run and appends `entries` to its history in one transaction: the outcome of a
   * step and the next step it chose are committed together, or not at all.
   */
  save(run: RunRecord, entries?: readonly HistoryEntry[]): Promise<void>;
  /** Records the id of the alarm set for the run's current seq (for cancel); a no-op if seq moved. */
  setAlarmId(id: string, seq: number, alarmId: number): Promise<void>;
  /**
   * Runs `work` with exclusive access to the run `runId`: no other `withRun` on the same id, in
   * this process or in any other sharing the store, runs until `work` has settled. Work on
   * different ids runs concurrently. Calls on one id run in call order within a process.
   *
   * This is where per-run exclusion lives, so that it can follow the backend: the SQLite store,
   * whose file has one writing process, uses an in-process keyed mutex; the PostgreSQL store holds
   * a row lock in the database, on a connection of its own, for the duration of `work`.
   * `work` may be long (a step calling an API) and writes through this same store: its writes
   * must commit at once, never wait for the lock `withRun` holds, nor for the end of `work`.
   */
  withRun<T>(runId: string, work: () => Promise<T>): Promise<T>;
  /** Closes the store; idempotent. Pending `withRun` work is not waited for. */
  close(): Promise<void>;
}
