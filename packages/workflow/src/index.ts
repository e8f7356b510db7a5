/**
 * `@vigil/workflow`: the Scheduler, a target actor that runs durable workflows (steps chained by
 * alarms) and durable XState machines (their `after` delays become alarms); `WorkflowClient` to
 * start, signal and read runs; the `RunStore` interface and its SQLite implementation (the
 * PostgreSQL one is in `@vigil/postgres`).
 */
import './events.js';

export type { StartOptions, WorkflowClientOptions } from './client.js';
export { WorkflowClient } from './client.js';
export type { MachineWorkflowDefinition } from './durable-machine.js';
export { defineMachineWorkflow } from './durable-machine.js';
export {
  InvalidContextError,
  InvalidRequestError,
  InvalidSchedulerOptionError,
  InvalidSignalError,
  InvalidWorkflowError,
  NoWorkflowTablesError,
  RunEndedError,
  RunExistsError,
  RunSchemaTooNewError,
  SchedulerRetryError,
  SignalNotAwaitedError,
  UnknownRequestError,
  UnknownRunError,
  UnknownWorkflowError,
} from './errors.js';
export { KeyedMutex } from './keyed-mutex.js';
export type { SchedulerOptions, SchedulerRequest } from './scheduler.js';
export { schedulerWorker } from './scheduler.js';
export type { RunRow } from './store/codec.js';
export { RUN_COLUMNS, runFromRow, runToRow } from './store/codec.js';
export { RUN_SCHEMA_VERSION } from './store/migrations.js';
export type { SqliteRunStoreOptions } from './store/sqlite.js';
export { openSqliteRunStore } from './store/sqlite.js';
export type {
  HistoryEntry,
  MachineTimers,
  RunFilter,
  RunRecord,
  RunStatus,
  RunStore,
  Waiting,
} from './store/types.js';
export { RUN_STATUSES } from './store/types.js';
export type { WorkflowRun } from './view.js';
export type {
  EndOutcome,
  FailOutcome,
  MachineWorkflow,
  NextOutcome,
  RepeatOutcome,
  RetryPolicy,
  RunInfo,
  RunPosition,
  SignalEvent,
  Step,
  StepArgs,
  StepMigration,
  StepOutcome,
  StepWorkflow,
  Timing,
  WaitOutcome,
  Workflow,
  WorkflowContext,
  WorkflowDefinition,
} from './workflow.js';
export { defineWorkflow, end, fail, next, repeat, waitFor } from './workflow.js';
