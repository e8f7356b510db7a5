/**
 * The runtime: one supervision tree, one registry of names, one drain loop, one event bus.
 * Senders address actors by name; `send` never throws at the sender for anything the
 * receiver does, and `call` turns every failure into a typed rejection.
 *
 * The public class is what users call. Actors and supervisors get a `RuntimeHost` (host.ts)
 * instead of the Runtime: the registry, the drain loop and declare/undeclare are reachable only
 * through it, and actor.ts / supervisor.ts need no import of this file (no import cycle).
 */
import type { AnyActorLogic, EventObject, Snapshot } from 'xstate';
import { ActorProcess } from './actor.js';
import { openCall } from './call.js';
import { type Clock, systemClock } from './clock.js';
import {
  ActorDownError,
  coerceError,
  describeValue,
  InvalidMessageError,
  InvalidRuntimeOptionError,
  NotASupervisorError,
  RuntimeStoppedError,
  UnknownActorError,
  UpgradeFailedError,
} from './errors.js';
import { EventBus } from './events.js';
import { Exit, type ExitReason } from './exit.js';
import type { RuntimeHost } from './host.js';
import { type ThreadPool, type ThreadPoolOptions, threadPool } from './isolation/pool.js';
import { assertMessage } from './message.js';
import type { Process } from './process.js';
import { Registry } from './registry.js';
import { Scheduler } from './scheduler.js';
import {
  type ChildSpec,
  isValidName,
  type StartContext,
  type SupervisorOptions,
  supervisor,
  validateChildSpec,
  type WorkerSpec,
} from './spec.js';
import { type ChildInfo, namesOf, Supervisor } from './supervisor.js';
import { loadLogic, type UpgradeOptions, type UpgradeResult, upgradeProcess } from './upgrade.js';

/** Options of `createRuntime`. */
export interface RuntimeOptions {
  /** Time source for timers, timeouts and events; inject a `ManualClock` in tests. */
  clock?: Clock;
  /** Messages an actor may handle per drain turn before others get theirs (default 64). */
  budget?: number;
  /**
   * Longest a drain turn runs, in ms, before it yields to timers and I/O (default 5): many
   * quick messages cannot hold the event loop much longer than this, whatever `budget` is.
   */
  turnMs?: number;
  /** Default `call` timeout in ms (default 5000). */
  callTimeoutMs?: number;
  /** Name of the root supervisor (default 'root'). */
  rootName?: string;
  /**
   * The pool that runs `worker(..., { isolation: 'thread' })` actors: options of the runtime's
   * own pool (started with the first such actor, closed when the runtime stops; default 2
   * threads, Node's heap limit), or a `ThreadPool` you made and close yourself.
   */
  threadPool?: ThreadPoolOptions | ThreadPool;
}

/** Options of `call`. */
export interface CallOptions {
  /** Reject with `CallTimeoutError` after this many ms (default: the runtime's `callTimeoutMs`). */
  timeoutMs?: number;
}

/** A message: a plain object with a string `type`, as XState events are. */
export type Message = EventObject & Record<string, unknown>;

/** What a monitor hears when the monitored incarnation exits. */
export interface Down {
  name: string;
  incarnation: number;
  reason: ExitReason;
}

/** The message a watcher actor receives when a monitored actor goes down. */
export interface DownMessage extends Down {
  type: 'vigil.down';
}

/** A node of the supervision tree, for inspection and printing. */
export interface TreeNode {
  name: string;
  kind: 'worker' | 'supervisor';
  status: 'running' | 'restarting' | 'stopped';
  incarnation: number;
  restart?: string;
  strategy?: string;
  children?: TreeNode[];
}

/** Lifecycle of a runtime. */
export type RuntimeState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * A Vigil runtime. Create it with `createRuntime`, start it with the root's children.
 *
 * @example
 * const runtime = createRuntime();
 * await runtime.start([worker('Counter', counterMachine)]);
 * runtime.send('Counter', { type: 'INC' });
 * const n = await runtime.call<number>('Counter', { type: 'GET' });
 * await runtime.stop();
 */
export class Runtime {
  /** The telemetry bus: actor, supervisor, dead-letter and (from other packages) alarm events. */
  readonly events = new EventBus();
  /** The clock everything in this runtime reads. */
  readonly clock: Clock;
  /** Resolves with the root's exit reason once the runtime has stopped. */
  readonly stopped: Promise<ExitReason>;
  private readonly registry = new Registry();
  private readonly scheduler: Scheduler;
  /** What actors and supervisors see of this runtime (see host.ts). */
  private readonly host: RuntimeHost;
  private readonly callTimeoutMs: number;
  private readonly rootName: string;
  private root: Supervisor | undefined;
  private stateValue: RuntimeState = 'idle';
  private stopPromise: Promise<void> | undefined;
  private resolveStopped!: (reason: ExitReason) => void;
  private readonly running: Promise<void>;
  private settleRunning!: (error?: Error) => void;
  private deadLetterCount = 0;
  /** Options of the runtime's own pool, or the pool it was given. */
  private readonly poolOption: ThreadPoolOptions | ThreadPool;
  /** The runtime's own pool, once an isolated worker needed it (closed by `stop`). */
  private ownPool: ThreadPool | undefined;

  constructor(options: RuntimeOptions = {}) {
    checkRuntimeOptions(options);
    this.clock = options.clock ?? systemClock;
    const turnMs = options.turnMs ?? 5;
    if (typeof turnMs !== 'number' || !(turnMs > 0))
      throw new InvalidRuntimeOptionError('turnMs', 'must be a number of milliseconds above 0');
    this.scheduler = new Scheduler(options.budget ?? 64, turnMs);
    this.host = this.createHost();
    this.callTimeoutMs = options.callTimeoutMs ?? 5000;
    this.rootName = options.rootName ?? 'root';
    this.poolOption = options.threadPool ?? {};
    if (!isPool(this.poolOption)) checkPoolOptions(this.poolOption);
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    this.running = new Promise((resolve, reject) => {
      let settled = false;
      this.settleRunning = (error) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve();
      };
    });
    // Nobody may be waiting: a start that fails must not become an unhandled rejection.
    this.running.catch(() => {});
  }

  /**
   * Resolves once the runtime is `running` (at once if it is). Rejects with
   * `RuntimeStoppedError` if it stops or fails to start first, with the start error as `cause`.
   * A service that must wait for the whole tree to be up (e.g. before its first delivery)
   * awaits this rather than polling `state`; the bus also carries `runtime.started`.
   *
   * @example
   * void runtime.start(children);
   * await runtime.whenRunning();
   */
  whenRunning(): Promise<void> {
    return this.running;
  }

  /** Where the runtime is in its life. */
  get state(): RuntimeState {
    return this.stateValue;
  }

  /** Messages dropped so far because their receiver was not there. */
  get deadLetters(): number {
    return this.deadLetterCount;
  }

  /**
   * Starts the root supervisor with `children`, in order. Rejects with a `StartError` naming
   * the child that failed (the ones started before it are stopped again, in reverse order).
   */
  async start(children: ChildSpec[], options: SupervisorOptions = {}): Promise<void> {
    if (this.stateValue !== 'idle') throw new RuntimeStoppedError('start twice');
    const spec = supervisor(this.rootName, children, options);
    this.declare(spec);
    const root = new Supervisor(this.host, spec, 1);
    // Known before it is up, so a stop() during the start stops what has started so far.
    this.root = root;
    this.stateValue = 'starting';
    try {
      await root.start();
    } catch (err) {
      this.undeclare(spec);
      this.settleRunning(new RuntimeStoppedError('reach running: the start failed', { cause: err }));
      if (this.stateValue === 'starting') {
        this.stateValue = 'stopped';
        this.resolveStopped(Exit.error(coerceError(err)));
      }
      throw err;
    }
    this.stateValue = 'running';
    this.settleRunning();
    this.events.emit('runtime.started', { at: this.clock.now() });
    root.onExit((reason) => {
      if (this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
      // The root gave up (restart intensity exceeded): nothing is supervised any more.
      this.events.emit('runtime.fatal', { reason, at: this.clock.now() });
      void this.finishStop(reason);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Messaging.

  /**
   * Queues `message` for the actor registered as `name` and returns at once. The receiver runs
   * later, never on the sender's stack. If the name is unknown or down the message becomes a
   * dead letter (counted, and emitted as `deadLetter`); nothing is thrown at the sender. Only a
   * message that is not a `{ type: string }` object, or whose type is reserved (`xstate.*`,
   * `vigil.*`: see `isReservedType`), is refused, with `InvalidMessageError`; so is one to an
   * isolated actor that cannot be structured-cloned (a function, a class with private state...).
   */
  send(name: string, message: EventObject | Message): void {
    assertMessage(message);
    const target = this.liveWorker(name);
    if (target) target.enqueue(target.admit(message));
    else this.deadLetter(name, message, this.whyNot(name));
  }

  /** Sends without the public check: the runtime's own protocol messages (`vigil.down`). */
  private deliver(name: string, message: EventObject): void {
    const target = this.liveWorker(name);
    if (target) target.enqueue(message);
    else this.deadLetter(name, message, this.whyNot(name));
  }

  /** Same as `send` (OTP's name for it). */
  cast(name: string, message: EventObject | Message): void {
    this.send(name, message);
  }

  /**
   * Sends `message` and waits for the callee's `reply(event, value)`. Rejects with
   * `UnknownActorError`, `ActorDownError`, `CallTimeoutError`, `CalleeExitedError`, whatever the
   * callee passed to `replyError`, or `InvalidMessageError`. Never throws synchronously.
   */
  call<T = unknown>(name: string, message: EventObject | Message, options: CallOptions = {}): Promise<T> {
    try {
      assertMessage(message);
      if (this.stateValue !== 'running') throw new RuntimeStoppedError(`call '${describeValue(name)}'`);
      const target = this.liveWorker(name);
      if (!target) {
        throw this.registry.isDeclared(name)
          ? new ActorDownError(name)
          : new UnknownActorError(describeValue(name));
      }
      // Untyped callers may pass null (as the fuzz tests do): no options, not a TypeError.
      if (options !== null && options !== undefined && typeof options !== 'object') {
        throw new InvalidMessageError(`call options must be an object, got ${typeof options}`);
      }
      const timeoutMs = options?.timeoutMs ?? this.callTimeoutMs;
      if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
        throw new InvalidMessageError(
          `timeoutMs must be a non-negative number, got ${describeValue(timeoutMs)}`,
        );
      }
      // A fresh object per call: it is the correlation key, even if the caller reuses `message`.
      // An isolated actor's is a structured clone (refused here when it cannot be cloned).
      const event = target.isolated ? target.admit(message) : { ...message };
      const { promise } = openCall(event, name, message.type, timeoutMs, this.clock, () =>
        target.forget(event),
      );
      target.owe(event);
      target.enqueue(event);
      return promise as Promise<T>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Watches the incarnation now registered as `name`. When it exits, `watcher` is called with
   * a `Down` (or, if `watcher` is a name, that actor receives a `vigil.down` message). If
   * nothing runs under `name` now, the down notice comes at once with reason `noproc`.
   * Returns a function that cancels the monitor.
   */
  monitor(name: string, watcher: ((down: Down) => void) | string): () => void {
    const notify = (down: Down) => {
      try {
        if (typeof watcher === 'string') this.deliver(watcher, { type: 'vigil.down', ...down });
        else watcher(down);
      } catch (err) {
        this.reportListenerError('monitor', err);
      }
    };
    const process = this.registry.lookup(name);
    if (!process?.alive) {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) notify({ name, incarnation: 0, reason: Exit.noproc });
      });
      return () => {
        cancelled = true;
      };
    }
    return process.onExit((reason) => notify({ name, incarnation: process.incarnation, reason }));
  }

  /** Stops the incarnation registered as `name` with `reason` (OTP's `exit/2`); its supervisor reacts. */
  exit(name: string, reason: ExitReason = Exit.killed): void {
    this.registry.lookup(name)?.kill(reason);
  }

  // ---------------------------------------------------------------------------------------
  // Inspection.

  /** `running` (an incarnation is up), `down` (declared, not running) or `undeclared`. */
  status(name: string): 'running' | 'down' | 'undeclared' {
    if (this.registry.lookup(name)?.alive) return 'running';
    return this.registry.isDeclared(name) ? 'down' : 'undeclared';
  }

  /** True while a child spec for `name` exists in the tree. */
  isDeclared(name: string): boolean {
    return this.registry.isDeclared(name);
  }

  /**
   * What `name` is declared as: `'worker'` (it takes messages), `'supervisor'`, or `undefined`
   * when it is not declared. The Alarm uses it to refuse a supervisor as a target.
   */
  kindOf(name: string): 'worker' | 'supervisor' | undefined {
    return this.registry.kindOf(name);
  }

  /** The XState snapshot of the worker running as `name`, if any. */
  snapshot(name: string): Snapshot<unknown> | undefined {
    return this.liveWorker(name)?.ref.getSnapshot();
  }

  /** Messages waiting in the mailbox of the worker running as `name`, or undefined if none runs. */
  mailboxDepth(name: string): number | undefined {
    return this.liveWorker(name)?.mailboxSize;
  }

  /** The supervision tree as data (for dashboards, the CLI and the demo). */
  tree(): TreeNode | undefined {
    return this.root ? this.nodeOf(this.root) : undefined;
  }

  // ---------------------------------------------------------------------------------------
  // Dynamic supervision.

  /** Starts `spec` under supervisor `supervisorName` (default: the root). */
  startChild(spec: ChildSpec, supervisorName: string = this.rootName): Promise<void> {
    return this.withSupervisor(supervisorName, (s) => s.startChild(spec));
  }

  /** Stops child `id` of `supervisorName`, keeping its spec. */
  terminateChild(id: string, supervisorName: string = this.rootName): Promise<void> {
    return this.withSupervisor(supervisorName, (s) => s.terminateChild(id));
  }

  /** Starts again a stopped child of `supervisorName`. */
  restartChild(id: string, supervisorName: string = this.rootName): Promise<void> {
    return this.withSupervisor(supervisorName, (s) => s.restartChild(id));
  }

  /** Stops and removes child `id` of `supervisorName`. */
  deleteChild(id: string, supervisorName: string = this.rootName): Promise<void> {
    return this.withSupervisor(supervisorName, (s) => s.deleteChild(id));
  }

  /** The children of `supervisorName` in start order. */
  whichChildren(supervisorName: string = this.rootName): ChildInfo[] {
    const process = this.registry.lookup(supervisorName);
    if (!(process instanceof Supervisor)) {
      if (this.registry.kindOf(supervisorName) === 'supervisor') throw new ActorDownError(supervisorName);
      throw new NotASupervisorError(supervisorName);
    }
    return process.whichChildren();
  }

  // ---------------------------------------------------------------------------------------
  // Hot upgrade (upgrade.ts).

  /**
   * Replaces the logic of the worker running as `name` while it runs: its mailbox is paused,
   * its persisted snapshot goes through `migrate` (identity by default) and the new logic starts
   * from it under the same name, mailbox, monitors and supervisor. Nothing queued is lost,
   * reordered or delivered twice; calls still in the mailbox are answered by the new code.
   * The child spec is updated, so later restarts start the new logic. Emits `actor.upgraded`.
   *
   * Rejects with `UpgradeFailedError` (`UPGRADE_FAILED`) if `migrate` throws or the new logic
   * fails to start: the old logic then runs on from its snapshot. Rejects with
   * `UnknownActorError` / `ActorDownError` if no worker runs as `name`, and with
   * `InvalidChildSpecError` if `logic` is not XState actor logic (nothing changes).
   *
   * @example
   * await runtime.upgrade('Counter', counterV2, {
   *   migrate: (s) => ({ ...s, context: { total: s.context.count } }),
   * });
   */
  upgrade(name: string, logic: AnyActorLogic, options: UpgradeOptions = {}): Promise<UpgradeResult> {
    try {
      if (this.stateValue !== 'running') throw new RuntimeStoppedError(`upgrade '${describeValue(name)}'`);
      const target = this.liveWorker(name);
      if (!target) {
        throw this.registry.isDeclared(name)
          ? new ActorDownError(name)
          : new UnknownActorError(describeValue(name));
      }
      const migrate = options?.migrate;
      if (migrate !== undefined && typeof migrate !== 'function')
        throw new UpgradeFailedError(name, 'migrate', 'migrate must be a function');
      const spec = validateChildSpec({ ...target.spec, logic }) as WorkerSpec;
      const owner = this.root?.supervisorOf(name);
      if (!owner) throw new ActorDownError(name);
      return owner.upgradeChild(name, spec, (process, next) => upgradeProcess(process, next, { migrate }));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Loads export `exportName` (default `'default'`) of the ES module at `moduleUrl` (a URL or
   * a file path) afresh and upgrades `name` to it, as `upgrade` does. Node caches a module by
   * its URL: each call imports it with a new `?vigil-upgrade=N` query, so the file is evaluated
   * again (the modules it imports are not reloaded). A module that cannot be loaded, or lacks
   * the export, rejects with `UpgradeFailedError` (stage `load`) and changes nothing.
   */
  async upgradeFrom(
    name: string,
    moduleUrl: string | URL,
    exportName = 'default',
    options: UpgradeOptions = {},
  ): Promise<UpgradeResult> {
    const logic = await loadLogic(name, moduleUrl, exportName);
    return this.upgrade(name, logic, options);
  }

  // ---------------------------------------------------------------------------------------
  // Stop.

  /**
   * Stops every actor, in reverse start order, each within its shutdown budget. Idempotent:
   * every call returns the same promise.
   */
  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    if (this.stateValue === 'idle') {
      this.stateValue = 'stopped';
      this.settleRunning(new RuntimeStoppedError('reach running: stopped before it started'));
      this.resolveStopped(Exit.shutdown);
      this.stopPromise = Promise.resolve();
      return this.stopPromise;
    }
    this.stopPromise = this.finishStop(Exit.shutdown);
    return this.stopPromise;
  }

  private async finishStop(reason: ExitReason): Promise<void> {
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped') return this.stopPromise;
    this.stateValue = 'stopping';
    this.settleRunning(new RuntimeStoppedError('reach running: stopped while starting'));
    const root = this.root;
    // A root still starting is shut down too: it abandons the child it is starting and stops
    // the ones already up, so this resolves only when no incarnation is alive.
    if (root?.alive) await root.shutdown('infinity');
    // After the tree: every isolated actor has exited, so nothing is left on the threads.
    await this.ownPool?.close();
    this.ownPool = undefined;
    this.stateValue = 'stopped';
    this.events.emit('runtime.stopped', { reason, at: this.clock.now() });
    this.resolveStopped(reason);
  }

  // ---------------------------------------------------------------------------------------
  // Internals shared with actors and supervisors, through the host only.

  private createHost(): RuntimeHost {
    const registry = this.registry;
    const scheduler = this.scheduler;
    const host: RuntimeHost = {
      clock: this.clock,
      events: this.events,
      registry,
      schedule: (actor) => scheduler.schedule(actor),
      declare: (spec) => this.declare(spec),
      ensureDeclared: (spec) => {
        if (!registry.isDeclared(spec.id)) registry.declareAll([{ name: spec.id, kind: spec.type }]);
      },
      undeclare: (spec) => this.undeclare(spec),
      deadLetter: (to, message, reason) => this.deadLetter(to, message, reason),
      reportListenerError: (event, err) => this.reportListenerError(event, err),
      send: (name, message) => this.send(name, message),
      call: (name, message, options) => this.call(name, message, options),
      threadPool: () => {
        if (isPool(this.poolOption)) return this.poolOption;
        this.ownPool ??= threadPool(this.poolOption);
        return this.ownPool;
      },
      inputOf: (spec, incarnation) =>
        typeof spec.input === 'function'
          ? (spec.input as (ctx: StartContext) => unknown)({ runtime: this, name: spec.id, incarnation })
          : spec.input,
    };
    runtimeOfHost.set(host, this);
    return host;
  }

  private declare(spec: ChildSpec): void {
    this.registry.declareAll(namesOf(spec));
  }

  private undeclare(spec: ChildSpec): void {
    this.registry.undeclareAll(namesOf(spec).map((n) => n.name));
  }

  private deadLetter(to: string, message: EventObject, reason: 'undeclared' | 'down' | 'stopped'): void {
    this.deadLetterCount++;
    if (this.events.has('deadLetter')) {
      this.events.emit('deadLetter', {
        to: describeValue(to, 200),
        messageType: message.type,
        reason,
        at: this.clock.now(),
      });
    }
  }

  private reportListenerError(event: string, err: unknown): void {
    this.events.emit('listener.error', { event, error: coerceError(err) });
  }

  private liveWorker(name: string): ActorProcess | undefined {
    const process = this.registry.lookup(name);
    return process instanceof ActorProcess && process.alive ? process : undefined;
  }

  private whyNot(name: string): 'undeclared' | 'down' | 'stopped' {
    if (this.stateValue === 'stopped' || this.stateValue === 'stopping') return 'stopped';
    return this.registry.isDeclared(name) ? 'down' : 'undeclared';
  }

  private async withSupervisor(name: string, op: (s: Supervisor) => Promise<void>): Promise<void> {
    if (this.stateValue !== 'running') throw new RuntimeStoppedError('change the supervision tree');
    const process = this.registry.lookup(name);
    if (process instanceof Supervisor && process.alive) return op(process);
    if (this.registry.kindOf(name) === 'supervisor') throw new ActorDownError(name);
    if (!isValidName(name) || !this.registry.isDeclared(name))
      throw new UnknownActorError(describeValue(name));
    throw new NotASupervisorError(name);
  }

  private nodeOf(process: Process | undefined, info?: ChildInfo): TreeNode {
    if (process instanceof Supervisor) {
      return {
        name: process.name,
        kind: 'supervisor',
        status: process.alive ? 'running' : 'stopped',
        incarnation: process.incarnation,
        restart: info?.restart,
        strategy: process.spec.strategy,
        children: process.whichChildren().map((c) => this.childNode(process, c)),
      };
    }
    return {
      name: info?.id ?? process?.name ?? '?',
      kind: 'worker',
      status: info?.status ?? (process?.alive ? 'running' : 'stopped'),
      incarnation: info?.incarnation ?? process?.incarnation ?? 0,
      restart: info?.restart,
    };
  }

  private childNode(parent: Supervisor, info: ChildInfo): TreeNode {
    const process = parent.childProcess(info.id);
    if (info.type === 'supervisor' && process)
      return { ...this.nodeOf(process, info), restart: info.restart };
    return {
      name: info.id,
      kind: info.type,
      status: info.status,
      incarnation: info.incarnation,
      restart: info.restart,
    };
  }
}

// Every key of RuntimeOptions, so that an option the runtime does not have (a misspelling, or
// `zone`, which moved to the alarm and Scheduler options) is refused instead of silently ignored.
// `satisfies` makes the typecheck fail when RuntimeOptions gains a key that is not listed here.
const RUNTIME_OPTION_KEYS = {
  clock: true,
  budget: true,
  turnMs: true,
  callTimeoutMs: true,
  rootName: true,
  threadPool: true,
} satisfies Record<keyof RuntimeOptions, true>;

function checkRuntimeOptions(options: unknown): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new InvalidRuntimeOptionError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(RUNTIME_OPTION_KEYS, key)) continue;
    throw new InvalidRuntimeOptionError(
      key,
      key === 'zone'
        ? 'is not a runtime option: the time zone belongs to alarmSupervisor({ zone }) and schedulerWorker({ zone })'
        : `is not a runtime option (known: ${Object.keys(RUNTIME_OPTION_KEYS).join(', ')})`,
    );
  }
}

/** The runtime's own pool is checked when the runtime is made, and started on first use. */
function checkPoolOptions(options: unknown): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new InvalidRuntimeOptionError('threadPool', 'must be { threads?, heapMb } or a ThreadPool');
  try {
    threadPool(options as ThreadPoolOptions);
  } catch (err) {
    throw new InvalidRuntimeOptionError('threadPool', (err as Error).message);
  }
}

function isPool(option: ThreadPoolOptions | ThreadPool): option is ThreadPool {
  return typeof (option as ThreadPool).actor === 'function';
}

const runtimeOfHost = new WeakMap<RuntimeHost, Runtime>();

/** @internal The runtime that created `host` (for `runtimeOf(self)` in context.ts). */
export function runtimeOfHostOf(host: RuntimeHost): Runtime | undefined {
  return runtimeOfHost.get(host);
}

declare module './spec.js' {
  interface StartContext {
    /** The runtime starting the worker. */
    runtime: Runtime;
  }
}

/** Creates a runtime. Nothing runs until `start`. */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return new Runtime(options);
}
