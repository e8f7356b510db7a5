/**
 * The Scheduler actor: runs workflow steps when their alarms are delivered, and answers the
 * WorkflowClient (start, get, list, cancel, signal).
 *
 * It is a `fromCallback` actor, not a statechart, for the same reason as the Alarm: its state is
 * the set of runs in SQLite, unbounded in number; what it holds in memory is per-run locks, the
 * steps executing now, and the live actors of machine workflows.
 *
 * Invariants (delivery of alarms is at least once):
 * - a step delivery `{ runId, seq }` runs the step only if `seq` is the run's current seq; any
 *   other delivery (a duplicate after a crash, a timeout made stale by a signal) is acknowledged
 *   without running anything;
 * - the outcome of a step and the next step it chose (`step`, `seq + 1`, `next_at`) are committed
 *   in one transaction BEFORE the alarm for the next step is set, under the idempotency key
 *   `run:<id>:<seq>`; at start, every active run has that alarm set again, which is harmless when
 *   it exists and repairs a crash between the commit and the set;
 * - the alarm delivery is answered only after the outcome is committed (and the next alarm set),
 *   so a crash during a step leaves the delivery unanswered and the Alarm delivers it again;
 * - deliveries and signals of one run are serialised by a per-run lock, so a duplicate delivery
 *   that arrives while the first still runs waits, then finds the seq moved on.
 */
import {
  type Alarm,
  AlarmClient,
  checkZone,
  encodeMessage,
  parseDuration,
  parseWhen,
  retryDelay,
} from '@vigil/alarm';
import {
  type ChildSpec,
  type Clock,
  coerceError,
  Exit,
  exit,
  type Runtime,
  reply,
  replyError,
  VigilError,
  type WorkerSpec,
  worker,
} from '@vigil/runtime';
import { type AnyActorRef, fromCallback } from 'xstate';
import './events.js';
import { MachineRunner } from './durable-machine.js';
import { type HistoryEntry, type RunFilter, type RunRecord, RunStore } from './run-store.js';
import {
  checkOutcome,
  type RunInfo,
  type StepOutcome,
  type StepWorkflow,
  type Timing,
  type Workflow,
  type WorkflowContext,
} from './workflow.js';

/** Options of `schedulerWorker`. */
export interface SchedulerOptions {
  /** SQLite database path: use the alarm service's file, so runs and alarms live together. */
  db: string;
  /** Every workflow that runs may belong to. A run of a workflow missing here fails with a reason. */
  workflows: Workflow[];
  /** Registered name of the Scheduler (default 'Scheduler'); its alarms target this name. */
  name?: string;
  /** Registered name of the Alarm actor (default 'Alarm'). */
  alarmName?: string;
  /** IANA zone for `at: 'tomorrow at 9am'` (default 'UTC'); checked when the spec is built. */
  zone?: string;
  /** Delivery attempts of a step alarm (default 1000: ride out a long outage of the Scheduler). */
  alarmMaxAttempts?: number;
}

/** A run as the client sees it: the stored run with its history. */
export interface WorkflowRun {
  id: string;
  workflow: string;
  kind: 'steps' | 'machine';
  status: RunRecord['status'];
  /** The step to run next (or running now); for a machine, its state value as JSON. */
  step: string;
  seq: number;
  attempt: number;
  /** When the next step runs (null when waiting without deadline, or ended). */
  nextAt: number | null;
  context: Record<string, unknown>;
  /** What a waiting run waits for. */
  waiting: RunRecord['waiting'];
  result: unknown;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
  history: HistoryEntry[];
}

/** Requests understood by the Scheduler (what `WorkflowClient` sends). */
export type SchedulerRequest =
  | { type: 'workflow.start'; workflow: string; context?: unknown; runId?: string; at?: unknown }
  | { type: 'workflow.get'; runId: string }
  | { type: 'workflow.list'; filter?: RunFilter }
  | { type: 'workflow.cancel'; runId: string; reason?: string }
  | { type: 'workflow.signal'; runId: string; name: string; payload?: Record<string, unknown> };

/** An error the Alarm may retry: the Scheduler could not record the outcome now. */
class RetryLater extends VigilError {
  readonly retryable = true;
  constructor(message: string, cause?: unknown) {
    super('SCHEDULER_RETRY', message, { cause });
  }
}

/** Errors of an Alarm `set` worth trying again: the Alarm is restarting or the disk is busy. */
const TRANSIENT_SET_CODES = new Set(['ACTOR_DOWN', 'CALLEE_EXITED', 'CALL_TIMEOUT', 'STORE_BUSY']);

const ACTIVE = new Set(['running', 'waiting']);

interface SchedulerInput {
  runtime: Runtime;
  name: string;
  alarmName: string;
  db: string;
  zone: string | undefined;
  alarmMaxAttempts: number;
  workflows: Map<string, Workflow>;
}

/** @internal The state of one incarnation of the Scheduler. */
export class SchedulerService {
  readonly store: RunStore;
  readonly clock: Clock;
  readonly runtime: Runtime;
  readonly machines: MachineRunner;
  private readonly alarms: AlarmClient;
  private readonly zone: string;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Aborts the step executing in a run (cancel, or the Scheduler stopping). */
  private readonly executing = new Map<string, AbortController>();
  private closed = false;

  constructor(
    private readonly input: SchedulerInput,
    private readonly self: AnyActorRef,
  ) {
    this.runtime = input.runtime;
    this.clock = input.runtime.clock;
    this.zone = input.zone ?? 'UTC';
    this.alarms = new AlarmClient(input.runtime, { name: input.alarmName });
    // Opening is synchronous: a database that cannot be opened fails the actor's start.
    this.store = new RunStore(input.db);
    this.machines = new MachineRunner(this);
    this.recover();
  }

  get name(): string {
    return this.input.name;
  }

  handle(event: { type: string } & Record<string, unknown>): void {
    if (this.closed) return;
    const answer = (work: () => unknown) => {
      Promise.resolve()
        .then(work)
        .then(
          (value) => reply(event, value),
          (err) => replyError(event, coerceError(err)),
        );
    };
    switch (event.type) {
      case 'workflow.step':
        answer(() => this.locked(asString(event.runId, 'runId'), () => this.deliverStep(event)));
        return;
      case 'workflow.delay':
        answer(() => this.locked(asString(event.runId, 'runId'), () => this.deliverDelay(event)));
        return;
      case 'workflow.start':
        answer(() => this.start(event as SchedulerRequest & { type: 'workflow.start' }));
        return;
      case 'workflow.get':
        answer(() => this.view(asString(event.runId, 'runId')));
        return;
      case 'workflow.list':
        answer(() => this.store.list((event.filter ?? {}) as RunFilter).map((r) => this.toView(r, false)));
        return;
      case 'workflow.cancel':
        answer(() => this.cancel(asString(event.runId, 'runId'), event.reason));
        return;
      case 'workflow.signal':
        answer(() =>
          this.locked(asString(event.runId, 'runId'), () =>
            this.signal(asString(event.runId, 'runId'), asString(event.name, 'name'), event.payload),
          ),
        );
        return;
      default:
        replyError(event, new VigilError('UNKNOWN_REQUEST', `the Scheduler does not handle '${event.type}'`));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.executing.values()) controller.abort(new Error('the Scheduler stopped'));
    this.machines.closeAll();
    this.store.close();
  }

  // -------------------------------------------------------------------------------------------
  // Start: repair what a crash may have left behind.

  private recover(): void {
    // During the runtime's own start, calls are refused (the Alarm cannot be asked to set
    // anything yet). Wait for the start to finish by yielding to the event loop: this is not a
    // delay measured in time, so it does not go through the clock.
    const started = (async () => {
      while (this.runtime.state === 'starting' || this.runtime.state === 'idle')
        await new Promise<void>((resolve) => setImmediate(resolve));
    })();
    for (const run of this.store.active()) {
      void this.locked(run.id, async () => {
        await started;
        if (this.closed) return;
        const current = this.store.get(run.id);
        if (!current || !ACTIVE.has(current.status)) return;
        const workflow = this.input.workflows.get(current.workflow);
        if (!workflow || workflow.kind !== current.kind) {
          this.finish(current, 'failed', null, `workflow '${current.workflow}' is not registered`, true);
          return;
        }
        if (workflow.kind === 'machine') await this.machines.restore(current, workflow);
        else await this.arm(current);
      }).catch((err) => {
        // The Alarm refused the set (not a passing failure): report it on the run rather than
        // crash-loop the Scheduler over one run.
        const current = this.closed ? undefined : this.store.get(run.id);
        if (current && ACTIVE.has(current.status))
          this.finish(current, 'failed', null, `cannot schedule the run: ${coerceError(err).message}`, true);
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Requests.

  private async start(request: {
    workflow: unknown;
    context?: unknown;
    runId?: unknown;
    at?: unknown;
  }): Promise<WorkflowRun> {
    const name = asString(request.workflow, 'workflow');
    const workflow = this.input.workflows.get(name);
    if (!workflow) {
      throw new VigilError(
        'UNKNOWN_WORKFLOW',
        `no workflow named '${name}' is registered (known: ${[...this.input.workflows.keys()].join(', ')})`,
      );
    }
    const context = (request.context ?? {}) as Record<string, unknown>;
    // Refuse what JSON would silently change (undefined, Dates, NaN...): the context is stored.
    encodeMessage(context);
    if (typeof context !== 'object' || Array.isArray(context))
      throw new VigilError('INVALID_CONTEXT', 'the context of a run must be a JSON object');
    const runId = request.runId === undefined ? crypto.randomUUID() : asString(request.runId, 'runId');
    const now = this.clock.now();
    const at = request.at === undefined ? now : parseWhen(request.at as string, { now, zone: this.zone }).at;
    return this.locked(runId, async () => {
      const existing = this.store.get(runId);
      if (existing) {
        // Starting twice with the same id is how a caller retries safely; a different workflow
        // under the same id is a mistake to report.
        if (existing.workflow !== name) {
          throw new VigilError('RUN_EXISTS', `run '${runId}' exists and belongs to '${existing.workflow}'`);
        }
        return this.toView(existing, true);
      }
      const run: RunRecord = {
        id: runId,
        workflow: name,
        kind: workflow.kind,
        status: 'running',
        step: workflow.kind === 'steps' ? workflow.start : '',
        seq: 1,
        attempt: 1,
        nextAt: workflow.kind === 'steps' ? at : null,
        alarmId: null,
        context,
        input: null,
        waiting: null,
        snapshot: null,
        timers: null,
        result: null,
        error: null,
        createdAt: now,
        updatedAt: now,
        endedAt: null,
      };
      if (workflow.kind === 'machine') {
        this.store.insert(run);
        this.emit('workflow.started', { runId, workflow: name, at: now });
        await this.machines.begin(run, workflow);
      } else {
        this.store.insert(run);
        this.emit('workflow.started', { runId, workflow: name, at: now });
        await this.arm(run);
      }
      return this.toView(this.store.get(runId) ?? run, true);
    });
  }

  private view(runId: string): WorkflowRun | null {
    const run = this.store.get(runId);
    return run ? this.toView(run, true) : null;
  }

  /**
   * Cancels without taking the run's lock, so a cancel is not stuck behind a long step: the
   * status is committed now, the executing step is aborted, and a step that still finishes finds
   * the run cancelled and drops its outcome.
   */
  private cancel(runId: string, reason: unknown): WorkflowRun | null {
    const run = this.store.get(runId);
    if (!run) return null;
    if (ACTIVE.has(run.status)) {
      this.finish(run, 'cancelled', null, typeof reason === 'string' ? reason : null, true);
      this.executing.get(runId)?.abort(new Error('the run was cancelled'));
    }
    return this.view(runId);
  }

  private async signal(runId: string, name: string, payload: unknown): Promise<WorkflowRun> {
    const run = this.store.get(runId);
    if (!run) throw new VigilError('UNKNOWN_RUN', `no run '${runId}'`);
    if (!ACTIVE.has(run.status)) throw new VigilError('RUN_ENDED', `run '${runId}' is ${run.status}`);
    if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload)))
      throw new VigilError('INVALID_SIGNAL', 'a signal payload must be a JSON object');
    encodeMessage(payload ?? {});
    const event = { ...(payload as Record<string, unknown> | undefined), type: name };
    const workflow = this.input.workflows.get(run.workflow);
    if (!workflow || workflow.kind !== run.kind) {
      this.finish(run, 'failed', null, `workflow '${run.workflow}' is not registered`, true);
      throw new VigilError('UNKNOWN_WORKFLOW', `workflow '${run.workflow}' is not registered`);
    }
    if (workflow.kind === 'machine') {
      await this.machines.send(run, workflow, event);
      return this.toView(this.store.get(runId) ?? run, true);
    }
    if (run.status !== 'waiting' || run.waiting?.signal !== name) {
      throw new VigilError(
        'SIGNAL_NOT_AWAITED',
        `run '${runId}' is not waiting for '${name}'${run.waiting ? ` (it waits for '${run.waiting.signal}')` : ''}`,
      );
    }
    const now = this.clock.now();
    const staleAlarm = run.alarmId;
    const resumed: RunRecord = {
      ...run,
      status: 'running',
      step: run.waiting.onSignal,
      seq: run.seq + 1,
      attempt: 1,
      nextAt: now,
      alarmId: null,
      input: event,
      waiting: null,
      updatedAt: now,
    };
    this.store.save(resumed, [
      {
        seq: run.seq,
        step: name,
        attempt: 1,
        startedAt: now,
        endedAt: now,
        outcome: 'signal',
        detail: resumed.step,
      },
    ]);
    this.stepped(resumed, name, 'signal');
    // The timeout alarm is stale now (its seq is behind); cancelling it is only tidiness.
    if (staleAlarm !== null) this.cancelAlarm(staleAlarm);
    await this.arm(resumed);
    return this.toView(this.store.get(runId) ?? resumed, true);
  }

  // -------------------------------------------------------------------------------------------
  // Deliveries.

  private async deliverStep(event: Record<string, unknown>): Promise<true> {
    const run = this.store.get(asString(event.runId, 'runId'));
    // Unknown, ended, or a seq that already ran (or was superseded): acknowledge, run nothing.
    if (!run || !ACTIVE.has(run.status) || run.seq !== event.seq || run.kind !== 'steps') return true;
    const workflow = this.input.workflows.get(run.workflow);
    if (workflow?.kind !== 'steps') {
      this.finish(run, 'failed', null, `workflow '${run.workflow}' is not registered`, false);
      return true;
    }
    const step = workflow.steps[run.step];
    if (!step) {
      this.finish(
        run,
        'failed',
        null,
        `step '${run.step}' is not in workflow '${run.workflow}' any more`,
        false,
      );
      return true;
    }
    const entries: HistoryEntry[] = [];
    const startedAt = this.clock.now();
    if (run.status === 'waiting') {
      entries.push({
        seq: run.seq,
        step: run.waiting?.signal ?? run.step,
        attempt: 1,
        startedAt,
        endedAt: startedAt,
        outcome: 'timeout',
        detail: run.step,
      });
    }
    const alarmInfo = event.alarm as { scheduledFor?: number } | undefined;
    const info: RunInfo = {
      id: run.id,
      workflow: run.workflow,
      step: run.step,
      seq: run.seq,
      attempt: run.attempt,
      scheduledFor: alarmInfo?.scheduledFor ?? run.nextAt ?? startedAt,
    };
    const controller = new AbortController();
    this.executing.set(run.id, controller);
    let outcome: unknown;
    let thrown: Error | undefined;
    try {
      outcome = await step({
        context: structuredClone(run.context),
        run: info,
        event: run.input ? ({ ...run.input } as { type: string }) : undefined,
        signal: controller.signal,
        runtime: this.runtime,
      });
    } catch (err) {
      thrown = coerceError(err);
    } finally {
      this.executing.delete(run.id);
    }
    // The Scheduler stopped while the step ran: record nothing; the unanswered delivery is
    // delivered again to the next incarnation (the step runs again: at least once).
    if (this.closed) throw new RetryLater('the Scheduler stopped during the step');
    const current = this.store.get(run.id);
    if (!current || !ACTIVE.has(current.status) || current.seq !== run.seq) return true; // cancelled meanwhile
    const next = this.decide(
      workflow,
      { ...current, status: 'running' },
      outcome,
      thrown,
      startedAt,
      entries,
    );
    this.store.save(next, entries);
    for (const e of entries)
      if (e.outcome !== 'timeout') this.stepped(next, e.step, e.outcome, e.attempt, e.seq);
    if (ACTIVE.has(next.status)) await this.arm(next);
    else this.ended(next);
    return true;
  }

  private async deliverDelay(event: Record<string, unknown>): Promise<true> {
    const run = this.store.get(asString(event.runId, 'runId'));
    if (!run || !ACTIVE.has(run.status) || run.kind !== 'machine') return true;
    const workflow = this.input.workflows.get(run.workflow);
    if (workflow?.kind !== 'machine') {
      this.finish(run, 'failed', null, `workflow '${run.workflow}' is not registered`, false);
      return true;
    }
    await this.machines.fire(run, workflow, asString(event.delay, 'delay'), event.n);
    return true;
  }

  /** Turns a step's outcome (or thrown error) into the run's next state and history lines. */
  private decide(
    workflow: StepWorkflow,
    run: RunRecord,
    outcome: unknown,
    thrown: Error | undefined,
    startedAt: number,
    entries: HistoryEntry[],
  ): RunRecord {
    const now = this.clock.now();
    const entry = (kind: string, detail: string | null): void => {
      entries.push({
        seq: run.seq,
        step: run.step,
        attempt: run.attempt,
        startedAt,
        endedAt: now,
        outcome: kind,
        detail,
      });
    };
    const failed = (reason: string): RunRecord => {
      entry(thrown ? 'error' : 'fail', reason);
      return {
        ...run,
        status: 'failed',
        error: reason,
        nextAt: null,
        waiting: null,
        updatedAt: now,
        endedAt: now,
      };
    };
    if (thrown) {
      const { maxAttempts, backoff } = workflow.retry;
      if (run.attempt >= maxAttempts)
        return failed(`step '${run.step}' failed after ${run.attempt} attempt(s): ${thrown.message}`);
      entry('retry', thrown.message);
      return {
        ...run,
        seq: run.seq + 1,
        attempt: run.attempt + 1,
        nextAt: now + retryDelay(backoff, run.attempt),
        alarmId: null,
        updatedAt: now,
      };
    }
    const problem = checkOutcome(workflow, outcome);
    if (problem) return failed(`step '${run.step}' ${problem}`);
    const o = outcome as StepOutcome<WorkflowContext>;
    let context = run.context;
    try {
      if (o.kind !== 'fail' && o.context !== undefined) {
        encodeMessage(o.context);
        context = o.context;
      }
      const base = {
        ...run,
        context,
        seq: run.seq + 1,
        attempt: 1,
        alarmId: null,
        input: null,
        updatedAt: now,
      };
      switch (o.kind) {
        case 'next':
          entry('next', o.step);
          return { ...base, step: o.step, nextAt: this.timing(o, now) };
        case 'repeat':
          entry('repeat', run.step);
          return { ...base, nextAt: this.timing(o, now) };
        case 'wait': {
          const deadline = o.timeout === undefined ? null : now + parseDuration(o.timeout);
          entry('wait', o.signal);
          return {
            ...base,
            status: 'waiting',
            step: o.onTimeout ?? o.onSignal,
            nextAt: deadline,
            waiting: { signal: o.signal, onSignal: o.onSignal, deadline, onTimeout: o.onTimeout ?? null },
          };
        }
        case 'end':
          entry('end', o.result === undefined ? null : JSON.stringify(o.result));
          encodeMessage({ result: o.result ?? null });
          return {
            ...base,
            seq: run.seq,
            status: 'completed',
            result: o.result ?? null,
            nextAt: null,
            endedAt: now,
          };
        case 'fail':
          return failed(o.reason);
      }
    } catch (err) {
      // A bad duration or instant, or a context that is not JSON: retrying cannot fix the code.
      entries.length = 0;
      return failed(`step '${run.step}' returned an invalid outcome: ${coerceError(err).message}`);
    }
  }

  private timing(t: Timing, now: number): number {
    if (t.after !== undefined) return now + parseDuration(t.after);
    // An instant already past (e.g. 'today at 9am' computed at 10am) runs the step at once.
    if (t.at !== undefined)
      return Math.max(now, parseWhen(t.at, { now, zone: this.zone, allowPast: true }).at);
    return now;
  }

  // -------------------------------------------------------------------------------------------
  // Alarms.

  /** Sets the alarm that runs the run's current seq (idempotent by key), and notes its id. */
  async arm(run: RunRecord): Promise<void> {
    if (!ACTIVE.has(run.status) || run.nextAt === null) return;
    const alarm = await this.setAlarm(`run:${run.id}:${run.seq}`, run.nextAt, {
      type: 'workflow.step',
      runId: run.id,
      step: run.step,
      seq: run.seq,
    });
    if (alarm.status === 'failed' || alarm.status === 'cancelled' || alarm.status === 'missed') {
      // The Alarm gave up on this step (e.g. the Scheduler was down past every attempt): say so
      // on the run rather than leave it running forever with nothing scheduled.
      const current = this.store.get(run.id);
      if (current && current.seq === run.seq && ACTIVE.has(current.status))
        this.finish(
          current,
          'failed',
          null,
          `the alarm for step '${run.step}' is ${alarm.status}: ${alarm.lastError ?? ''}`,
          false,
        );
      return;
    }
    this.store.setAlarmId(run.id, run.seq, alarm.id);
  }

  /**
   * Sets an alarm targeted at the Scheduler, trying again while the Alarm is restarting: the run
   * row already says what must happen, so giving up here would strand the run until a restart.
   */
  async setAlarm(key: string, at: number, message: Record<string, unknown>): Promise<Alarm> {
    for (let attempt = 1; ; attempt++) {
      try {
        // Set as a delay, not an epoch: read against the Alarm's reference instant (never
        // earlier than this read), it is never refused as past, as an epoch read from this clock
        // a moment earlier could be (a run recovered after downtime, "run the next step now"),
        // and never fires before `at`.
        const when = { in: Math.max(0, at - this.clock.now()) };
        return await this.alarms.set(when, this.input.name, message, {
          key,
          maxAttempts: this.input.alarmMaxAttempts,
        });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (this.closed || typeof code !== 'string' || !TRANSIENT_SET_CODES.has(code)) throw err;
        await new Promise<void>((resolve) =>
          this.clock.setTimeout(() => resolve(), Math.min(30_000, 100 * 2 ** attempt)),
        );
      }
    }
  }

  /** Best-effort cancel: a stale alarm that still fires is acknowledged without effect. */
  cancelAlarm(id: number): void {
    this.alarms.cancel(id).catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Ends and events.

  /** Commits an end status; `cancelAlarm` is false when the alarm is the delivery being handled. */
  finish(
    run: RunRecord,
    status: 'completed' | 'failed' | 'cancelled',
    result: unknown,
    error: string | null,
    cancelAlarm: boolean,
  ): void {
    const now = this.clock.now();
    const ended: RunRecord = {
      ...run,
      status,
      result,
      error,
      nextAt: null,
      waiting: null,
      updatedAt: now,
      endedAt: now,
    };
    this.store.save(ended, [
      {
        seq: run.seq,
        step: run.step,
        attempt: run.attempt,
        startedAt: now,
        endedAt: now,
        outcome: status,
        detail: error,
      },
    ]);
    if (cancelAlarm && run.alarmId !== null) this.cancelAlarm(run.alarmId);
    // A machine's other delays will never matter again: cancel their alarms too.
    if (run.kind === 'machine') this.machines.drop(run.id, true);
    this.ended(ended);
  }

  ended(run: RunRecord): void {
    this.emit('workflow.ended', {
      runId: run.id,
      workflow: run.workflow,
      status: run.status as 'completed' | 'failed' | 'cancelled',
      error: run.error,
      at: this.clock.now(),
    });
  }

  stepped(run: RunRecord, step: string, outcome: string, attempt = 1, seq = run.seq): void {
    this.emit('workflow.stepped', {
      runId: run.id,
      workflow: run.workflow,
      step,
      seq,
      attempt,
      outcome,
      at: this.clock.now(),
    });
  }

  private emit<K extends 'workflow.started' | 'workflow.stepped' | 'workflow.ended'>(
    name: K,
    payload: import('@vigil/runtime').VigilEvents[K],
  ): void {
    if (this.runtime.events.has(name)) this.runtime.events.emit(name, payload);
  }

  toView(run: RunRecord, withHistory: boolean): WorkflowRun {
    return {
      id: run.id,
      workflow: run.workflow,
      kind: run.kind,
      status: run.status,
      step: run.step,
      seq: run.seq,
      attempt: run.attempt,
      nextAt: run.nextAt,
      context: run.context,
      waiting: run.waiting,
      result: run.result,
      error: run.error,
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
      endedAt: run.endedAt,
      history: withHistory ? this.store.history(run.id) : [],
    };
  }

  /** Runs `work` after every earlier piece of work on the same run has finished. */
  locked<T>(runId: string, work: () => T | Promise<T>): Promise<T> {
    const previous = this.locks.get(runId) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(runId, tail);
    void tail.then(() => {
      if (this.locks.get(runId) === tail) this.locks.delete(runId);
    });
    return result;
  }

  /** An internal failure (the database) the Scheduler cannot answer: let the supervisor restart it. */
  crash(err: unknown): void {
    if (this.closed) return;
    exit(this.self, Exit.error(coerceError(err)));
  }
}

/** The Scheduler actor's logic. */
const schedulerLogic = fromCallback<{ type: string } & Record<string, unknown>, SchedulerInput>(
  ({ input, receive, self }) => {
    const service = new SchedulerService(input, self);
    receive((event) => service.handle(event));
    return () => service.close();
  },
);

/**
 * The Scheduler as a child spec. Start it after the alarm service, on the same database file.
 *
 * @example
 * await runtime.start([
 *   alarmSupervisor({ db: 'vigil.db' }),
 *   schedulerWorker({ db: 'vigil.db', workflows: [followUp] }),
 * ]);
 */
export function schedulerWorker(options: SchedulerOptions): WorkerSpec {
  const o = options as Partial<SchedulerOptions>;
  if (typeof o.db !== 'string' || o.db.length === 0)
    throw new VigilError('INVALID_OPTION', 'schedulerWorker: db must be a database path');
  if (!Array.isArray(o.workflows))
    throw new VigilError('INVALID_OPTION', 'schedulerWorker: workflows must be an array');
  if (o.zone !== undefined) checkZone(o.zone);
  const workflows = new Map<string, Workflow>();
  for (const w of o.workflows) {
    if (typeof w !== 'object' || w === null || (w.kind !== 'steps' && w.kind !== 'machine'))
      throw new VigilError(
        'INVALID_OPTION',
        'schedulerWorker: workflows must come from defineWorkflow or defineMachineWorkflow',
      );
    if (workflows.has(w.name))
      throw new VigilError('INVALID_OPTION', `schedulerWorker: workflow '${w.name}' is registered twice`);
    workflows.set(w.name, w);
  }
  const name = o.name ?? 'Scheduler';
  const alarmMaxAttempts = o.alarmMaxAttempts ?? 1000;
  const spec: ChildSpec = worker(name, schedulerLogic, {
    input: ({ runtime }: { runtime: Runtime }) => ({
      runtime,
      name,
      alarmName: o.alarmName ?? 'Alarm',
      db: o.db as string,
      zone: o.zone,
      alarmMaxAttempts,
      workflows,
    }),
  });
  return spec as WorkerSpec;
}

function asString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200)
    throw new VigilError('INVALID_REQUEST', `'${field}' must be a string of 1 to 200 characters`);
  return value;
}
