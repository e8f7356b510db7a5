/**
 * Every error the workflow package raises. Each is a `VigilError` with a stable `code` (the codes
 * are the ones the Scheduler always used: callers that match on `code` see no change); the
 * message is built from the structured fields each class keeps.
 */
import { VigilError } from '@vigil/runtime';

// --- Definitions and options ------------------------------------------------------------------

/** A workflow definition (`defineWorkflow`, `defineMachineWorkflow`) that cannot run. */
export class InvalidWorkflowError extends VigilError {
  constructor(
    readonly workflow: string,
    readonly detail: string,
  ) {
    super('INVALID_WORKFLOW', `workflow '${workflow}': ${detail}`);
  }
}

/** An option of `schedulerWorker` that is missing or of the wrong type. */
export class InvalidSchedulerOptionError extends VigilError {
  constructor(
    readonly detail: string,
    /** The option at fault ('db', 'workflows'...), when one is. */
    readonly field?: string,
  ) {
    super('INVALID_OPTION', `schedulerWorker: ${detail}`);
  }
}

// --- Requests ---------------------------------------------------------------------------------

/** A message to the Scheduler whose `type` it does not handle. */
export class UnknownRequestError extends VigilError {
  constructor(readonly type: string) {
    super('UNKNOWN_REQUEST', `the Scheduler does not handle '${type}'`);
  }
}

/** A request field (run id, workflow name, signal name) that is not a string of 1 to 200 characters. */
export class InvalidRequestError extends VigilError {
  constructor(
    readonly field: string,
    detail = 'must be a string of 1 to 200 characters',
  ) {
    super('INVALID_REQUEST', `'${field}' ${detail}`);
  }
}

/** A workflow name no `schedulerWorker` registered. */
export class UnknownWorkflowError extends VigilError {
  constructor(
    readonly workflow: string,
    /** The registered names, when the error answers a `start`. */
    readonly known?: readonly string[],
  ) {
    super(
      'UNKNOWN_WORKFLOW',
      known
        ? `no workflow named '${workflow}' is registered (known: ${known.join(', ')})`
        : `workflow '${workflow}' is not registered`,
    );
  }
}

/** A run context that is not a JSON object. */
export class InvalidContextError extends VigilError {
  constructor() {
    super('INVALID_CONTEXT', 'the context of a run must be a JSON object');
  }
}

/** `start` with a run id that another workflow's run already has. */
export class RunExistsError extends VigilError {
  constructor(
    readonly runId: string,
    readonly workflow: string,
  ) {
    super('RUN_EXISTS', `run '${runId}' exists and belongs to '${workflow}'`);
  }
}

/** A signal to a run id that does not exist. */
export class UnknownRunError extends VigilError {
  constructor(readonly runId: string) {
    super('UNKNOWN_RUN', `no run '${runId}'`);
  }
}

/** A signal to a run that has completed, failed or been cancelled. */
export class RunEndedError extends VigilError {
  constructor(
    readonly runId: string,
    readonly status: string,
  ) {
    super('RUN_ENDED', `run '${runId}' is ${status}`);
  }
}

/** A signal payload that is not a JSON object. */
export class InvalidSignalError extends VigilError {
  constructor() {
    super('INVALID_SIGNAL', 'a signal payload must be a JSON object');
  }
}

/** A signal to a step run that is not waiting for it. */
export class SignalNotAwaitedError extends VigilError {
  constructor(
    readonly runId: string,
    readonly signal: string,
    /** The signal the run waits for, if it waits. */
    readonly awaited: string | null,
  ) {
    super(
      'SIGNAL_NOT_AWAITED',
      `run '${runId}' is not waiting for '${signal}'${awaited === null ? '' : ` (it waits for '${awaited}')`}`,
    );
  }
}

/**
 * The Scheduler could not record a step's outcome now (it stopped during the step): the Alarm
 * retries the delivery. `retryable` is what the Alarm reads.
 */
export class SchedulerRetryError extends VigilError {
  readonly retryable = true;
  constructor(message: string, cause?: unknown) {
    super('SCHEDULER_RETRY', message, { cause });
  }
}

// --- Run store --------------------------------------------------------------------------------

/** The database holds workflow tables written by a newer Vigil. */
export class RunSchemaTooNewError extends VigilError {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      'STORE_SCHEMA_TOO_NEW',
      `the workflow tables are at schema ${found}, newer than this Vigil (${supported})`,
    );
  }
}

/** A read-only open of a database that has no workflow tables. */
export class NoWorkflowTablesError extends VigilError {
  constructor() {
    super('NO_WORKFLOW_TABLES', 'no workflow runs table in this database');
  }
}
