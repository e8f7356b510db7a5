/**
 * What actors and supervisors need from the runtime that runs them, and nothing more:
 * the clock and the bus, the registry of names, the drain loop, and the few services below. The
 * public `Runtime` creates one host and hands it to every process it starts; the registry and
 * the drain loop are reachable only through it, so user code cannot couple to them.
 */
import type { EventObject } from 'xstate';
import type { Clock } from './clock.js';
import type { EventBus } from './events.js';
import type { ThreadPool } from './isolation/types.js';
import type { Registry } from './registry.js';
import type { Runnable } from './scheduler.js';
import type { ChildSpec, WorkerSpec } from './spec.js';

/**
 * The runtime as actors and supervisors see it. Not exported from the package's index: it is in
 * the declarations only because `ActorProcess` and `Supervisor` name it (stripping it would leave
 * them dangling for a consumer's type checker).
 */
export interface RuntimeHost {
  readonly clock: Clock;
  readonly events: EventBus;
  readonly registry: Registry;
  /** Puts an actor with queued messages in the run queue of the drain loop. */
  schedule(actor: Runnable): void;
  /** Declares every name of `spec` (itself and its subtree), or none if one is taken. */
  declare(spec: ChildSpec): void;
  /** Declares `spec`'s own name if it is not declared (a supervisor restarting). */
  ensureDeclared(spec: ChildSpec): void;
  /** Forgets every name of `spec`. */
  undeclare(spec: ChildSpec): void;
  /** Counts and reports a message that could not be delivered. */
  deadLetter(to: string, message: EventObject, reason: 'undeclared' | 'down' | 'stopped'): void;
  /** Reports a listener (exit, monitor) that threw; the error is contained. */
  reportListenerError(event: string, err: unknown): void;
  /** The runtime's `send` (isolated actors forward their sends through it). */
  send(name: string, message: EventObject): void;
  /** The runtime's `call` (isolated actors forward their calls through it). */
  call(name: string, message: EventObject, options: { timeoutMs?: number }): Promise<unknown>;
  /** The runtime's own thread pool, started on first use (`isolation: 'thread'` workers). */
  threadPool(): ThreadPool;
  /** The input of a worker's incarnation (its `input`, called with the start context if a function). */
  inputOf(spec: WorkerSpec, incarnation: number): unknown;
}
