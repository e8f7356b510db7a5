/**
 * A supervisor, with OTP's semantics: strategies one_for_one / one_for_all / rest_for_one,
 * restart types permanent / transient / temporary, restart intensity with escalation, ordered
 * start, shutdown in reverse order with a per-child time budget, nesting, and optional backoff.
 *
 * Every operation runs through one queue (`ops`), in arrival order: a child's exit and the
 * restart it causes (with or without backoff), `startChild`, `terminateChild`, `restartChild`,
 * `deleteChild` and the shutdown. An exit or a request that arrives while a restart waits for
 * `readyWhen` waits its turn: the serialisation a gen_server's mailbox gives OTP's supervisor.
 * Only a kill (the parent's shutdown timeout, `brutal_kill`) acts at once, and it acts on
 * everything this supervisor started.
 *
 * Invariants:
 * - each child has at most one live incarnation: a restart starts only a child with no process,
 *   and only from inside the queue;
 * - links: `live` holds every process this supervisor started (running, starting, or being
 *   stopped) until it exits; this supervisor reports its own exit only once `live` is empty, so
 *   nothing it started outlives it, whatever the reason it exits with.
 */
import { ActorProcess, startError } from './actor.js';
import type { TimerHandle } from './clock.js';
import {
  ActorDownError,
  AlreadyRunningError,
  coerceError,
  DuplicateNameError,
  UnknownChildError,
} from './errors.js';
import { Exit, type ExitReason, isAbnormal } from './exit.js';
import type { RuntimeHost } from './host.js';
import { ExitListeners, exitWithin, type Process } from './process.js';
import {
  type ChildSpec,
  type Shutdown,
  type SupervisorSpec,
  validateChildSpec,
  type WorkerSpec,
} from './spec.js';

/** What `whichChildren` reports for one child. */
export interface ChildInfo {
  id: string;
  type: 'worker' | 'supervisor';
  restart: ChildSpec['restart'];
  /**
   * `restarting` from the exit that calls for a restart until the new incarnation is up: during
   * a backoff delay, or between a failed restart attempt and the next.
   */
  status: 'running' | 'restarting' | 'stopped';
  incarnation: number;
}

interface Child {
  spec: ChildSpec;
  /** Added by startChild: forgotten (and its names undeclared) when this supervisor exits. */
  dynamic: boolean;
  process: Process | undefined;
  incarnation: number;
  /** Consecutive failures, for backoff; reset once the child stays up for `withinMs`. */
  failures: number;
  startedAt: number;
  backoffTimer: TimerHandle | undefined;
  /** Who `backoffTimer` restarts: this child alone, or its one_for_all / rest_for_one group. */
  backoffGroup: Child[] | undefined;
  /** A restart is owed (backoff delay, or a failed attempt to be tried again). */
  pendingRestart: boolean;
}

/** Reason a supervisor exits with when its restart intensity is exceeded (as OTP). */
export const INTENSITY_EXIT: ExitReason = Object.freeze({
  kind: 'shutdown',
  detail: 'reached_max_restart_intensity',
});

export class Supervisor implements Process {
  readonly kind = 'supervisor' as const;
  alive = false;
  exitReason: ExitReason | undefined;
  private children: Child[] = [];
  private restarts: number[] = [];
  private ops: Promise<void> = Promise.resolve();
  private readonly exitListeners = new ExitListeners();
  private stopping = false;
  /** Every process started by this supervisor that has not exited yet (see the header). */
  private readonly live = new Set<Process>();
  /** The incarnation whose start is in progress, if any (stopped at once by a shutdown). */
  private starting: Process | undefined;

  constructor(
    private readonly host: RuntimeHost,
    readonly spec: SupervisorSpec,
    readonly incarnation: number,
  ) {}

  get name(): string {
    return this.spec.id;
  }

  // ---------------------------------------------------------------------------------------
  // Start. Children start in order; if one fails, the started ones stop in reverse order and
  // the start fails with an error naming the child.

  /** Starts this supervisor's children, as the first operation of its queue. */
  start(): Promise<void> {
    // Alive at once, not when the queued start runs: a shutdown or kill that comes before it
    // must find a live supervisor to stop, or the start would run after it.
    this.alive = true;
    return this.enqueue(() => this.init(), true);
  }

  private async init(): Promise<void> {
    if (!this.alive) throw new Error(`stopped before it started (${this.exitReason?.kind ?? 'shutdown'})`);
    this.host.registry.bind(this);
    // A temporary child removed in an earlier incarnation is declared again: OTP restarts a
    // supervisor from its spec, temporary children included.
    for (const spec of this.spec.children) this.host.ensureDeclared(spec);
    this.children = this.spec.children.map((spec) => newChild(spec));
    for (const child of this.children) {
      try {
        // Killed while starting (its parent gave up, the runtime stopped): start nothing more.
        if (!this.alive || this.stopping)
          throw new Error(`supervisor stopped while starting (${this.exitReason?.kind ?? 'shutdown'})`);
        await this.startChildProcess(child);
      } catch (err) {
        await this.terminateAll();
        if (this.alive) {
          // Not killed meanwhile (a kill already reported the exit): the start failed.
          this.alive = false;
          this.exitReason = Exit.error(coerceError(err));
          this.host.registry.unbind(this);
          this.exitListeners.fire(this.exitReason, (e) => this.host.reportListenerError('exit', e));
        }
        throw startError(this.name, child.spec.id, err);
      }
    }
    this.host.events.emit('actor.started', {
      name: this.name,
      incarnation: this.incarnation,
      at: this.host.clock.now(),
    });
  }

  private async startChildProcess(child: Child): Promise<void> {
    const incarnation = child.incarnation + 1;
    const process: ActorProcess | Supervisor =
      child.spec.type === 'worker'
        ? new ActorProcess(this.host, child.spec, incarnation)
        : new Supervisor(this.host, child.spec, incarnation);
    child.incarnation = incarnation;
    child.pendingRestart = false;
    this.live.add(process);
    process.onExit(() => this.live.delete(process));
    this.starting = process;
    try {
      if (process instanceof ActorProcess) {
        process.start();
        await process.whenReady();
      } else {
        await process.start();
      }
    } catch (err) {
      // A start that failed half-way may leave the process alive (readyWhen timed out or
      // threw): it exits with the failure, which it reports as a crash.
      if (process.alive) process.kill(Exit.error(coerceError(err)));
      this.live.delete(process);
      throw err;
    } finally {
      this.starting = undefined;
    }
    if (!process.alive) throw new Error(`exited while starting (${process.exitReason?.kind})`);
    if (!this.alive || this.stopping) {
      // Belt and braces: a shutdown stops the starting process, so this is not reached today;
      // a child must never run unsupervised.
      process.kill(Exit.shutdown);
      throw new Error('supervisor stopped while the child was starting');
    }
    child.process = process;
    child.startedAt = this.monotonic();
    process.onExit((reason) => this.enqueue(() => this.childExited(child, process, reason)));
  }

  // ---------------------------------------------------------------------------------------
  // Restart. A child has exited.

  private async childExited(child: Child, process: Process, reason: ExitReason): Promise<void> {
    // Exits we caused (shutdown, a sibling restart, terminateChild) cleared child.process
    // before stopping it; they and exits of older incarnations are not news.
    if (!this.alive || this.stopping || child.process !== process) return;
    child.process = undefined;
    const { restart } = child.spec;
    if (restart === 'temporary') {
      this.remove(child);
      return;
    }
    if (restart === 'transient' && !isAbnormal(reason)) return;
    if (this.monotonic() - child.startedAt >= this.spec.withinMs) child.failures = 0;
    child.failures++;
    child.pendingRestart = true;
    await this.restartAfterFailure(child);
  }

  /** Counts a restart against the intensity, then restarts as the strategy says. */
  private async restartAfterFailure(child: Child): Promise<void> {
    // An administrative operation that ran since (terminateChild, deleteChild, restartChild)
    // settled the child: the owed restart is cancelled, as OTP's try_again_restart finds no
    // child in the restarting state.
    if (!this.alive || this.stopping || !child.pendingRestart || child.process) return;
    if (!this.recordRestart()) {
      await this.escalate();
      return;
    }
    const index = this.children.indexOf(child);
    if (index < 0) return;
    const { strategy } = this.spec;
    if (strategy === 'one_for_one') {
      await this.restartLater(child);
      return;
    }
    // one_for_all: every sibling; rest_for_one: the siblings started after the failed child.
    const affected = strategy === 'one_for_all' ? [...this.children] : this.children.slice(index);
    for (const sibling of [...affected].reverse()) {
      if (sibling !== child) await this.terminate(sibling);
    }
    // Temporary siblings stopped on the way are never restarted (OTP removes them).
    for (const sibling of affected)
      if (sibling.spec.restart === 'temporary' && sibling !== child) this.remove(sibling);
    const group = affected.filter((sibling) => this.children.includes(sibling));
    // The failed child's backoff delays the whole group: its siblings restart with it, in order.
    const delayMs = backoffDelay(child);
    for (const sibling of group) {
      sibling.pendingRestart = true;
      this.announceRestart(sibling, delayMs);
    }
    if (delayMs === 0) {
      await this.restartGroup(group);
      return;
    }
    child.backoffGroup = group;
    child.backoffTimer = this.host.clock.setTimeout(() => {
      child.backoffTimer = undefined;
      child.backoffGroup = undefined;
      this.enqueue(() => this.restartGroup(group));
    }, delayMs);
  }

  /** Starts, in order, the members of `group` that are still owed a restart. */
  private async restartGroup(group: Child[]): Promise<void> {
    for (const sibling of group) {
      if (!this.alive || this.stopping) return;
      if (this.children.includes(sibling) && sibling.pendingRestart && !sibling.process) {
        const ok = await this.tryRestart(sibling);
        if (!ok) return;
      }
    }
  }

  private announceRestart(child: Child, delayMs: number): void {
    this.host.events.emit('actor.restarted', {
      name: child.spec.id,
      supervisor: this.name,
      restartCount: this.restarts.length,
      delayMs,
      at: this.host.clock.now(),
    });
  }

  /**
   * Restarts `child` now, inside the current operation (so nothing runs between the exit and
   * the new incarnation being up), or queues the restart after its backoff delay.
   */
  private async restartLater(child: Child): Promise<void> {
    const delayMs = backoffDelay(child);
    this.announceRestart(child, delayMs);
    if (delayMs === 0) {
      await this.tryRestart(child);
      return;
    }
    child.backoffGroup = [child];
    child.backoffTimer = this.host.clock.setTimeout(() => {
      child.backoffTimer = undefined;
      child.backoffGroup = undefined;
      this.enqueue(async () => {
        if (!this.alive || this.stopping || !this.children.includes(child)) return;
        if (child.pendingRestart && !child.process) await this.tryRestart(child);
      });
    }, delayMs);
  }

  /**
   * Starts `child` again. A restart that fails counts as another failure of the child: it is
   * retried until the intensity is exceeded, as OTP does (a child that cannot start brings the
   * supervisor down instead of looping forever).
   */
  private async tryRestart(child: Child): Promise<boolean> {
    try {
      await this.startChildProcess(child);
      return true;
    } catch (err) {
      // Abandoned by a shutdown: not a failure of the child.
      if (!this.alive || this.stopping) return false;
      // A worker reported its own crash when it exited; a supervisor that failed to start
      // reports nothing itself, so the crash is reported here (once either way).
      if (child.spec.type === 'supervisor') {
        this.host.events.emit('actor.crashed', {
          name: child.spec.id,
          incarnation: child.incarnation,
          reason: Exit.error(coerceError(err)),
          at: this.host.clock.now(),
        });
      }
      child.failures++;
      // Tried again behind what is queued now (OTP's try_again_restart message to itself), so
      // a child that cannot start does not lock out terminateChild or deleteChild.
      child.pendingRestart = true;
      this.enqueue(() => this.restartAfterFailure(child));
      return false;
    }
  }

  /**
   * Records a restart now; false when more than `maxRestarts` fall within `withinMs`. The window
   * is closed at both ends, as OTP's `add_restart` (`R >= Now - Period`): a restart exactly
   * `withinMs` old still counts.
   */
  private recordRestart(): boolean {
    const now = this.monotonic();
    this.restarts = this.restarts.filter((t) => now - t <= this.spec.withinMs);
    this.restarts.push(now);
    return this.restarts.length <= this.spec.maxRestarts;
  }

  private async escalate(): Promise<void> {
    this.host.events.emit('supervisor.escalated', {
      name: this.name,
      restarts: this.restarts.length,
      withinMs: this.spec.withinMs,
      at: this.host.clock.now(),
    });
    this.stopping = true;
    await this.terminateAll();
    this.finish(INTENSITY_EXIT);
  }

  // ---------------------------------------------------------------------------------------
  // Shutdown. Children stop in reverse start order, each within its own time budget.

  shutdown(mode: Shutdown): Promise<ExitReason> {
    if (!this.alive) return Promise.resolve(this.exitReason ?? Exit.noproc);
    if (mode === 'brutal_kill') {
      this.kill(Exit.killed);
      return Promise.resolve(Exit.killed);
    }
    // From now on no operation starts anything; a start in progress (a restart waiting for
    // readyWhen) is abandoned at once rather than waited for, so a shutdown is never held up by
    // startTimeoutMs. The stopping itself is queued behind the operation in progress.
    this.stopping = true;
    for (const child of this.children) this.cancelBackoff(child);
    this.starting?.kill(Exit.shutdown);
    return exitWithin(this, this.host.clock, mode, () => {
      this.enqueue(async () => {
        await this.terminateAll();
        this.finish(Exit.shutdown);
      });
    });
  }

  /**
   * Stops everything this supervisor started at once (reverse start order, `killed`), including
   * a child it is stopping gracefully or starting, then exits with `reason`.
   */
  kill(reason: ExitReason): void {
    if (!this.alive) return;
    this.stopping = true;
    for (const child of this.children) this.cancelBackoff(child);
    this.finish(reason);
  }

  private async terminateAll(): Promise<void> {
    for (const child of [...this.children].reverse()) await this.terminate(child);
  }

  /** Stops one child on purpose (and any restart it owns); its exit is not a failure. */
  private async terminate(child: Child): Promise<void> {
    this.cancelBackoff(child);
    await this.stopProcess(child);
  }

  private async stopProcess(child: Child): Promise<void> {
    const process = child.process;
    if (!process) return;
    child.process = undefined;
    await process.shutdown(child.spec.shutdown);
  }

  private cancelBackoff(child: Child): void {
    if (child.backoffTimer !== undefined) this.host.clock.clearTimeout(child.backoffTimer);
    child.backoffTimer = undefined;
    child.backoffGroup = undefined;
  }

  /**
   * Cancels the restart owed to `child` alone (administration). A group's delay that `child`
   * owns still restarts the rest of its group; the timer is cleared once nobody is owed one.
   */
  private cancelRestart(child: Child): void {
    child.pendingRestart = false;
    for (const owner of this.children) {
      const group = owner.backoffGroup;
      if (group?.includes(child) && !group.some((m) => m.pendingRestart)) this.cancelBackoff(owner);
    }
  }

  /**
   * The single exit path. Whatever is still alive in `live` (a child that would not stop, one
   * still starting) is killed first: a supervisor's exit is reported only once its whole
   * subtree is down, and a killed supervisor's children are not orphaned.
   */
  private finish(reason: ExitReason): void {
    if (!this.alive) return;
    this.alive = false;
    this.stopping = true;
    for (const process of [...this.live].reverse()) process.kill(Exit.killed);
    for (const child of this.children) {
      this.cancelBackoff(child);
      child.process = undefined;
      child.pendingRestart = false;
    }
    this.exitReason = reason;
    for (const child of this.children) if (child.dynamic) this.host.undeclare(child.spec);
    this.host.registry.unbind(this);
    this.host.events.emit(isAbnormal(reason) ? 'actor.crashed' : 'actor.stopped', {
      name: this.name,
      incarnation: this.incarnation,
      reason,
      at: this.host.clock.now(),
    });
    this.exitListeners.fire(reason, (err) => this.host.reportListenerError('exit', err));
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    return this.exitListeners.add(listener);
  }

  // ---------------------------------------------------------------------------------------
  // Dynamic children.

  /** Adds and starts a child; rejects with a typed error (and changes nothing) if it cannot. */
  startChild(spec: ChildSpec): Promise<void> {
    return this.enqueue(async () => {
      this.assertRunning();
      const valid = validateChildSpec(spec);
      if (this.children.some((c) => c.spec.id === valid.id)) throw new DuplicateNameError(valid.id);
      this.host.declare(valid);
      const child = newChild(valid, true);
      this.children.push(child);
      try {
        await this.startChildProcess(child);
      } catch (err) {
        this.remove(child);
        throw startError(this.name, valid.id, err);
      }
    }, true);
  }

  /**
   * Stops a child and keeps its spec (a temporary child's spec is removed, as in OTP). A child
   * waiting to be restarted stays stopped: its pending restart is cancelled.
   */
  terminateChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertRunning();
      const child = this.find(id);
      this.cancelRestart(child);
      await this.stopProcess(child);
      if (child.spec.restart === 'temporary') this.remove(child);
    }, true);
  }

  /**
   * Starts again a child that is stopped, or now one waiting out a backoff delay. A running
   * child is refused with `AlreadyRunningError` (OTP's `{error, running}`).
   */
  restartChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertRunning();
      const child = this.find(id);
      if (child.process) throw new AlreadyRunningError(this.name, id, 'restartChild');
      this.cancelRestart(child);
      try {
        await this.startChildProcess(child);
      } catch (err) {
        throw startError(this.name, id, err);
      }
    }, true);
  }

  /**
   * Removes a stopped child and its spec; its names become undeclared. A running child is
   * refused with `AlreadyRunningError`, as OTP refuses with `{error, running}`: call
   * `terminateChild` first. A child waiting to be restarted is not running: it is removed and
   * its restart cancelled.
   */
  deleteChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertRunning();
      const child = this.find(id);
      if (child.process) throw new AlreadyRunningError(this.name, id, 'deleteChild');
      this.remove(child);
    }, true);
  }

  /**
   * @internal Hot upgrade of worker `id` (runtime.upgrade), in this supervisor's queue so no
   * restart interleaves. `upgrade` replaces the running logic; on success the child's spec
   * becomes `spec`, so every later restart starts the new logic.
   */
  upgradeChild<T>(
    id: string,
    spec: WorkerSpec,
    upgrade: (process: ActorProcess, spec: WorkerSpec) => Promise<T>,
  ): Promise<T> {
    let result!: T;
    return this.enqueue(async () => {
      this.assertRunning();
      const child = this.find(id);
      const process = child.process;
      if (!(process instanceof ActorProcess) || !process.alive) throw new ActorDownError(id);
      result = await upgrade(process, spec);
      child.spec = spec;
    }, true).then(() => result);
  }

  /** @internal The live supervisor (this one or one below it) that has a child named `name`. */
  supervisorOf(name: string): Supervisor | undefined {
    if (this.children.some((c) => c.spec.id === name)) return this;
    for (const child of this.children) {
      if (child.process instanceof Supervisor && child.process.alive) {
        const found = child.process.supervisorOf(name);
        if (found) return found;
      }
    }
    return undefined;
  }

  /** The children in start order with their status. */
  whichChildren(): ChildInfo[] {
    return this.children.map((c) => ({
      id: c.spec.id,
      type: c.spec.type,
      restart: c.spec.restart,
      status: c.process ? 'running' : c.pendingRestart ? 'restarting' : 'stopped',
      incarnation: c.incarnation,
    }));
  }

  /** @internal The live process of child `id`, if running (for the tree view). */
  childProcess(id: string): Process | undefined {
    return this.children.find((c) => c.spec.id === id)?.process;
  }

  /** An operation that reaches the front of the queue after this supervisor began stopping. */
  private assertRunning(): void {
    if (!this.alive || this.stopping) throw new ActorDownError(this.name);
  }

  private find(id: string): Child {
    const child = this.children.find((c) => c.spec.id === id);
    if (!child) throw new UnknownChildError(this.name, id);
    return child;
  }

  private remove(child: Child): void {
    this.cancelRestart(child);
    this.children = this.children.filter((c) => c !== child);
    // A supervisor that has exited already forgot its dynamic children; a newer incarnation
    // (or another supervisor) may have declared the name again since.
    if (this.alive) this.host.undeclare(child.spec);
  }

  /**
   * Runs `op` after every operation queued before it. With `propagate`, the caller gets the
   * op's error; otherwise an internal failure takes the supervisor down with that error
   * (it must not be swallowed: a supervisor in an unknown state supervises nothing).
   */
  private enqueue(op: () => Promise<void> | void, propagate = false): Promise<void> {
    const result = this.ops.then(op);
    this.ops = result.catch((err) => {
      if (!propagate) this.kill(Exit.error(coerceError(err)));
    });
    return result;
  }

  private monotonic(): number {
    const clock = this.host.clock;
    return clock.monotonic ? clock.monotonic() : clock.now();
  }
}

function newChild(spec: ChildSpec, dynamic = false): Child {
  return {
    spec,
    dynamic,
    process: undefined,
    incarnation: 0,
    failures: 0,
    startedAt: 0,
    backoffTimer: undefined,
    backoffGroup: undefined,
    pendingRestart: false,
  };
}

/** `minMs * factor^(n-1)` for the n-th consecutive failure, capped at `maxMs`; 0 without backoff. */
function backoffDelay(child: Child): number {
  const backoff = child.spec.type === 'worker' ? child.spec.backoff : undefined;
  if (!backoff) return 0;
  return Math.min(backoff.maxMs, backoff.minMs * backoff.factor ** Math.max(0, child.failures - 1));
}

/** Every name a spec declares (itself and, for a supervisor, its whole subtree). */
export function namesOf(spec: ChildSpec): { name: string; kind: 'worker' | 'supervisor' }[] {
  if (spec.type === 'worker') return [{ name: spec.id, kind: 'worker' }];
  return [{ name: spec.id, kind: 'supervisor' }, ...spec.children.flatMap(namesOf)];
}
