/**
 * The typed front of the Scheduler actor. Every method is a `call` to its mailbox, so it works
 * from anywhere in the process (a step of another workflow included) and survives restarts of
 * the Scheduler: names, not references.
 */
import type { Runtime } from '@vigil/runtime';
import type { RunFilter } from './store/types.js';
import type { WorkflowRun } from './view.js';
import type { Workflow, WorkflowContext } from './workflow.js';

/** Options of `WorkflowClient`. */
export interface WorkflowClientOptions {
  /** Name the Scheduler is registered under (default 'Scheduler'). */
  name?: string;
  /** Call timeout in ms (default 30 s). */
  timeoutMs?: number;
}

/** Options of `start`. */
export interface StartOptions {
  /** The run's id (default: a random UUID). Starting the same id again returns the existing run. */
  runId?: string;
  /** When the first step runs (default now): Date, epoch ms, ISO-8601, '90s', 'tomorrow at 9am'. */
  at?: Date | number | string | { in: string | number };
}

/**
 * Starts, inspects, cancels and signals workflow runs.
 *
 * @example
 * const workflows = new WorkflowClient(runtime);
 * const run = await workflows.start(followUp, { contact: 'ada@example.com' });
 * await workflows.signal(run.id, 'reply', { text: 'Thanks!' });
 * console.log((await workflows.get(run.id))?.status);
 */
export class WorkflowClient {
  private readonly name: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly runtime: Runtime,
    options: WorkflowClientOptions = {},
  ) {
    this.name = options.name ?? 'Scheduler';
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Starts a run of `workflow` (a definition or its registered name) with `context` (the
   * machine's input for a machine workflow). Resolves once the run is committed and its first
   * step is scheduled.
   */
  start<C extends WorkflowContext>(
    workflow: Workflow | string,
    context: C = {} as C,
    options: StartOptions = {},
  ): Promise<WorkflowRun> {
    // Untyped callers may pass anything: read defensively and let the Scheduler refuse it with a
    // typed error, instead of throwing a TypeError here.
    const name = typeof workflow === 'string' ? workflow : (workflow as { name?: unknown } | null)?.name;
    const opts = (options ?? {}) as StartOptions;
    return this.request({
      type: 'workflow.start',
      workflow: name,
      context,
      runId: opts.runId,
      at: opts.at,
    });
  }

  /** A run with its history, or null. */
  get(runId: string): Promise<WorkflowRun | null> {
    return this.request({ type: 'workflow.get', runId });
  }

  /** Runs by workflow and status, paged by id (`afterId`, `limit`); without their history. */
  list(filter: RunFilter = {}): Promise<WorkflowRun[]> {
    return this.request({ type: 'workflow.list', filter });
  }

  /** Cancels a run (and its pending alarm). Resolves with the run, or null if unknown. */
  cancel(runId: string, reason?: string): Promise<WorkflowRun | null> {
    return this.request({ type: 'workflow.cancel', runId, reason });
  }

  /**
   * Sends the signal `name` to a run: resumes a step run waiting for it (`waitFor(name)`), or is
   * sent to a machine run as the event `{ type: name, ...payload }`. A step run not waiting for
   * `name` rejects with `SIGNAL_NOT_AWAITED`.
   */
  signal(runId: string, name: string, payload?: Record<string, unknown>): Promise<WorkflowRun> {
    return this.request({ type: 'workflow.signal', runId, name, payload });
  }

  private request<T>(message: { type: string } & Record<string, unknown>): Promise<T> {
    return this.runtime.call<T>(this.name, message, { timeoutMs: this.timeoutMs });
  }
}
