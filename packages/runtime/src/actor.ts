/**
 * One incarnation of a worker: an XState actor plus the Vigil mailbox in front of it.
 *
 * XState's `send` is synchronous; the mailbox is what makes Vigil's sending asynchronous and
 * keeps the receiver off the sender's stack. Crashes are read from XState's observer `error`
 * callback, which every actor gets: without it XState rethrows from a `setTimeout`, which in
 * Node is an uncaught exception that takes the process down.
 */
import { type AnyActorRef, createActor, type EventObject } from 'xstate';
import { pendingCallOf } from './call.js';
import type { TimerHandle } from './clock.js';
import { CalleeExitedError, coerceError, InvalidMessageError, StartError } from './errors.js';
import { Exit, type ExitReason, isAbnormal } from './exit.js';
import type { RuntimeHost } from './host.js';
import { isIsolatedLogic, type Loading, loadingOf } from './isolation/mark.js';
import { Mailbox } from './mailbox.js';
import { ExitListeners, exitWithin, type Process } from './process.js';
import type { Runnable } from './scheduler.js';
import type { Shutdown, WorkerSpec } from './spec.js';

const processOfRef = new WeakMap<AnyActorRef, ActorProcess>();

/** The message sent to a `trapExit` actor when its supervisor asks it to stop. */
export const SHUTDOWN_EVENT = 'vigil.shutdown';

export class ActorProcess implements Process, Runnable {
  readonly kind = 'worker' as const;
  scheduled = false;
  alive = false;
  exitReason: ExitReason | undefined;
  /** The running XState actor; replaced (same process, name and mailbox) by a hot upgrade. */
  ref: AnyActorRef;
  /** The spec this incarnation runs; a hot upgrade swaps in one with the new logic. */
  spec: WorkerSpec;
  /** While true (a hot upgrade in progress), messages queue and none is delivered. */
  private suspended = false;
  /** Delayed events the suspended XState actor had pending for itself, re-armed by `restartFrom`. */
  private carried: CarriedTimer[] = [];
  private readonly mailbox = new Mailbox<EventObject>();
  private readonly exitListeners = new ExitListeners();
  /**
   * Calls this incarnation owes a reply to; rejected if it exits first. Created on the first
   * call: most actors are never called, and an empty Set costs ~150 bytes per idle actor.
   */
  private owed: Set<object> | undefined;
  /** Set while we stop the XState actor ourselves, so its `complete` is not read as `normal`. */
  private stoppingRef = false;
  private shuttingDown = false;

  constructor(
    /** @internal */
    readonly host: RuntimeHost,
    spec: WorkerSpec,
    readonly incarnation: number,
  ) {
    this.spec = spec;
    const input = host.inputOf(spec, incarnation);
    this.ref = createActor(spec.logic, { input, clock: host.clock, id: spec.id });
    processOfRef.set(this.ref, this);
  }

  /** Messages waiting in the mailbox (for telemetry: `Runtime.mailboxDepth`). */
  get mailboxSize(): number {
    return this.mailbox.size;
  }

  get name(): string {
    return this.spec.id;
  }

  /**
   * Starts the XState actor. A machine that fails while starting (a throw in an entry action)
   * makes this throw, so the supervisor can report a start failure naming the child.
   */
  start(): void {
    this.watch(this.ref);
    this.alive = true;
    this.host.registry.bind(this);
    this.ref.start();
    if (this.exitReason?.kind === 'error') {
      throw this.exitReason.error;
    }
    this.host.events.emit('actor.started', {
      name: this.name,
      incarnation: this.incarnation,
      at: this.host.clock.now(),
    });
  }

  /**
   * Reads the exit of `ref` while it is the current XState actor. An actor a hot upgrade
   * replaced (or one it failed to start) is not this process any more: its end is not an exit.
   */
  private watch(ref: AnyActorRef): void {
    ref.subscribe({
      error: (err) => {
        if (ref === this.ref) this.exit(Exit.error(coerceError(err)));
      },
      complete: () => {
        if (ref === this.ref && !this.stoppingRef) this.exit(this.shuttingDown ? Exit.shutdown : Exit.normal);
      },
    });
  }

  /**
   * @internal Hot upgrade, first half (upgrade.ts): stops delivering, takes the persisted
   * snapshot and stops the XState actor. The process stays alive and registered; messages and
   * calls keep queueing in the mailbox until `resume`.
   */
  suspend(): unknown {
    this.suspended = true;
    const ref = this.ref;
    const snapshot = ref.getPersistedSnapshot();
    this.carried = pendingTimers(ref);
    this.stoppingRef = true;
    try {
      ref.stop();
    } finally {
      this.stoppingRef = false;
    }
    return snapshot;
  }

  /**
   * @internal Hot upgrade, second half: starts `spec.logic` from `snapshot` as this process's
   * XState actor. Throws (and leaves no actor running) if the logic cannot be restored or fails
   * while starting; the caller then restores the old logic.
   */
  restartFrom(spec: WorkerSpec, snapshot: unknown): void {
    const input = this.host.inputOf(spec, this.incarnation);
    const ref = createActor(spec.logic, {
      input,
      snapshot: snapshot as never,
      clock: this.host.clock,
      id: spec.id,
    });
    let failure: unknown;
    let failed = false;
    // Not `watch` yet: an error while starting is a failed upgrade, not an exit of the process.
    const probe = ref.subscribe({
      error: (err) => {
        failed = true;
        failure = err;
      },
    });
    try {
      ref.start();
    } catch (err) {
      failed = true;
      failure ??= err;
    }
    probe.unsubscribe();
    if (failed || ref.getSnapshot().status !== 'active') {
      stopDescendants(ref);
      if (ref.getSnapshot().status === 'active') ref.stop();
      throw failure ?? new Error(`the new logic did not stay active (${ref.getSnapshot().status})`);
    }
    this.ref = ref;
    this.spec = spec;
    processOfRef.set(ref, this);
    this.watch(ref);
    // A restored snapshot does not re-enter its states, so their `after` delays (and delayed
    // self-sends) would never fire: each is re-armed for what was left of it, under its own id
    // so that leaving the state still cancels it.
    for (const t of this.carried) {
      const left = Math.max(0, t.delay - (Date.now() - t.startedAt));
      ref.system.scheduler.schedule(ref, ref, t.event, left, t.id);
    }
  }

  /** @internal Hot upgrade done (or rolled back): delivers what queued meanwhile, in order. */
  resume(): void {
    this.suspended = false;
    this.carried = [];
    if (this.alive && this.mailbox.size > 0) this.host.schedule(this);
  }

  /** True when this worker's logic runs on a pool thread (isolation/pool.ts). */
  get isolated(): boolean {
    return isIsolatedLogic(this.spec.logic);
  }

  /**
   * The message to queue for this actor. An isolated actor's is a structured clone taken now, at
   * the sender: what the thread will see, whatever the sender does with its object afterwards;
   * one that cannot be cloned is refused here (`InvalidMessageError`), never in the receiver.
   */
  admit<T extends object>(message: T): T {
    if (!this.isolated) return message;
    try {
      return structuredClone(message);
    } catch (err) {
      throw new InvalidMessageError(
        `a message to isolated actor '${this.name}' cannot be cloned across threads: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Resolves once the actor has started in its thread (isolated actors) and `spec.readyWhen`
   * holds; rejects if the actor fails to start there, exits, or the start times out.
   */
  async whenReady(): Promise<void> {
    const loading = loadingOf(this.ref);
    if (loading && this.alive) await this.whenStartedIn(loading);
    return this.whenReadyWhen();
  }

  /**
   * An isolated actor has started in its thread; rejects if it failed to, if the process exits,
   * or after `startTimeoutMs` counted from when its thread runs.
   */
  private whenStartedIn(loading: Loading): Promise<void> {
    return new Promise((resolve, reject) => {
      const clock = this.host.clock;
      let timer: TimerHandle | undefined;
      let done = false;
      const cancelExit = this.onExit((reason) =>
        finish(reason.kind === 'error' ? reason.error : new Error(`exited while starting (${reason.kind})`)),
      );
      const finish = (err: unknown) => {
        if (done) return;
        done = true;
        cancelExit();
        if (timer !== undefined) clock.clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      void loading.booted.then(() => {
        if (done) return;
        timer = clock.setTimeout(
          () => finish(new Error(`not started in its thread within ${this.spec.startTimeoutMs} ms`)),
          this.spec.startTimeoutMs,
        );
      });
      loading.started.then(() => finish(undefined), finish);
    });
  }

  private whenReadyWhen(): Promise<void> {
    const readyWhen = this.spec.readyWhen;
    if (!readyWhen || !this.alive) return Promise.resolve();
    if (readyWhen(this.ref.getSnapshot())) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const clock = this.host.clock;
      const sub = this.ref.subscribe({
        next: (snapshot) => {
          let ok = false;
          try {
            ok = readyWhen(snapshot);
          } catch (err) {
            finish(err);
            return;
          }
          if (ok) finish(undefined);
        },
        error: () => {},
      });
      const cancelExit = this.onExit((reason) =>
        finish(reason.kind === 'error' ? reason.error : new Error(`exited while starting (${reason.kind})`)),
      );
      const timer = clock.setTimeout(
        () => finish(new Error(`not ready within ${this.spec.startTimeoutMs} ms`)),
        this.spec.startTimeoutMs,
      );
      const finish = (err: unknown) => {
        sub.unsubscribe();
        cancelExit();
        clock.clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
    });
  }

  /** Queues a message and makes sure a drain turn will deliver it. */
  enqueue(message: EventObject): void {
    this.mailbox.push(message);
    this.host.schedule(this);
  }

  /**
   * Delivers up to `budget` messages to the machine, one at a time, in arrival order, and at
   * least one; stops early once the turn's `deadline` (performance.now()) has passed.
   */
  drain(budget: number, deadline: number): boolean {
    // Suspended by a hot upgrade: `resume` schedules the actor again.
    if (this.suspended) return false;
    const limit = this.spec.budget ?? budget;
    for (let i = 0; i < limit; i++) {
      if (!this.alive) return false;
      if (i > 0 && performance.now() >= deadline) break;
      const message = this.mailbox.shift();
      if (message === undefined) return false;
      this.ref.send(message);
    }
    return this.alive && this.mailbox.size > 0;
  }

  /** Records that this incarnation owes a reply for `event` (a call's key). */
  owe(event: object): void {
    this.owed ??= new Set();
    this.owed.add(event);
  }

  /** The call keyed by `event` was settled (replied, timed out). */
  forget(event: object): void {
    this.owed?.delete(event);
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    return this.exitListeners.add(listener);
  }

  shutdown(mode: Shutdown): Promise<ExitReason> {
    if (!this.alive) return Promise.resolve(this.exitReason ?? Exit.noproc);
    if (mode === 'brutal_kill') {
      this.kill(Exit.killed);
      return Promise.resolve(Exit.killed);
    }
    if (!this.spec.trapExit) {
      this.kill(Exit.shutdown);
      return Promise.resolve(Exit.shutdown);
    }
    return exitWithin(this, this.host.clock, mode, () => {
      this.shuttingDown = true;
      // Through the mailbox, behind what is already queued: a trapping actor finishes the
      // work it accepted before it sees the request to stop.
      this.enqueue({ type: SHUTDOWN_EVENT });
    });
  }

  kill(reason: ExitReason): void {
    this.exit(reason);
  }

  /**
   * @internal The logic ended by itself (an isolated actor's final state, reported by its
   * thread): read as the completion of an in-thread actor is, `shutdown` while it was asked to stop.
   */
  completed(): void {
    this.exit(this.shuttingDown ? Exit.shutdown : Exit.normal);
  }

  /**
   * The single exit path. Order matters: mark dead first (so nothing re-enters), stop the
   * XState actor, fail what the caller side still waits for, then tell the registry, the
   * bus and the listeners (supervisor, monitors).
   */
  private exit(reason: ExitReason): void {
    if (!this.alive) {
      // Start failure: XState reported the error before start() finished.
      this.exitReason ??= reason;
      this.exitListeners.fire(this.exitReason, () => {});
      return;
    }
    this.alive = false;
    this.exitReason = reason;
    const status = this.ref.getSnapshot().status;
    if (status === 'active') {
      this.stoppingRef = true;
      try {
        this.ref.stop();
      } catch {
        // stop() of a root actor does not throw; this guards a future XState change.
      }
    }
    // Links: nothing this incarnation invoked or spawned outlives it. XState stops the children
    // of an actor it stops, but not those of one that ended in `error` (or that reached a final
    // state while a spawned child ran).
    stopDescendants(this.ref);
    const host = this.host;
    const failure = new CalleeExitedError(this.name, reason);
    const owed = this.owed ? [...this.owed] : [];
    this.owed = undefined;
    for (const event of owed) pendingCallOf(event)?.settle(failure);
    const dropped = this.mailbox.drainAll();
    for (const message of dropped) host.deadLetter(this.name, message, 'down');
    host.registry.unbind(this);
    host.events.emit(isAbnormal(reason) ? 'actor.crashed' : 'actor.stopped', {
      name: this.name,
      incarnation: this.incarnation,
      reason,
      at: host.clock.now(),
    });
    this.exitListeners.fire(reason, (err) => host.reportListenerError('exit', err));
  }
}

/** A delayed event an actor scheduled for itself (an `after` delay, a delayed `raise`). */
interface CarriedTimer {
  id: string;
  event: EventObject;
  delay: number;
  /** `Date.now()` when it was scheduled: XState stamps it so, whatever clock the actor runs on. */
  startedAt: number;
}

/**
 * The delayed events `ref` has pending for itself, read from its system's scheduler snapshot
 * (`system.getSnapshot()._scheduledEvents`, typed by XState; pinned by test/upgrade.test.ts).
 * Delays towards other actors are not carried: their target is gone with the old actor's system.
 */
function pendingTimers(ref: AnyActorRef): CarriedTimer[] {
  const scheduled = ref.system.getSnapshot()._scheduledEvents;
  return Object.values(scheduled)
    .filter((e) => e.source === ref && e.target === ref)
    .map((e) => ({ id: e.id, event: e.event, delay: e.delay, startedAt: e.startedAt }));
}

/**
 * Stops every invoked or spawned actor under `ref`, deepest first. Uses `_stop`, XState's
 * internal stop of a child (public `stop()` refuses non-root actors); pinned by
 * test/links.test.ts, which fails if an XState upgrade changes it. Idempotent.
 */
function stopDescendants(ref: AnyActorRef): void {
  const children = (ref.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children;
  if (!children) return;
  for (const child of Object.values(children)) {
    if (!child) continue;
    stopDescendants(child);
    try {
      (child as unknown as { _stop?: () => void })._stop?.();
    } catch {
      // A cleanup function of user code threw while stopping; the child is stopped anyway.
    }
  }
}

/** @internal The Vigil process running `ref` (walking up from invoked children). */
export function processOf(ref: AnyActorRef | undefined): ActorProcess | undefined {
  let current: AnyActorRef | undefined = ref;
  while (current) {
    const found = processOfRef.get(current);
    if (found) return found;
    current = (current as { _parent?: AnyActorRef })._parent;
  }
  return undefined;
}

/** Wraps a start-time failure with the names of the supervisor and child. */
export function startError(supervisor: string, child: string, err: unknown): StartError {
  return err instanceof StartError ? err : new StartError(supervisor, child, coerceError(err));
}
