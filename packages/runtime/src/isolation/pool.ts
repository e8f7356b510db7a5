/**
 * Isolated actors: XState logic that runs on a worker thread of a pool, so that one message that
 * loops or allocates without bound is preempted, or dies, without freezing or killing the process.
 *
 * From outside an isolated actor is an ordinary worker, in either form:
 * `worker(name, { module, export }, { isolation: 'thread' })` (the runtime's own pool) or
 * `worker(name, pool.actor(module, 'export'))` (a pool of your own). Its logic on the main thread
 * is a proxy (an XState callback actor) in front of the real actor in the thread: the Vigil
 * mailbox, the registered name, supervision, monitors, dead letters and events are the main
 * thread's, unchanged; each message the proxy receives is structured-cloned to the thread, and a
 * `call`'s reply comes back the same way.
 *
 * Invariants:
 * - A thread handles one message at a time. It says 'begin' and 'end' around each; the watchdog
 *   on the main thread terminates a thread that has not said 'end' within the actor's `maxTurnMs`
 *   (real time, not the runtime's clock: it measures work, not the schedule).
 * - The start of a child waits for its actor to have started in the thread: a module or export
 *   that does not load, or a logic that throws at start, fails the start (START_FAILED).
 * - Messages passed to the thread but never begun there are dead letters when the actor exits,
 *   exactly as the rest of its mailbox: the proxy keeps each until the thread begins it; after a
 *   main-thread kill the thread says which it dropped.
 * - A thread that ends (preempted, out of its heap limit, crashed) takes every actor on it down:
 *   the one running gets `TURN_TIMEOUT` or `OUT_OF_MEMORY`, the others `THREAD_EXITED`, as
 *   processes linked to the one that died. Each exits through its own supervisor, which restarts
 *   it as for any crash; a fresh thread replaces the dead one at once.
 * - Pending calls to an actor that exits reject with `CALLEE_EXITED` (the runtime's exit path).
 * - Threads are unreferenced: a pool never keeps the process alive. They start with the pool's
 *   first actor and end with `close()`; the runtime closes its own pool when it stops.
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type AnyActorLogic, type AnyActorRef, fromCallback } from 'xstate';
import { type ActorProcess, processOf } from '../actor.js';
import { pendingCallOf, reply, replyError } from '../call.js';
import {
  InvalidChildSpecError,
  InvalidMessageError,
  OutOfMemoryError,
  ThreadExitedError,
  TurnTimeoutError,
} from '../errors.js';
import { Exit, type ExitReason } from '../exit.js';
import type { RuntimeHost } from '../host.js';
import { threadEntry } from '../thread-entry.js';
import { markIsolated, setIsolatedFactory, setLoading } from './mark.js';
import { type FromThread, fromWire, reasonFromWire, type ToThread, toWire } from './protocol.js';
import type { IsolatedActorOptions, ThreadPool, ThreadPoolOptions } from './types.js';

export type { IsolatedActorOptions, ThreadPool, ThreadPoolOptions } from './types.js';

interface Hosted {
  name: string;
  self: AnyActorRef;
  process: ActorProcess | undefined;
  maxTurnMs: number;
  seq: number;
  /** Calls waiting for their reply, by call id. */
  calls: Map<number, object>;
  /** Messages posted to the thread and not begun there yet, oldest first. */
  inflight: Map<number, object>;
  /** The last sequence number the thread said it began. */
  begun: number;
  /** The message being handled now, as the thread last said. */
  running: { seq: number; type: string; since: number; timer: NodeJS.Timeout | undefined } | undefined;
  /** Settles the start the supervisor waits for. */
  started: { resolve: () => void; reject: (err: Error) => void };
}

interface Thread {
  worker: Worker;
  /** Resolves once the thread's code runs (it says 'ready'). */
  booted: Promise<void>;
  onBooted: () => void;
  actors: Map<number, Hosted>;
  /** Actors the main thread stopped, until the thread says which of their messages it dropped. */
  stopping: Map<number, Hosted>;
  /** Why the pool ended it (preemption, close), read when its 'exit' comes. */
  endedBecause: ((key: number, hosted: Hosted) => Error) | undefined;
}

/**
 * A pool of worker threads for isolated actors; threads start with the first actor and end with
 * `close()`. The runtime has one of its own for `worker(..., { isolation: 'thread' })`; make one
 * to control which actors share threads, or to give a group its own heap limit.
 *
 * @example
 * const pool = threadPool({ threads: 2, heapMb: 64 });
 * await runtime.start([worker('Parser', pool.actor(new URL('./parser.js', import.meta.url), 'parser'))]);
 * // ... after runtime.stop():
 * await pool.close();
 */
export function threadPool(options: ThreadPoolOptions = {}): ThreadPool {
  return new Pool(options);
}

const DEFAULT_MAX_TURN_MS = 1000;

/** @internal A checked module, export and turn limit of an isolated actor. */
export interface IsolatedTarget {
  url: string;
  exportName: string;
  maxTurnMs: number;
}

/**
 * @internal Checks the parts of an isolated actor; errors name `child` (the worker's id, or
 * 'isolated actor' for `pool.actor`).
 */
export function isolatedTarget(
  child: string,
  module: unknown,
  exportName: unknown,
  options: IsolatedActorOptions = {},
): IsolatedTarget {
  const url = moduleUrl(child, module);
  if (typeof exportName !== 'string' || exportName.length === 0)
    throw new InvalidChildSpecError(child, 'export', 'must be the name of an export');
  const max = options.maxTurnMs ?? DEFAULT_MAX_TURN_MS;
  if (max !== 'infinity' && !(typeof max === 'number' && max > 0))
    throw new InvalidChildSpecError(child, 'maxTurnMs', "must be a number of ms above 0 or 'infinity'");
  return { url, exportName, maxTurnMs: max === 'infinity' ? Number.POSITIVE_INFINITY : max };
}

/**
 * @internal The proxy logic of an isolated actor, run on the pool `poolOf` picks when it starts
 * (a given pool, or the runtime's own).
 */
export function isolatedLogic(
  target: IsolatedTarget,
  poolOf: (host: RuntimeHost | undefined) => ThreadPool,
): AnyActorLogic {
  const logic = fromCallback<{ type: string }, unknown>(({ receive, self, input }) => {
    const process = processOf(self);
    const pool = poolOf(process?.host);
    if (!(pool instanceof Pool)) throw new TypeError('an isolated actor needs a pool made by threadPool()');
    return pool.host(self, process, receive, input, target);
  });
  markIsolated(logic);
  return logic;
}

// `worker(id, { module, export }, { isolation: 'thread' })`: the runtime's own pool, found from
// the host of the process that starts the proxy.
setIsolatedFactory((id, module, exportName, options) =>
  isolatedLogic(isolatedTarget(id, module, exportName, options), (host) => {
    if (!host) throw new Error(`isolated worker '${id}' runs only under a Vigil runtime`);
    return host.threadPool();
  }),
);

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
    return isolatedLogic(isolatedTarget('isolated actor', module, exportName, options), () => this);
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

  /** @internal The body of a proxy: places the actor on a thread and forwards its mailbox. */
  host(
    self: AnyActorRef,
    process: ActorProcess | undefined,
    receive: (listener: (event: { type: string }) => void) => void,
    input: unknown,
    target: IsolatedTarget,
  ): () => void {
    const key = ++this.nextKey;
    let started!: Hosted['started'];
    const thread = this.place();
    setLoading(self, {
      booted: thread.booted,
      started: new Promise<void>((resolve, reject) => {
        started = { resolve, reject };
      }),
    });
    const hosted: Hosted = {
      name: process?.name ?? String((self as { id?: unknown }).id),
      self,
      process,
      maxTurnMs: target.maxTurnMs,
      seq: 0,
      calls: new Map(),
      inflight: new Map(),
      begun: 0,
      running: undefined,
      started,
    };
    thread.actors.set(key, hosted);
    this.post(thread, {
      op: 'start',
      key,
      module: target.url,
      export: target.exportName,
      input,
      name: hosted.name,
    });
    receive((event) => {
      const pending = pendingCallOf(event);
      const call = pending ? ++this.nextCall : undefined;
      const seq = ++hosted.seq;
      try {
        thread.worker.postMessage({ op: 'msg', key, seq, message: event, callId: call } satisfies ToThread);
      } catch (err) {
        // Only a message that bypassed the runtime's check at the sender gets here (the runtime
        // clones before it queues): the caller gets a typed error and the actor carries on.
        const refused = new InvalidMessageError(
          `a message to isolated actor '${hosted.name}' cannot be cloned: ${(err as Error).message}`,
        );
        if (!replyError(event, refused)) process?.host.deadLetter(hosted.name, event, 'down');
        return;
      }
      hosted.inflight.set(seq, event);
      if (pending && call !== undefined) {
        hosted.calls.set(call, event);
        // Settled here first (timed out): the thread forgets it, so a late `reply` there returns
        // false, as it does in-thread.
        pending.observe(() => {
          if (hosted.calls.delete(call) && this.threads.includes(thread))
            this.post(thread, { op: 'forget', key, callId: call });
        });
      }
    });
    return () => this.release(thread, key, hosted);
  }

  /**
   * The proxy stopped: its process exited. If the actor still lives in the thread, the main
   * thread ended it (kill, shutdown): the thread is told, and says which messages it dropped.
   * Otherwise it ended there, or with its thread: what it never began is a dead letter now.
   */
  private release(thread: Thread, key: number, hosted: Hosted): void {
    clearTimeout(hosted.running?.timer);
    hosted.started.reject(new Error('stopped before it started in its thread'));
    if (thread.actors.get(key) === hosted) {
      thread.actors.delete(key);
      thread.stopping.set(key, hosted);
      this.post(thread, { op: 'stop', key });
      return;
    }
    this.deadLetters(hosted, [...hosted.inflight.values()]);
    hosted.inflight.clear();
  }

  private deadLetters(hosted: Hosted, messages: object[]): void {
    const host = hosted.process?.host;
    for (const message of messages) host?.deadLetter(hosted.name, message as { type: string }, 'down');
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
    let onBooted!: () => void;
    const booted = new Promise<void>((resolve) => {
      onBooted = resolve;
    });
    const thread: Thread = {
      worker,
      booted,
      onBooted,
      actors: new Map(),
      stopping: new Map(),
      endedBecause: undefined,
    };
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
    if (m.op === 'ready') {
      thread.onBooted();
      return;
    }
    const live = thread.actors.get(m.key);
    const hosted = live ?? thread.stopping.get(m.key);
    if (!hosted) return;
    switch (m.op) {
      case 'started':
        if (live) hosted.started.resolve();
        break;
      case 'failed':
        if (!live) break;
        thread.actors.delete(m.key);
        // The supervisor waiting for the start fails it (START_FAILED) and ends the process.
        hosted.started.reject(fromWire(m.error));
        break;
      case 'begin': {
        // Sequence numbers are consecutive and begun in order: everything up to m.seq was delivered.
        for (let seq = hosted.begun + 1; seq <= m.seq; seq++) hosted.inflight.delete(seq);
        hosted.begun = Math.max(hosted.begun, m.seq);
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
        if (!live) break;
        thread.actors.delete(m.key);
        clearTimeout(hosted.running?.timer);
        hosted.running = undefined;
        exitActor(hosted, reasonFromWire(m.reason));
        break;
      case 'dropped': {
        thread.stopping.delete(m.key);
        this.deadLetters(
          hosted,
          m.seqs.flatMap((seq) => hosted.inflight.get(seq) ?? []),
        );
        hosted.inflight.clear();
        break;
      }
      case 'send':
        this.forwardSend(hosted, m.to, m.message as { type: string });
        break;
      case 'call':
        this.forwardCall(thread, hosted, m);
        break;
    }
  }

  /** The actor in the thread sends to a registered actor: the runtime's `send`, refusals dropped. */
  private forwardSend(hosted: Hosted, to: string, message: { type: string }): void {
    try {
      hosted.process?.host.send(to, message);
    } catch (err) {
      // Checked in the thread already (assertMessage): nothing else can refuse it.
      hosted.process?.host.reportListenerError('isolated send', err);
    }
  }

  /** The actor in the thread calls a registered actor: the runtime's `call`, answered in the thread. */
  private forwardCall(thread: Thread, hosted: Hosted, m: Extract<FromThread, { op: 'call' }>): void {
    const host = hosted.process?.host;
    const asked = host
      ? host.call(
          m.to,
          m.message as { type: string },
          m.timeoutMs === undefined ? {} : { timeoutMs: m.timeoutMs },
        )
      : Promise.reject(new Error('the isolated actor has no runtime'));
    const answer = (a: { value?: unknown; error?: ReturnType<typeof toWire> }) => {
      if (!this.threads.includes(thread)) return; // the thread is gone, and the caller with it
      try {
        this.post(thread, { op: 'answer', key: m.key, id: m.id, ...a });
      } catch (err) {
        const refused = new InvalidMessageError(
          `the reply of '${m.to}' cannot be cloned to an isolated actor: ${(err as Error).message}`,
        );
        this.post(thread, { op: 'answer', key: m.key, id: m.id, error: toWire(refused) });
      }
    };
    asked.then(
      (value) => answer({ value }),
      (err: unknown) => answer({ error: toWire(err) }),
    );
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
    const stopping = [...thread.stopping.values()];
    thread.actors.clear();
    thread.stopping.clear();
    if (index >= 0) {
      this.restarts++;
      // Replaced now, before the supervisors restart the actors that were on it.
      this.threads[index] = this.spawn();
    }
    // Stopped from here, and the thread died before it said what it dropped: it handled nothing more.
    for (const hosted of stopping) {
      clearTimeout(hosted.running?.timer);
      this.deadLetters(hosted, [...hosted.inflight.values()]);
      hosted.inflight.clear();
    }
    for (const [key, hosted] of actors) {
      clearTimeout(hosted.running?.timer);
      const error = because(key, hosted);
      hosted.running = undefined;
      hosted.started.reject(error);
      exitActor(hosted, Exit.error(error));
    }
  }

  private post(thread: Thread, message: ToThread): void {
    thread.worker.postMessage(message);
  }
}

/**
 * Ends the process whose logic this proxy is. A normal end in the thread (a final state) is
 * read as the process reads its own XState actor's completion: `shutdown` while it was asked to
 * stop (trapExit), `normal` otherwise.
 */
function exitActor(hosted: Hosted, reason: ExitReason): void {
  const process = hosted.process;
  if (!process) return;
  if (reason.kind === 'normal') process.completed();
  else process.kill(reason);
}

function moduleUrl(child: string, module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module === 'string' && module.startsWith('file:')) return module;
  if (typeof module === 'string' && module.startsWith('/')) return pathToFileURL(module).href;
  throw new InvalidChildSpecError(
    child,
    'module',
    `must be an absolute file URL or path (code cannot cross threads), got ${JSON.stringify(String(module)).slice(0, 80)}`,
  );
}
