/**
 * The Scheduler actor: runs workflow steps when their alarms are delivered, and answers the
 * WorkflowClient (start, get, list, cancel, signal).
 *
 * It is a `fromCallback` actor, not a statechart, for the same reason as the Alarm: its state is
 * the set of runs in its store, unbounded in number; what it holds in memory is the steps
 * executing now and the live actors of machine workflows.
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
 * - deliveries and signals of one run are serialised by the store's `withRun` (per-run
 *   exclusion), so a duplicate delivery that arrives while the first still runs waits, then finds
 *   the seq moved on.
 *
 * What a step's outcome means is decided by the pure `decide` (decide.ts); the alarms are set by
 * `StepAlarms` (step-alarms.ts); machine runs are driven by `MachineRunner` (durable-machine.ts)
 * through the narrow `MachineHost` this service gives it. This file routes requests, recovers
 * after a restart, executes steps and commits what they decided.
 */
import { checkZone, encodeMessage, InvalidTimeError, MAX_DURATION_MS, parseWhen } from '@vigil/alarm';
import {
  type Clock,
  coerceError,
  Exit,
  exit,
  type Runtime,
  reply,
  replyError,
  type WorkerSpec,
  worker,
} from '@vigil/runtime';
import * as v from 'valibot';
import { type AnyActorRef, fromCallback } from 'xstate';
import './events.js';
import { parseWith } from '@vigil/runtime';
import { decide } from './decide.js';
import { type MachineHost, MachineRunner } from './durable-machine.js';
import {
  InvalidContextError,
  InvalidRequestError,
  InvalidSchedulerOptionError,
  InvalidSignalError,
  RunEndedError,
  RunExistsError,
  SchedulerRetryError,
  SignalNotAwaitedError,
  UnknownRequestError,
  UnknownRunError,
  UnknownWorkflowError,
} from './errors.js';
import { StepAlarms } from './step-alarms.js';
import { openSqliteRunStore } from './store/sqlite.js';
import {
  type HistoryEntry,
  RUN_STATUSES,
  type RunFilter,
  type RunRecord,
  type RunStore,
} from './store/types.js';
import { WorkflowVersions } from './versions.js';
import { toView, type WorkflowRun } from './view.js';
import type { RunInfo, Workflow } from './workflow.js';

/** Options of `schedulerWorker`. */
export interface SchedulerOptions {
  /**
   * SQLite database path: use the alarm service's file, so runs and alarms live together.
   * Required unless `store` is given (then ignored).
   */
  db?: string;
  /**
   * Builds the run store; called at each (re)start of the Scheduler, which reads its active runs
   * back. Default: the SQLite store of `db`. Several nodes share runs with the PostgreSQL store.
   *
   * @example
   * schedulerWorker({ store: postgresRunStore({ connectionString }), workflows: [followUp] });
   */
  store?: () => RunStore;
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

/** Requests understood by the Scheduler (what `WorkflowClient` sends). */
export type SchedulerRequest =
  | { type: 'workflow.start'; workflow: string; context?: unknown; runId?: string; at?: unknown }
  | { type: 'workflow.get'; runId: string }
  | { type: 'workflow.list'; filter?: RunFilter }
  | { type: 'workflow.cancel'; runId: string; reason?: string }
  | { type: 'workflow.signal'; runId: string; name: string; payload?: Record<string, unknown> };

const ACTIVE = new Set(['running', 'waiting']);

interface SchedulerInput {
  runtime: Runtime;
  name: string;
  alarmName: string;
  store: () => RunStore;
  zone: string | undefined;
  alarmMaxAttempts: number;
  workflows: WorkflowVersions;
}

/** @internal The state of one incarnation of the Scheduler. */
export class SchedulerService {
  private readonly store: RunStore;
  private readonly clock: Clock;
  private readonly runtime: Runtime;
  private readonly machines: MachineRunner;
  private readonly alarms: StepAlarms;
  private readonly zone: string;
  /** Resolves once recovery has queued its work on every active run: requests wait behind it. */
  private readonly recovered: Promise<void>;
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
    this.alarms = new StepAlarms(input.runtime, {
      alarmName: input.alarmName,
      target: input.name,
      maxAttempts: input.alarmMaxAttempts,
      closed: () => this.closed,
    });
    // Opening is synchronous: a SQLite database that cannot be opened fails the actor's start (a
    // store that connects in the background rejects its first call instead: recover() crashes).
    this.store = input.store();
    const host: MachineHost = {
      clock: this.clock,
      exclusive: (runId, work) => this.store.withRun(runId, work),
      load: (runId) => this.store.get(runId),
      save: (run, entries) => this.store.save(run, entries),
      setAlarm: (key, at, message) => this.alarms.set(key, at, message),
      cancelAlarm: (id) => this.alarms.cancel(id),
      finish: (run, status, result, error, cancelAlarm) =>
        this.finish(run, status, result, error, cancelAlarm),
      stepped: (run, step, outcome) => this.stepped(run, step, outcome),
      crash: (err) => this.crash(err),
    };
    this.machines = new MachineRunner(host);
    this.recovered = this.recover().catch((err) => this.crash(err));
  }

  handle(event: { type: string } & Record<string, unknown>): void {
    if (this.closed) return;
    const answer = (work: () => unknown) => {
      this.recovered.then(work).then(
        (value) => reply(event, value),
        (err) => replyError(event, coerceError(err)),
      );
    };
    switch (event.type) {
      case 'workflow.step':
        answer(() => this.store.withRun(asString(event.runId, 'runId'), () => this.deliverStep(event)));
        return;
      case 'workflow.delay':
        answer(() => this.store.withRun(asString(event.runId, 'runId'), () => this.deliverDelay(event)));
        return;
      case 'workflow.start':
        answer(() => this.start(parseRequest(StartSchema, event)));
        return;
      case 'workflow.get':
        answer(() => this.get(asString(event.runId, 'runId')));
        return;
      case 'workflow.list':
        answer(async () =>
          Promise.all(
            (await this.store.list(parseRequest(RunFilterSchema, event.filter))).map((r) =>
              this.view(r, false),
            ),
          ),
        );
        return;
      case 'workflow.cancel':
        answer(() => this.cancel(asString(event.runId, 'runId'), event.reason));
        return;
      case 'workflow.signal':
        answer(() =>
          this.store.withRun(asString(event.runId, 'runId'), () =>
            this.signal(asString(event.runId, 'runId'), asString(event.name, 'name'), event.payload),
          ),
        );
        return;
      default:
        replyError(event, new UnknownRequestError(event.type));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.executing.values()) controller.abort(new Error('the Scheduler stopped'));
    this.machines.closeAll();
    void this.store.close();
  }

  // -------------------------------------------------------------------------------------------
  // Start: repair what a crash may have left behind.

  private async recover(): Promise<void> {
    // During the runtime's own start, calls are refused (the Alarm cannot be asked to set
    // anything yet): wait for the start to finish. A start that fails stops this actor too
    // (`closed` below), so a rejection needs nothing more.
    const started = this.runtime.whenRunning().catch(() => {});
    // Each run's repair is queued on its lock before any request is handled (`recovered`).
    for (const run of await this.store.active()) {
      void this.store
        .withRun(run.id, async () => {
          await started;
          if (this.closed) return;
          const current = await this.store.get(run.id);
          if (!current || !ACTIVE.has(current.status)) return;
          if (!this.input.workflows.knows(current)) {
            await this.finish(
              current,
              'failed',
              null,
              `workflow '${current.workflow}' is not registered`,
              true,
            );
            return;
          }
          // A step run is resolved to its version at its next step (deliverStep); a machine run
          // is restored now, which is its next step.
          if (current.kind === 'machine') {
            const resolved = await this.resolve(current, true);
            if (resolved?.workflow.kind === 'machine')
              await this.machines.restore(resolved.run, resolved.workflow);
          } else await this.arm(current);
        })
        .catch(async (err) => {
          // The Alarm refused the set (not a passing failure): report it on the run rather than
          // crash-loop the Scheduler over one run.
          const current = this.closed ? undefined : await this.store.get(run.id);
          if (current && ACTIVE.has(current.status))
            await this.finish(
              current,
              'failed',
              null,
              `cannot schedule the run: ${coerceError(err).message}`,
              true,
            );
        })
        .catch((err) => this.crash(err));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Requests.

  private async start(request: StartRequest): Promise<WorkflowRun> {
    const name = request.workflow;
    const workflow = this.input.workflows.latest(name);
    if (!workflow) throw new UnknownWorkflowError(name, this.input.workflows.names());
    const context = (request.context ?? {}) as Record<string, unknown>;
    // Refuse what JSON would silently change (undefined, Dates, NaN...): the context is stored.
    encodeMessage(context);
    if (typeof context !== 'object' || Array.isArray(context)) throw new InvalidContextError();
    const runId = request.runId ?? crypto.randomUUID();
    const now = this.clock.now();
    const at = request.at === undefined ? now : parseWhen(request.at as string, { now, zone: this.zone }).at;
    // The step alarm is set as a delay, and an Alarm delay is at most 100 years: refuse such an
    // instant now, before the run is stored, rather than store a run no alarm can start.
    if (at - now > MAX_DURATION_MS) throw new InvalidTimeError(request.at, 'it is more than 100 years ahead');
    return this.store.withRun(runId, async () => {
      const existing = await this.store.get(runId);
      if (existing) {
        // Starting twice with the same id is how a caller retries safely; a different workflow
        // under the same id is a mistake to report.
        if (existing.workflow !== name) throw new RunExistsError(runId, existing.workflow);
        return this.view(existing, true);
      }
      const run: RunRecord = {
        id: runId,
        workflow: name,
        kind: workflow.kind,
        version: workflow.version,
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
        await this.store.insert(run);
        this.emit('workflow.started', { runId, workflow: name, at: now });
        await this.machines.begin(run, workflow);
      } else {
        await this.store.insert(run);
        this.emit('workflow.started', { runId, workflow: name, at: now });
        await this.arm(run);
      }
      return this.view((await this.store.get(runId)) ?? run, true);
    });
  }

  private async get(runId: string): Promise<WorkflowRun | null> {
    const run = await this.store.get(runId);
    return run ? this.view(run, true) : null;
  }

  private async view(run: RunRecord, withHistory: boolean): Promise<WorkflowRun> {
    return toView(run, withHistory ? await this.store.history(run.id) : []);
  }

  /**
   * Cancels without taking the run's lock, so a cancel is not stuck behind a long step: the
   * status is committed now, the executing step is aborted, and a step that still finishes finds
   * the run cancelled and drops its outcome.
   */
  private async cancel(runId: string, reason: unknown): Promise<WorkflowRun | null> {
    const run = await this.store.get(runId);
    if (!run) return null;
    if (ACTIVE.has(run.status)) {
      await this.finish(run, 'cancelled', null, typeof reason === 'string' ? reason : null, true);
      this.executing.get(runId)?.abort(new Error('the run was cancelled'));
    }
    return this.get(runId);
  }

  private async signal(runId: string, name: string, payload: unknown): Promise<WorkflowRun> {
    const run = await this.store.get(runId);
    if (!run) throw new UnknownRunError(runId);
    if (!ACTIVE.has(run.status)) throw new RunEndedError(runId, run.status);
    if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload)))
      throw new InvalidSignalError();
    encodeMessage(payload ?? {});
    const event = { ...(payload as Record<string, unknown> | undefined), type: name };
    if (!this.input.workflows.knows(run)) {
      await this.finish(run, 'failed', null, `workflow '${run.workflow}' is not registered`, true);
      throw new UnknownWorkflowError(run.workflow);
    }
    if (run.kind === 'machine') {
      const resolved = await this.resolve(run, true);
      if (resolved?.workflow.kind === 'machine')
        await this.machines.send(resolved.run, resolved.workflow, event);
      return this.view((await this.store.get(runId)) ?? run, true);
    }
    if (run.status !== 'waiting' || run.waiting?.signal !== name)
      throw new SignalNotAwaitedError(runId, name, run.waiting?.signal ?? null);
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
    await this.store.save(resumed, [
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
    if (staleAlarm !== null) this.alarms.cancel(staleAlarm);
    await this.arm(resumed);
    return this.view((await this.store.get(runId)) ?? resumed, true);
  }

  // -------------------------------------------------------------------------------------------
  // Deliveries.

  private async deliverStep(event: Record<string, unknown>): Promise<true> {
    // Unknown, ended, or a seq that already ran (or was superseded): acknowledge, run nothing.
    const stored = await this.store.get(asString(event.runId, 'runId'));
    if (!stored || !ACTIVE.has(stored.status) || stored.seq !== event.seq || stored.kind !== 'steps')
      return true;
    const resolved = await this.resolve(stored, false);
    if (resolved?.workflow.kind !== 'steps') return true;
    const { workflow, run } = resolved;
    const step = workflow.steps[run.step];
    if (!step) {
      await this.finish(
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
    if (this.closed) throw new SchedulerRetryError('the Scheduler stopped during the step');
    const current = await this.store.get(run.id);
    if (!current || !ACTIVE.has(current.status) || current.seq !== run.seq) return true; // cancelled meanwhile
    const decision = decide({
      workflow,
      run: { ...current, status: 'running' },
      outcome,
      thrown,
      startedAt,
      now: this.clock.now(),
      zone: this.zone,
    });
    const next = decision.run;
    entries.push(...decision.entries);
    await this.store.save(next, entries);
    for (const e of entries)
      if (e.outcome !== 'timeout') this.stepped(next, e.step, e.outcome, e.attempt, e.seq);
    if (ACTIVE.has(next.status)) await this.arm(next);
    else this.ended(next);
    return true;
  }

  private async deliverDelay(event: Record<string, unknown>): Promise<true> {
    const stored = await this.store.get(asString(event.runId, 'runId'));
    if (!stored || !ACTIVE.has(stored.status) || stored.kind !== 'machine') return true;
    const resolved = await this.resolve(stored, false);
    if (resolved?.workflow.kind !== 'machine') return true;
    await this.machines.fire(resolved.run, resolved.workflow, asString(event.delay, 'delay'), event.n);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Versions (versions.ts).

  /**
   * The definition that runs `run` now. A run moved to a newer version by its `migrate` is
   * committed (with a `migrated` history line) before anything runs on it; a run whose version
   * is gone without a migration fails with the reason, and this returns undefined.
   * `cancelAlarm` is false when the alarm is the delivery being handled.
   */
  private async resolve(
    run: RunRecord,
    cancelAlarm: boolean,
  ): Promise<{ workflow: Workflow; run: RunRecord } | undefined> {
    const resolution = this.input.workflows.resolve(run);
    if (!resolution.ok) {
      await this.finish(run, 'failed', null, resolution.reason, cancelAlarm);
      return undefined;
    }
    if (resolution.migratedFrom === undefined) return resolution;
    const now = this.clock.now();
    const moved = { ...resolution.run, updatedAt: now };
    const detail = `version ${resolution.migratedFrom} -> ${moved.version}`;
    await this.store.save(moved, [
      {
        seq: run.seq,
        step: moved.step,
        attempt: run.attempt,
        startedAt: now,
        endedAt: now,
        outcome: 'migrated',
        detail,
      },
    ]);
    this.stepped(moved, moved.step, 'migrated');
    return { workflow: resolution.workflow, run: moved };
  }

  // -------------------------------------------------------------------------------------------
  // Alarms.

  /** Sets the alarm that runs the run's current seq (idempotent by key), and notes its id. */
  private async arm(run: RunRecord): Promise<void> {
    if (!ACTIVE.has(run.status) || run.nextAt === null) return;
    const alarm = await this.alarms.set(`run:${run.id}:${run.seq}`, run.nextAt, {
      type: 'workflow.step',
      runId: run.id,
      step: run.step,
      seq: run.seq,
    });
    if (alarm.status === 'failed' || alarm.status === 'cancelled' || alarm.status === 'missed') {
      // The Alarm gave up on this step (e.g. the Scheduler was down past every attempt): say so
      // on the run rather than leave it running forever with nothing scheduled.
      const current = await this.store.get(run.id);
      if (current && current.seq === run.seq && ACTIVE.has(current.status))
        await this.finish(
          current,
          'failed',
          null,
          `the alarm for step '${run.step}' is ${alarm.status}: ${alarm.lastError ?? ''}`,
          false,
        );
      return;
    }
    await this.store.setAlarmId(run.id, run.seq, alarm.id);
  }

  // -------------------------------------------------------------------------------------------
  // Ends and events.

  /** Commits an end status; `cancelAlarm` is false when the alarm is the delivery being handled. */
  private async finish(
    run: RunRecord,
    status: 'completed' | 'failed' | 'cancelled',
    result: unknown,
    error: string | null,
    cancelAlarm: boolean,
  ): Promise<void> {
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
    await this.store.save(ended, [
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
    if (cancelAlarm && run.alarmId !== null) this.alarms.cancel(run.alarmId);
    // A machine's other delays will never matter again: cancel their alarms too.
    if (run.kind === 'machine') this.machines.drop(run.id, true);
    this.ended(ended);
  }

  private ended(run: RunRecord): void {
    this.emit('workflow.ended', {
      runId: run.id,
      workflow: run.workflow,
      status: run.status as 'completed' | 'failed' | 'cancelled',
      error: run.error,
      at: this.clock.now(),
    });
  }

  private stepped(run: RunRecord, step: string, outcome: string, attempt = 1, seq = run.seq): void {
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

  /** An internal failure (the database) the Scheduler cannot answer: let the supervisor restart it. */
  private crash(err: unknown): void {
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
  const o = parseWith(OptionsSchema, options, (field, detail) => {
    throw new InvalidSchedulerOptionError(`${field || 'options'} ${detail}`, field || 'options');
  });
  const zone = o.zone === undefined ? undefined : checkZone(o.zone);
  // Several versions of one workflow may be registered; the same version twice is refused.
  const workflows = new WorkflowVersions(o.workflows);
  const { name, alarmName, db, store, alarmMaxAttempts } = o;
  // `db` is a non-empty string whenever `store` is absent: the schema's last check.
  const open = store ?? (() => openSqliteRunStore(db as string));
  return worker(name, schedulerLogic, {
    input: ({ runtime }: { runtime: Runtime }) => ({
      runtime,
      name,
      alarmName,
      store: open,
      zone,
      alarmMaxAttempts,
      workflows,
    }),
  });
}

// --- Schemas of the options and of requests from callers ---------------------------------------
// Requests come through `runtime.call` from any caller, typed or not: each is parsed here once,
// and the service trusts the parsed value.

const NAME = 'must be a string of 1 to 200 characters';
const Name = v.pipe(v.string(NAME), v.minLength(1, NAME), v.maxLength(200, NAME));

const isWorkflow = (w: unknown): w is Workflow =>
  typeof w === 'object' &&
  w !== null &&
  ((w as Workflow).kind === 'steps' || (w as Workflow).kind === 'machine') &&
  typeof (w as Workflow).name === 'string';

const DB = "must be a database path, or give 'store'";
const OptionsSchema = v.pipe(
  v.object(
    {
      db: v.optional(v.pipe(v.string(DB), v.minLength(1, DB))),
      store: v.optional(
        v.custom<() => RunStore>(
          (value) => typeof value === 'function',
          'must be a function returning a RunStore',
        ),
      ),
      workflows: v.array(
        v.custom<Workflow>(isWorkflow, 'must come from defineWorkflow or defineMachineWorkflow'),
        'must be an array',
      ),
      // checked by checkZone, whose INVALID_ZONE callers already know
      zone: v.optional(v.unknown()),
      name: v.optional(Name, 'Scheduler'),
      alarmName: v.optional(Name, 'Alarm'),
      alarmMaxAttempts: v.optional(
        v.pipe(
          v.number('must be an integer >= 1'),
          v.safeInteger('must be an integer >= 1'),
          v.minValue(1, 'must be an integer >= 1'),
        ),
        1000,
      ),
    },
    'must be an object { db, workflows, ... }',
  ),
  v.forward(
    v.check((o) => o.store !== undefined || o.db !== undefined, DB),
    ['db'],
  ),
);

/** `workflow.start`: `at` is parsed by `parseWhen` and `context` by `encodeMessage`, their own edges. */
const StartSchema = v.looseObject({
  workflow: Name,
  context: v.optional(v.unknown()),
  runId: v.optional(Name),
  at: v.optional(v.unknown()),
});
type StartRequest = v.InferOutput<typeof StartSchema>;

const STATUS = `must be one of ${RUN_STATUSES.join(', ')}, or an array of them`;
const Status = v.picklist(RUN_STATUSES, STATUS);

/** `workflow.list`: the filter goes to the store's SQL, so nothing unchecked may reach it. */
const RunFilterSchema = v.optional(
  v.object(
    {
      workflow: v.optional(Name),
      status: v.optional(v.union([Status, v.array(Status, STATUS)], STATUS)),
      afterId: v.optional(v.string('must be a string')),
      limit: v.optional(v.pipe(v.number('must be a number'), v.finite('must be a number'))),
    },
    'must be an object { workflow?, status?, afterId?, limit? }',
  ),
  {},
);

/** Parses a request's part; a bad one is INVALID_REQUEST naming the field. */
function parseRequest<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  return parseWith(schema, input, (field, detail) => {
    throw new InvalidRequestError(field || 'filter', detail);
  });
}

function asString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200)
    throw new InvalidRequestError(field);
  return value;
}
