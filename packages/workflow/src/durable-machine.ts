/**
 * Durable XState: an ordinary XState v5 machine run as a workflow, whose `after` delays are
 * alarms and whose snapshot is committed after every event, so a machine waiting three days
 * resumes, and fires on time, after any number of restarts.
 *
 * XState does not persist delayed events (statelyai/xstate#5331): `getPersistedSnapshot()` has
 * the state and context but not the timers the state's entry scheduled, and a restored actor does
 * not schedule them again. So the Scheduler takes over the root actor's scheduler:
 *
 * - `system.scheduler.schedule(self, self, event, delay, id)` (what `after` and a delayed `raise`
 *   call) records `{ event, fireAt: now + delay }` in the run row instead of starting a timer,
 *   and an alarm is set for it under the key `run:<id>:delay:<n>`;
 * - `system.scheduler.cancel(self, id)` (what leaving the state calls) forgets the record and
 *   cancels the alarm;
 * - when the alarm is delivered, the recorded event is sent to the actor (restored from its
 *   persisted snapshot if the process restarted): `xstate.after.*` events are ordinary events
 *   to the machine, so this is exactly what its own timer would have done.
 *
 * The record, not the actor, is the truth about pending delays: the snapshot and the records are
 * committed in one transaction after each event, before the delivery of the alarm is answered.
 * A delivery whose record is gone or renumbered (the state was left, or re-entered) is stale and
 * acknowledged without effect.
 *
 * Delays of other actors (invoked or spawned children, `sendTo` with a delay) stay in-memory
 * XState timers on the runtime's clock: they are not durable.
 *
 * Replacing `system.scheduler` is relying on XState internals: xstate is pinned exactly (a peer
 * dependency), and test/xstate-contract.test.ts states and checks every assumption made here.
 */

import { type Alarm, parseDuration } from '@vigil/alarm';
import { type Clock, coerceError, parseWith } from '@vigil/runtime';
import * as v from 'valibot';
import { type AnyActor, type AnyActorRef, type AnyStateMachine, createActor, type EventObject } from 'xstate';
import { InvalidWorkflowError } from './errors.js';
import type { HistoryEntry, MachineTimers, RunRecord } from './store/types.js';
import { type MachineWorkflow, MigrateSchema, VersionSchema } from './workflow.js';

const ACTIVE = new Set(['running', 'waiting']);

/** Definition of a machine workflow. */
export interface MachineWorkflowDefinition {
  name: string;
  /** The machine; its `input` is the `context` given to `WorkflowClient.start`. */
  machine: AnyStateMachine;
  /**
   * Version of this definition, an integer >= 1 (default 1); every stored snapshot carries the
   * version that wrote it. A changed machine is registered as a new version beside the old one,
   * or declares `migrate` from it.
   */
  version?: number;
  /**
   * Migrations of a stored (persisted, JSON) snapshot from older versions, by the version they
   * move from: run when a run of that version next handles an event or is restored.
   */
  migrate?: Record<number, (snapshot: unknown) => unknown>;
}

/**
 * Registers an XState v5 machine as a durable workflow. Keys of `after` that are neither numbers
 * nor delays named in `setup({ delays })` are read as durations ('3 days', '90s', '1 week'):
 * XState itself would fire such a transition at once, since it finds no delay by that name.
 *
 * Rules the machine must follow:
 * - its context (and input) must be JSON: the snapshot is stored as JSON after every event;
 * - no raw timers (`setTimeout`) in actions: use `after` or a delayed `raise`, which are durable;
 * - side effects belong in invoked actors (`fromPromise`), which run again when the machine is
 *   restored after a restart: make them idempotent (key them on the run id);
 * - external events arrive through `WorkflowClient.signal(runId, type, payload)`.
 *
 * @example
 * const trial = defineMachineWorkflow({
 *   name: 'trial',
 *   machine: createMachine({
 *     initial: 'active',
 *     states: {
 *       active: { after: { '14 days': 'expired' }, on: { upgrade: 'paid' } },
 *       expired: { type: 'final' },
 *       paid: { type: 'final' },
 *     },
 *   }),
 * });
 */
export function defineMachineWorkflow(definition: MachineWorkflowDefinition): MachineWorkflow {
  const { name, machine, version, migrate } = parseWith(
    MachineDefinitionSchema,
    definition,
    (field, detail) => {
      const given = (definition as { name?: unknown } | null)?.name;
      throw new InvalidWorkflowError(
        String(given),
        field === 'name' ? detail : `${field || 'definition'} ${detail}`,
      );
    },
  );
  const named = machine.implementations.delays ?? {};
  const extra: Record<string, number> = {};
  const visit = (node: AnyStateMachine['root']): void => {
    for (const key of Object.keys(node.config.after ?? {})) {
      if (!Number.isNaN(Number(key)) || Object.hasOwn(named, key) || Object.hasOwn(extra, key)) continue;
      try {
        extra[key] = parseDuration(key);
      } catch (err) {
        throw new InvalidWorkflowError(
          name,
          `state '${node.id}' has after '${key}', which is neither a number, a named delay nor a duration (${coerceError(err).message})`,
        );
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  const provided = Object.keys(extra).length > 0 ? machine.provide({ delays: extra }) : machine;
  return Object.freeze({
    kind: 'machine',
    name,
    version,
    machine: provided,
    migrate: Object.freeze(migrate as Record<number, (snapshot: unknown) => unknown>),
  });
}

const isMachine = (m: unknown): m is AnyStateMachine =>
  typeof m === 'object' &&
  m !== null &&
  typeof (m as AnyStateMachine).provide === 'function' &&
  Boolean((m as AnyStateMachine).root);

const NAME = 'a machine workflow needs a name of 1 to 200 characters';
const MachineDefinitionSchema = v.object(
  {
    name: v.pipe(v.string(NAME), v.minLength(1, NAME), v.maxLength(200, NAME)),
    machine: v.custom<AnyStateMachine>(isMachine, 'must be an XState v5 machine'),
    version: VersionSchema,
    migrate: MigrateSchema,
  },
  'must be an object { name, machine, version?, migrate? }',
);

/**
 * @internal What `MachineRunner` needs from the Scheduler that owns it: the clock, the run
 * store's write, the alarms of delays, and how to end or crash. Nothing else of the Scheduler is
 * reachable from here.
 */
export interface MachineHost {
  readonly clock: Clock;
  /**
   * Runs `work` holding the run's exclusion (the run store's `withRun`: a database row lock when
   * several nodes share the store). Not re-entrant: never called from work that already holds it.
   */
  exclusive<T>(runId: string, work: () => Promise<T>): Promise<T>;
  /** The run as stored now. */
  load(runId: string): Promise<RunRecord | undefined>;
  /** Commits the run and appends history lines, in one transaction. */
  save(run: RunRecord, entries: HistoryEntry[]): Promise<void>;
  /** Sets an alarm targeted at the Scheduler (idempotent by `key`), retrying while the Alarm restarts. */
  setAlarm(key: string, at: number, message: Record<string, unknown>): Promise<Alarm>;
  /** Best-effort cancel of an alarm that no longer matters. */
  cancelAlarm(id: number): void;
  /** Commits the end of a run (and cancels its alarms when `cancelAlarm`). */
  finish(
    run: RunRecord,
    status: 'completed' | 'failed' | 'cancelled',
    result: unknown,
    error: string | null,
    cancelAlarm: boolean,
  ): Promise<void>;
  /** Emits `workflow.stepped` for a committed transition. */
  stepped(run: RunRecord, step: string, outcome: string): void;
  /** An internal failure the Scheduler cannot answer: let its supervisor restart it. */
  crash(err: unknown): void;
}

interface Live {
  actor: AnyActor;
  run: RunRecord;
  timers: MachineTimers;
  /** Alarm ids by delay number, once their `set` resolved. */
  alarmIds: Map<number, number>;
  /** True while the Scheduler itself sends: it persists after the send, with the event's name. */
  driving: boolean;
  /** A transition the Scheduler did not cause waits for the run's lock to be committed. */
  queued: boolean;
  ended: boolean;
}

/** @internal The live actors of machine runs, for one incarnation of the Scheduler. */
export class MachineRunner {
  private readonly live = new Map<string, Live>();

  constructor(private readonly host: MachineHost) {}

  /** Creates and starts the actor of a new run, commits its first snapshot, sets its alarms. */
  async begin(run: RunRecord, workflow: MachineWorkflow): Promise<void> {
    const live = await this.create(run, workflow, undefined);
    if (live.ended || !(await this.tryPersist(live, 'start', null))) return;
    await this.arm(live);
  }

  /** After a restart: restores the actor from its snapshot and sets every pending delay's alarm again. */
  async restore(run: RunRecord, workflow: MachineWorkflow): Promise<void> {
    const live = await this.actorOf(run, workflow);
    if (!live.ended) await this.arm(live);
  }

  /** A delay's alarm was delivered: sends its event if the delay is still pending under number `n`. */
  async fire(run: RunRecord, workflow: MachineWorkflow, delayId: string, n: unknown): Promise<void> {
    const live = await this.actorOf(run, workflow);
    if (live.ended) return;
    const pending = live.timers.pending[delayId];
    if (!pending || pending.n !== n) return;
    delete live.timers.pending[delayId];
    live.alarmIds.delete(pending.n);
    await this.drive(live, pending.event as EventObject, 'delay');
  }

  /** A signal: sends `event` to the machine. */
  async send(run: RunRecord, workflow: MachineWorkflow, event: EventObject): Promise<void> {
    const live = await this.actorOf(run, workflow);
    if (live.ended) return;
    await this.drive(live, event, 'signal');
  }

  /** Stops a run's actor; with `cancelAlarms`, cancels the alarms of its pending delays (the run ended). */
  drop(runId: string, cancelAlarms: boolean): void {
    const live = this.live.get(runId);
    if (!live) return;
    this.live.delete(runId);
    live.ended = true;
    if (cancelAlarms) {
      for (const [delay, t] of Object.entries(live.timers.pending)) {
        const known = live.alarmIds.get(t.n);
        if (known !== undefined) {
          this.host.cancelAlarm(known);
          continue;
        }
        // Restored from the database, its alarm id was never learnt: setting the same key
        // returns the existing alarm (or makes one), which is then cancelled.
        this.host
          .setAlarm(this.keyOf(live, t.n), t.fireAt, this.messageOf(live, delay, t.n))
          .then((alarm) => this.host.cancelAlarm(alarm.id))
          .catch(() => undefined);
      }
    }
    // stop() does not run exit actions, so it cancels none of the durable delays: they stay in
    // the run row for the next incarnation.
    live.actor.stop();
  }

  /** The Scheduler is stopping: stop every actor, keep every record. */
  closeAll(): void {
    for (const id of [...this.live.keys()]) this.drop(id, false);
  }

  // -------------------------------------------------------------------------------------------

  /**
   * The actor of `run` as stored (`run` is read under the run's lock): the live one, unless the
   * stored run is ahead of what this actor last committed. That happens when several nodes share
   * the run store: another node's Scheduler took an event for this run meanwhile, and this actor's
   * state is stale, so it is stopped (its records stay) and restored from the stored snapshot. On
   * one node the live actor is never behind: every commit of the run went through it.
   */
  private async actorOf(run: RunRecord, workflow: MachineWorkflow): Promise<Live> {
    const live = this.live.get(run.id);
    if (live && live.run.seq >= run.seq) return live;
    if (live) this.drop(run.id, false);
    return this.create(run, workflow, run.snapshot);
  }

  /**
   * Creates (or restores) and starts a run's actor. A snapshot the machine cannot take back (the
   * machine changed in a deploy), or a machine that throws on start, fails that run with the
   * reason: one bad run must not crash-loop the Scheduler and every other run with it.
   */
  private async create(run: RunRecord, workflow: MachineWorkflow, snapshot: unknown): Promise<Live> {
    const clock = this.host.clock;
    const live: Live = {
      actor: undefined as unknown as AnyActor,
      run,
      timers: structuredClone(run.timers ?? { next: 1, pending: {} }),
      alarmIds: new Map(),
      driving: true,
      queued: false,
      ended: false,
    };
    try {
      live.actor = createActor(workflow.machine, {
        ...(snapshot === undefined || snapshot === null
          ? { input: run.context }
          : { snapshot: snapshot as never }),
        // Only the non-durable timers (children's delays) reach this clock.
        clock: {
          setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
          clearTimeout: (h) => clock.clearTimeout(h),
        },
      });
      this.intercept(live);
      this.live.set(run.id, live);
      // Transitions the Scheduler did not cause (an invoked promise settling) are committed by
      // `commitOwn`. Those it causes (`driving`) are committed by `drive`, which runs under the
      // run's lock already: going through the lock again from here would wait for itself.
      const own = () => {
        if (!live.driving && !live.ended) this.commitOwn(live);
      };
      live.actor.subscribe({ next: own, complete: own, error: own });
      live.actor.start();
    } catch (err) {
      live.driving = false;
      this.live.delete(run.id);
      live.ended = true;
      const verb = snapshot === undefined || snapshot === null ? 'start' : 'restore';
      await this.host.finish(
        live.run,
        'failed',
        null,
        `cannot ${verb} the machine: ${coerceError(err).message}`,
        true,
      );
      return live;
    }
    live.driving = false;
    const status = live.actor.getSnapshot().status;
    if (status === 'error') {
      // XState reports a snapshot it cannot restore (a state the new machine lacks) this way.
      const verb = snapshot === undefined || snapshot === null ? 'start' : 'restore';
      const cause = coerceError(live.actor.getSnapshot().error);
      await this.settle(live, new Error(`cannot ${verb} the machine: ${cause.message}`, { cause }), null, '');
    } else if (status === 'done') await this.settle(live, null);
    return live;
  }

  /**
   * Commits a transition the Scheduler did not cause, under the run's lock, so that it is
   * excluded from another node's delivery or signal on the same run as the Scheduler's own work
   * is. Under the lock the stored run is read again: if another node moved it on (its seq is past
   * what this actor committed) or ended it, this actor is behind and is stopped without writing
   * (its records stay): the node that moved the run restored it from the stored snapshot, which
   * runs its invoked actors again, so the transition is made there, on the current state. Writing
   * here would number a second history line with the same seq and overwrite that node's state.
   *
   * Transitions that come while one commit waits for the lock are folded into it: the snapshot
   * is taken once the lock is held and the run read. Nothing may throw out of an observer (XState
   * would rethrow it from a timer): a failure here crashes the Scheduler, which restores the run.
   */
  private commitOwn(live: Live): void {
    if (live.queued) return;
    live.queued = true;
    const runId = live.run.id;
    this.host
      .exclusive(runId, async () => {
        if (live.ended) return;
        const stored = await this.host.load(runId);
        live.queued = false;
        if (live.ended) return;
        if (!stored || !ACTIVE.has(stored.status) || stored.seq !== live.run.seq) {
          if (this.live.get(runId) === live) this.drop(runId, false);
          return;
        }
        const snapshot = live.actor.getSnapshot();
        if (snapshot.status === 'done') await this.settle(live, null);
        else if (snapshot.status === 'error') await this.settle(live, coerceError(snapshot.error));
        else if (await this.tryPersist(live, 'event', null)) await this.arm(live);
      })
      .catch((err) => this.host.crash(err));
  }

  /** `persist`, failing the run (instead of throwing) when its snapshot cannot be stored. */
  private async tryPersist(live: Live, outcome: string, detail: string | null): Promise<boolean> {
    try {
      await this.persist(live, outcome, detail);
      return true;
    } catch (err) {
      await this.settle(live, new Error(`cannot store its snapshot: ${coerceError(err).message}`));
      return false;
    }
  }

  /**
   * Takes over the root actor's delayed events. The scheduler object is shared by the actor's
   * whole system; only events the root sends itself are made durable.
   */
  private intercept(live: Live): void {
    const scheduler = live.actor.system.scheduler;
    const schedule = scheduler.schedule.bind(scheduler);
    const cancel = scheduler.cancel.bind(scheduler);
    const actor: AnyActorRef = live.actor;
    scheduler.schedule = (source, target, event, delay, id) => {
      if (source !== actor || target !== actor) return schedule(source, target, event, delay, id);
      const key = id ?? `anonymous:${live.timers.next}`;
      const previous = live.timers.pending[key];
      if (previous) this.forget(live, previous.n);
      live.timers.pending[key] = {
        n: live.timers.next++,
        fireAt: this.host.clock.now() + delay,
        event: JSON.parse(JSON.stringify(event)),
      };
    };
    scheduler.cancel = (source, id) => {
      const pending = source === actor ? live.timers.pending[id] : undefined;
      if (!pending) return cancel(source, id);
      delete live.timers.pending[id];
      this.forget(live, pending.n);
    };
  }

  private forget(live: Live, n: number): void {
    const alarmId = live.alarmIds.get(n);
    live.alarmIds.delete(n);
    if (alarmId !== undefined) this.host.cancelAlarm(alarmId);
  }

  /** Sends an event on the Scheduler's behalf, then commits the result before anyone is answered. */
  private async drive(live: Live, event: EventObject, outcome: string): Promise<void> {
    live.driving = true;
    try {
      live.actor.send(event);
    } finally {
      live.driving = false;
    }
    const status = live.actor.getSnapshot().status;
    if (status === 'done' || status === 'error') {
      await this.settle(
        live,
        status === 'error' ? coerceError(live.actor.getSnapshot().error) : null,
        event.type,
      );
      return;
    }
    if (await this.tryPersist(live, outcome, event.type)) await this.arm(live);
  }

  /**
   * Commits the snapshot and the pending delays together, with a history line. Called only under
   * the run's lock (the Scheduler's work, or `commitOwn`), so no other write of the run, from this
   * node or another, comes between reading `live.run.seq` and committing `seq + 1`.
   */
  private async persist(live: Live, outcome: string, detail: string | null): Promise<RunRecord> {
    const snapshot = live.actor.getSnapshot();
    const now = this.host.clock.now();
    // A JSON round trip is what the next incarnation will see; do it now, so what is not JSON
    // fails the run at once rather than after a restart.
    const persisted = JSON.parse(JSON.stringify(live.actor.getPersistedSnapshot()));
    const run: RunRecord = {
      ...live.run,
      step: JSON.stringify(snapshot.value),
      seq: live.run.seq + 1,
      context: (persisted.context ?? {}) as Record<string, unknown>,
      snapshot: persisted,
      timers: structuredClone(live.timers),
      updatedAt: now,
    };
    live.run = run;
    await this.host.save(run, [
      { seq: run.seq, step: run.step, attempt: 1, startedAt: now, endedAt: now, outcome, detail },
    ]);
    this.host.stepped(run, run.step, outcome);
    return run;
  }

  /** The machine reached a final state (error === null) or failed: commit the end of the run. */
  private async settle(
    live: Live,
    error: Error | null,
    detail: string | null = null,
    prefix = 'the machine failed: ',
  ): Promise<void> {
    if (live.ended) return;
    // Ended before the first await: an observer firing meanwhile must not settle it twice.
    live.ended = true;
    let run = live.run;
    try {
      if (error === null) run = await this.persist(live, 'done', detail);
    } catch (err) {
      error = coerceError(err);
    }
    const output = live.actor.getSnapshot().output;
    if (error === null)
      await this.host.finish(run, 'completed', output === undefined ? null : output, null, false);
    else await this.host.finish(run, 'failed', null, `${prefix}${error.message}`, false);
  }

  private keyOf(live: Live, n: number): string {
    return `run:${live.run.id}:delay:${n}`;
  }

  private messageOf(live: Live, delay: string, n: number): Record<string, unknown> {
    return { type: 'workflow.delay', runId: live.run.id, delay, n };
  }

  /** Sets the alarm of every pending delay that has none yet (idempotent by key). */
  private async arm(live: Live): Promise<void> {
    await Promise.all(
      Object.entries(live.timers.pending).map(async ([delay, t]) => {
        if (live.alarmIds.has(t.n)) return;
        const alarm = await this.host.setAlarm(
          this.keyOf(live, t.n),
          t.fireAt,
          this.messageOf(live, delay, t.n),
        );
        // The state may have been left while the set was on its way: the alarm is stale already.
        if (live.ended || live.timers.pending[delay]?.n !== t.n) this.host.cancelAlarm(alarm.id);
        else live.alarmIds.set(t.n, alarm.id);
      }),
    );
  }
}
