/**
 * A supervisor, with OTP's semantics: strategies one_for_one / one_for_all / rest_for_one,
 * restart types permanent / transient / temporary, restart intensity with escalation, ordered
 * start, shutdown in reverse order with a per-child time budget, nesting, and optional backoff.
 *
 * Everything that changes the children list runs through one queue of operations (`ops`), so
 * an exit reported while a restart or a dynamic `startChild` is in progress waits its turn:
 * the same serialisation a gen_server's mailbox gives OTP's supervisor.
 */
import { ActorProcess, startError } from './actor.js';
import type { TimerHandle } from './clock.js';
import { coerceError, DuplicateNameError, UnknownChildError } from './errors.js';
import { Exit, type ExitReason, isAbnormal } from './exit.js';
import { ExitListeners, exitWithin, type Process } from './process.js';
import type { Runtime } from './runtime.js';
import { type ChildSpec, type Shutdown, type SupervisorSpec, validateChildSpec } from './spec.js';

/** What `whichChildren` reports for one child. */
export interface ChildInfo {
  id: string;
  type: 'worker' | 'supervisor';
  restart: ChildSpec['restart'];
  /** `restarting` while a backoff delay runs. */
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

  constructor(
    private readonly runtime: Runtime,
    readonly spec: SupervisorSpec,
    readonly incarnation: number,
  ) {}

  get name(): string {
    return this.spec.id;
  }

  // ---------------------------------------------------------------------------------------
  // Start. Children start in order; if one fails, the started ones stop in reverse order and
  // the start fails with an error naming the child.

  async start(): Promise<void> {
    this.alive = true;
    this.runtime.registry.bind(this);
    // A temporary child removed in an earlier incarnation is declared again: OTP restarts a
    // supervisor from its spec, temporary children included.
    for (const spec of this.spec.children) this.runtime.ensureDeclared(spec);
    this.children = this.spec.children.map((spec) => newChild(spec));
    for (const child of this.children) {
      try {
        // Killed while starting (its parent gave up, the runtime stopped): start nothing more.
        if (!this.alive || this.stopping)
          throw new Error(`supervisor stopped while starting (${this.exitReason?.kind ?? 'shutdown'})`);
        await this.startChildProcess(child);
      } catch (err) {
        await this.terminateAll();
        this.alive = false;
        this.exitReason = Exit.error(coerceError(err));
        this.runtime.registry.unbind(this);
        throw startError(this.name, child.spec.id, err);
      }
    }
    this.runtime.events.emit('actor.started', {
      name: this.name,
      incarnation: this.incarnation,
      at: this.runtime.clock.now(),
    });
  }

  private async startChildProcess(child: Child): Promise<void> {
    const incarnation = child.incarnation + 1;
    const process: ActorProcess | Supervisor =
      child.spec.type === 'worker'
        ? new ActorProcess(this.runtime, child.spec, incarnation)
        : new Supervisor(this.runtime, child.spec, incarnation);
    child.incarnation = incarnation;
    if (process instanceof ActorProcess) {
      process.start();
      await process.whenReady();
    } else {
      await process.start();
    }
    if (!process.alive) throw new Error(`exited while starting (${process.exitReason?.kind})`);
    if (!this.alive || this.stopping) {
      // This supervisor began stopping while the child was starting (a restart waiting on
      // readyWhen): terminate() found no process to stop, so stop it here or it outlives us.
      process.kill(Exit.shutdown);
      return;
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
    await this.restartAfterFailure(child);
  }

  /** Counts a restart against the intensity, then restarts as the strategy says. */
  private async restartAfterFailure(child: Child): Promise<void> {
    if (!this.recordRestart()) {
      await this.escalate();
      return;
    }
    const index = this.children.indexOf(child);
    if (index < 0) return;
    const { strategy } = this.spec;
    if (strategy === 'one_for_one') {
      this.restartLater(child);
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
    for (const sibling of group) this.announceRestart(sibling, delayMs);
    if (delayMs === 0) {
      await this.restartGroup(group);
      return;
    }
    child.backoffTimer = this.runtime.clock.setTimeout(() => {
      child.backoffTimer = undefined;
      this.enqueue(() => this.restartGroup(group));
    }, delayMs);
  }

  /** Starts, in order, the members of `group` that are still children and not running. */
  private async restartGroup(group: Child[]): Promise<void> {
    for (const sibling of group) {
      if (!this.alive || this.stopping) return;
      if (this.children.includes(sibling) && !sibling.process) {
        const ok = await this.tryRestart(sibling);
        if (!ok) return;
      }
    }
  }

  private announceRestart(child: Child, delayMs: number): void {
    this.runtime.events.emit('actor.restarted', {
      name: child.spec.id,
      supervisor: this.name,
      restartCount: this.restarts.length,
      delayMs,
      at: this.runtime.clock.now(),
    });
  }

  /** Restarts `child` now, or after its backoff delay. */
  private restartLater(child: Child): void {
    const delayMs = backoffDelay(child);
    this.announceRestart(child, delayMs);
    if (delayMs === 0) {
      void this.tryRestart(child);
      return;
    }
    child.backoffTimer = this.runtime.clock.setTimeout(() => {
      child.backoffTimer = undefined;
      this.enqueue(async () => {
        if (this.alive && !this.stopping && this.children.includes(child) && !child.process) {
          await this.tryRestart(child);
        }
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
      this.runtime.events.emit('actor.crashed', {
        name: child.spec.id,
        incarnation: child.incarnation,
        reason: Exit.error(coerceError(err)),
        at: this.runtime.clock.now(),
      });
      child.failures++;
      this.enqueue(() => this.restartAfterFailure(child));
      return false;
    }
  }

  /** Records a restart now; false when more than `maxRestarts` fall within `withinMs`. */
  private recordRestart(): boolean {
    const now = this.monotonic();
    this.restarts = this.restarts.filter((t) => now - t < this.spec.withinMs);
    this.restarts.push(now);
    return this.restarts.length <= this.spec.maxRestarts;
  }

  private async escalate(): Promise<void> {
    this.runtime.events.emit('supervisor.escalated', {
      name: this.name,
      restarts: this.restarts.length,
      withinMs: this.spec.withinMs,
      at: this.runtime.clock.now(),
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
    this.stopping = true;
    return exitWithin(this, this.runtime.clock, mode, () => {
      void this.terminateAll().then(() => this.finish(Exit.shutdown));
    });
  }

  /** Stops every child at once (reverse order, `killed`) and exits with `reason`. */
  kill(reason: ExitReason): void {
    if (!this.alive) return;
    this.stopping = true;
    for (const child of [...this.children].reverse()) {
      this.cancelBackoff(child);
      const process = child.process;
      child.process = undefined;
      process?.kill(Exit.killed);
    }
    this.finish(reason);
  }

  private async terminateAll(): Promise<void> {
    for (const child of [...this.children].reverse()) await this.terminate(child);
  }

  /** Stops one child on purpose; its exit is then not treated as a failure. */
  private async terminate(child: Child): Promise<void> {
    this.cancelBackoff(child);
    const process = child.process;
    if (!process) return;
    child.process = undefined;
    await process.shutdown(child.spec.shutdown);
  }

  private cancelBackoff(child: Child): void {
    if (child.backoffTimer !== undefined) this.runtime.clock.clearTimeout(child.backoffTimer);
    child.backoffTimer = undefined;
  }

  private finish(reason: ExitReason): void {
    if (!this.alive) return;
    this.alive = false;
    this.exitReason = reason;
    for (const child of this.children) if (child.dynamic) this.runtime.undeclare(child.spec);
    this.runtime.registry.unbind(this);
    this.runtime.events.emit(isAbnormal(reason) ? 'actor.crashed' : 'actor.stopped', {
      name: this.name,
      incarnation: this.incarnation,
      reason,
      at: this.runtime.clock.now(),
    });
    this.exitListeners.fire(reason, (err) => this.runtime.reportListenerError('exit', err));
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    return this.exitListeners.add(listener);
  }

  // ---------------------------------------------------------------------------------------
  // Dynamic children.

  /** Adds and starts a child; rejects with a typed error (and changes nothing) if it cannot. */
  startChild(spec: ChildSpec): Promise<void> {
    return this.enqueue(async () => {
      const valid = validateChildSpec(spec);
      if (this.children.some((c) => c.spec.id === valid.id)) throw new DuplicateNameError(valid.id);
      this.runtime.declare(valid);
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

  /** Stops a child and keeps its spec (a temporary child's spec is removed, as in OTP). */
  terminateChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      const child = this.find(id);
      await this.terminate(child);
      if (child.spec.restart === 'temporary') this.remove(child);
    }, true);
  }

  /** Starts again a child that is stopped. */
  restartChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      const child = this.find(id);
      if (child.process) return;
      this.cancelBackoff(child);
      try {
        await this.startChildProcess(child);
      } catch (err) {
        throw startError(this.name, id, err);
      }
    }, true);
  }

  /** Stops (if running) and removes a child and its spec; its names become undeclared. */
  deleteChild(id: string): Promise<void> {
    return this.enqueue(async () => {
      const child = this.find(id);
      await this.terminate(child);
      this.remove(child);
    }, true);
  }

  /** The children in start order with their status. */
  whichChildren(): ChildInfo[] {
    return this.children.map((c) => ({
      id: c.spec.id,
      type: c.spec.type,
      restart: c.spec.restart,
      status: c.process ? 'running' : c.backoffTimer !== undefined ? 'restarting' : 'stopped',
      incarnation: c.incarnation,
    }));
  }

  /** @internal The live process of child `id`, if running (for the tree view). */
  childProcess(id: string): Process | undefined {
    return this.children.find((c) => c.spec.id === id)?.process;
  }

  private find(id: string): Child {
    const child = this.children.find((c) => c.spec.id === id);
    if (!child) throw new UnknownChildError(this.name, id);
    return child;
  }

  private remove(child: Child): void {
    this.cancelBackoff(child);
    this.children = this.children.filter((c) => c !== child);
    this.runtime.undeclare(child.spec);
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
    const clock = this.runtime.clock;
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
