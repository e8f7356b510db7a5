/**
 * The public shapes of thread pools and isolated actors, apart from pool.ts so that the runtime's
 * host (host.ts) can name a pool without importing the pool's implementation.
 */
import type { AnyActorLogic } from 'xstate';

/** Options of `threadPool` (and of the runtime's own pool: `createRuntime({ threadPool })`). */
export interface ThreadPoolOptions {
  /** Threads in the pool (default 2); actors are placed on the least loaded one. */
  threads?: number;
  /**
   * Heap limit of each thread in MB (`resourceLimits.maxOldGenerationSizeMb`; default: Node's).
   * The limit is per thread: an actor that exceeds it ends its thread and the actors on it.
   */
  heapMb?: number;
}

/** Options of one isolated actor (`pool.actor(...)`, or `worker(..., { isolation: 'thread' })`). */
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
  /** Threads running now, isolated actors placed on them, and threads replaced after one ended. */
  stats(): { threads: number; actors: number; restarts: number };
  /** Terminates every thread; the actors on them exit with `THREAD_EXITED`. Idempotent. */
  close(): Promise<void>;
}
