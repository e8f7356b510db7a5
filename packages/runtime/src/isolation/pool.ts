/**
 * Isolated actors: XState logic that runs on a worker thread of a pool, so that one message that
 * loops or allocates without bound is preempted, or dies, without freezing or killing the process.
 *
 * From outside an isolated actor is an ordinary worker: `worker(name, pool.actor(url, 'export'))`.
 * Its logic on the main thread is a proxy (an XState callback actor) in front of the real actor in
 * the thread: the Vigil mailbox, the registered name, supervision, monitors, dead letters and
 * events are the main thread's, unchanged; each message the proxy receives is structured-cloned
 * to the thread, and a `call`'s reply comes back the same way.
 *
 * Invariants:
 * - A thread handles one message at a time. It says 'begin' and 'end' around each; the watchdog
 *   on the main thread terminates a thread that has not said 'end' within the actor's `maxTurnMs`
 *   (real time, not the runtime's clock: it measures work, not the schedule).
 * - A thread that ends (preempted, out of its heap limit, crashed) takes every actor on it down:
 *   the one running gets `TURN_TIMEOUT` or `OUT_OF_MEMORY`, the others `THREAD_EXITED`, as
 *   processes linked to the one that died. Each exits through its own supervisor, which restarts
 *   it as for any crash; a fresh thread replaces the dead one at once.
 * - Pending calls to an actor that exits reject with `CALLEE_EXITED` (the runtime's exit path).
 * - Threads are unreferenced: an idle pool never keeps the process alive. When its last actor
 *   stops (runtime.stop()), the pool terminates its threads; the next actor starts them again.
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type AnyActorLogic, type AnyActorRef, fromCallback } from 'xstate';
import { processOf } from '../actor.js';
import { pendingCallOf, reply, replyError } from '../call.js';
import {
  InvalidChildSpecError,
  InvalidMessageError,
  OutOfMemoryError,
  ThreadExitedError,
  TurnTimeoutError,
  VigilError,
} from '../errors.js';
import { Exit, type ExitReason } from '../exit.js';
import { threadEntry } from '../thread-entry.js';
import type { FromThread, ToThread, WireError } from './protocol.js';

/** Options of `threadPool`. */
export interface ThreadPoolOptions {
  /** Threads in the pool (default 2); actors are placed on the least loaded one. */
  threads?: number;
  /**
   * Heap limit of each thread in MB (`resourceLimits.maxOldGenerationSizeMb`; default: Node's).
   * The limit is per thread: an actor that exceeds it ends its thread and the actors on it.
   */
  heapMb?: number;
}

/** Options of one isolated actor (`pool.actor(...)`). */
export interface IsolatedActorOptions {
  /**
   * Longest one message may run in ms before the actor's thread is terminated and the actor
   * exits with `TURN_TIMEOUT` (default 1000; `'infinity'`: never preempted).
   */
  maxTurnMs?: number | 'infinity';
}

/** A pool of worker threads that runs isolated actors (see `threadPool`). */
export interface ThreadPool {
  /**
   * The logic of an isolated actor, for `worker(name, logic)`: the export `exportName` of the
   * module at `module` (an absolute file URL or path), loaded in a pool thread. Its input must be
   * structured-cloneable; so must every message sent to it.
   */
  actor(module: string | URL, exportName: string, options?: IsolatedActorOptions): AnyActorLogic;
  /** Threads running now, and isolated actors placed on them. */
  stats(): { threads: number; actors: number; restarts: number };
  /** Terminates every thread; the actors on them exit with `THREAD_EXITED`. */
  close(): Promise<void>;
}

interface Hosted {
  name: string;
  self: AnyActorRef;
  maxTurnMs: number;
  /** Calls waiting for their reply, by call id. */
  calls: Map<number, object>;
  /** The message being handled now, as the thread last said. */
  running: { seq: number; type: string; since: number; timer: NodeJS.Timeout | undefined } | undefined;
}

interface Thread {
  worker: Worker;
  actors: Map<number, Hosted>;
  /** Why the pool ended it (preemption, close), read when its 'exit' comes. */
  endedBecause: ((key: number, hosted: Hosted) => Error) | undefined;
}

/**
 * A pool of worker threads for isolated actors; threads start with the first actor.
 *
 * @example
 * const pool = threadPool({ threads: 2, heapMb: 64 });
 * await runtime.start([worker('Parser', pool.actor(new URL('./parser.js', import.meta.url), 'parser'))]);
 */
export function threadPool(options: ThreadPoolOptions = {}): ThreadPool {
  return new Pool(options);
}

const DEFAULT_MAX_TURN_MS = 1000;

/** The proxy logics of isolated actors (their state lives in a thread, not in the proxy). */
const isolatedLogics = new WeakSet<object>();

/** @internal Whether `logic` is an isolated actor's (from `pool.actor`). */
export function isIsolatedLogic(logic: unknown): boolean {
  return typeof logic === 'object' && logic !== null && isolatedLogics.has(logic);
}

class Pool implements ThreadPool {
  private readonly size: number;
  private readonly heapMb: number | undefined;
  private threads: Thread[] = [];
  private nextKey = 0;
  private nextCall = 0;
  private restarts = 0;

  constructor(options: ThreadPoolOptions) {
    const size = options.threads ?? 2;
    if (!Number.isSafeInteger(size) || size < 1)
      throw new InvalidChildSpecError('threadPool', 'threads', 'must be a whole number of at least 1');
    if (options.heapMb !== undefined && !(typeof options.heapMb === 'number' && options.heapMb >= 1))
      throw new InvalidChildSpecError('threadPool', 'heapMb', 'must be a number of MB of at least 1');
    this.size = size;
    this.heapMb = options.heapMb;
  }

  actor(module: string | URL, exportName: string, options: IsolatedActorOptions = {}): AnyActorLogic {
    const url = moduleUrl(module);
    if (typeof exportName !== 'string' || exportName.length === 0)
      throw new InvalidChildSpecError('isolated actor', 'exportName', 'must be the name of an export');
    const max = options.maxTurnMs ?? DEFAULT_MAX_TURN_MS;
    if (max !== 'infinity' && !(typeof max === 'number' && max > 0))
      throw new InvalidChildSpecError(
        'isolated actor',
        'maxTurnMs',
        "must be a number of ms above 0 or 'infinity'",
      );
    const maxTurnMs = max === 'infinity' ? Number.POSITIVE_INFINITY : max;
    const logic = fromCallback<{ type: string }, unknown>(({ receive, self, input }) => {
      const key = ++this.nextKey;
      const hosted: Hosted = { name: nameOf(self), self, maxTurnMs, calls: new Map(), running: undefined };
      const thread = this.place();
      thread.actors.set(key, hosted);
      this.post(thread, { op: 'start', key, module: url, export: exportName, input, name: hosted.name });
      let seq = 0;
      receive((event) => {
        const call = pendingCallOf(event) ? ++this.nextCall : undefined;
        try {
          thread.worker.postMessage({
            op: 'msg',
            key,
            seq: ++seq,
            message: event,
            callId: call,
          } satisfies ToThread);
        } catch (err) {
          // Not cloneable: the caller (if any) gets a typed error; the actor carries on.
          replyError(
            event,
            new InvalidMessageError(
              `a message to isolated actor '${hosted.name}' cannot be cloned: ${(err as Error).message}`,
            ),
          );
          return;
        }
        if (call !== undefined) hosted.calls.set(call, event);
      });
      return () => {
        if (!thread.actors.delete(key)) return;
        clearTimeout(hosted.running?.timer);
        this.post(thread, { op: 'stop', key });
        this.releaseIfIdle();
      };
    });
    isolatedLogics.add(logic);
    return logic;
  }

  stats(): { threads: number; actors: number; restarts: number } {
    return {
      threads: this.threads.length,
      actors: this.threads.reduce((n, t) => n + t.actors.size, 0),
      restarts: this.restarts,
    };
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    await Promise.all(
      threads.map((t) => this.end(t, (_key, h) => new ThreadExitedError(h.name, 'the pool was closed'))),
    );
  }

  /** The least loaded thread, starting the pool's threads if they are not running. */
  private place(): Thread {
    while (this.threads.length < this.size) this.threads.push(this.spawn());
    let best = this.threads[0] as Thread;
    for (const t of this.threads) if (t.actors.size < best.actors.size) best = t;
    return best;
  }

  private spawn(): Thread {
    const { entry, eval: isCode } = threadEntry(import.meta.url, 'thread');
    const worker = new Worker(entry, {
      eval: isCode,
      ...(this.heapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } }),
    });
    worker.unref();
    const thread: Thread = { worker, actors: new Map(), endedBecause: undefined };
    let oom = false;
    worker.on('message', (m: FromThread) => this.onMessage(thread, m));
    worker.on('error', (err) => {
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') oom = true;
    });
    worker.on('exit', () => {
      const because =
        thread.endedBecause ??
        (oom
          ? (_key: number, h: Hosted) =>
              h.running
                ? new OutOfMemoryError(h.name, this.heapMb)
                : new ThreadExitedError(h.name, 'out of memory')
          : (_key: number, h: Hosted) => new ThreadExitedError(h.name, 'its thread exited'));
      this.lost(thread, because);
    });
    return thread;
  }

  private onMessage(thread: Thread, m: FromThread): void {
    const hosted = thread.actors.get(m.key);
    if (!hosted) return;
    switch (m.op) {
      case 'started':
        break;
      case 'failed':
        thread.actors.delete(m.key);
        exitActor(hosted.self, Exit.error(fromWire(m.error)));
        break;
      case 'begin': {
        const timer = Number.isFinite(hosted.maxTurnMs)
          ? setTimeout(() => this.preempt(thread, m.key, hosted), hosted.maxTurnMs)
          : undefined;
        timer?.unref();
        hosted.running = { seq: m.seq, type: m.type, since: performance.now(), timer };
        break;
      }
      case 'end':
        clearTimeout(hosted.running?.timer);
        hosted.running = undefined;
        break;
      case 'reply': {
        const event = hosted.calls.get(m.callId);
        hosted.calls.delete(m.callId);
        if (event) reply(event, m.value);
        break;
      }
      case 'replyError': {
        const event = hosted.calls.get(m.callId);
        hosted.calls.delete(m.callId);
        if (event) replyError(event, fromWire(m.error));
        break;
      }
      case 'exit':
        thread.actors.delete(m.key);
        clearTimeout(hosted.running?.timer);
        exitActor(hosted.self, m.error ? Exit.error(fromWire(m.error)) : Exit.normal);
        break;
    }
  }

  /** The watchdog: `key` has run one message past its `maxTurnMs`. */
  private preempt(thread: Thread, key: number, culprit: Hosted): void {
    const type = culprit.running?.type ?? 'unknown';
    const ranMs = performance.now() - (culprit.running?.since ?? performance.now());
    void this.end(thread, (k, h) =>
      k === key
        ? new TurnTimeoutError(h.name, type, h.maxTurnMs, ranMs)
        : new ThreadExitedError(h.name, `'${culprit.name}' was preempted`),
    );
  }

  /** Terminates a thread on purpose; its actors exit with `because`. */
  private async end(thread: Thread, because: (key: number, hosted: Hosted) => Error): Promise<void> {
    thread.endedBecause ??= because;
    await thread.worker.terminate();
  }

  /** A thread is gone: its actors exit (each through its supervisor); a fresh thread replaces it. */
  private lost(thread: Thread, because: (key: number, hosted: Hosted) => Error): void {
    const index = this.threads.indexOf(thread);
    const actors = [...thread.actors];
    thread.actors.clear();
    if (index >= 0) {
      this.restarts++;
      // Replaced now, before the supervisors restart the actors that were on it.
      this.threads[index] = this.spawn();
    }
    for (const [key, hosted] of actors) {
      clearTimeout(hosted.running?.timer);
      exitActor(hosted.self, Exit.error(because(key, hosted)));
    }
    this.releaseIfIdle();
  }

  /** With no actor left (the runtime stopped), the threads go too; the next actor restarts them. */
  private releaseIfIdle(): void {
    setImmediate(() => {
      if (this.threads.length === 0 || this.threads.some((t) => t.actors.size > 0)) return;
      const threads = this.threads;
      this.threads = [];
      for (const t of threads) {
        t.endedBecause = () => new Error('idle');
        void t.worker.terminate();
      }
    });
  }

  private post(thread: Thread, message: ToThread): void {
    thread.worker.postMessage(message);
  }
}

/** Ends the actor whose logic this proxy is, with `reason` (the runtime's `exit`, without its import cycle). */
function exitActor(self: AnyActorRef, reason: ExitReason): void {
  processOf(self)?.kill(reason);
}

function nameOf(self: AnyActorRef): string {
  return String((self as { id?: unknown }).id ?? 'isolated actor');
}

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module === 'string' && module.startsWith('file:')) return module;
  if (typeof module === 'string' && module.startsWith('/')) return pathToFileURL(module).href;
  throw new InvalidChildSpecError(
    'isolated actor',
    'module',
    `must be an absolute file URL or path (code cannot cross threads), got ${JSON.stringify(String(module)).slice(0, 80)}`,
  );
}

/** An error from the thread, as a VigilError with its code when it had one. */
function fromWire(e: WireError): Error {
  const err = e.code ? new VigilError(e.code, e.message) : new Error(e.message);
  err.name = e.name;
  return err;
}
