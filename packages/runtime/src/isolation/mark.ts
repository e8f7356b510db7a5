/**
 * What the rest of the runtime needs to know about isolated actors, without importing the pool
 * (which imports actor.ts): which logics are isolated proxies, and the start of a proxy's actor
 * in its thread, which the supervisor waits for as part of the child's start.
 */
import type { AnyActorLogic, AnyActorRef } from 'xstate';

/** The proxy logics of isolated actors (their state lives in a thread, not in the proxy). */
const isolatedLogics = new WeakSet<object>();

/**
 * The start of an isolated actor in its thread: `booted` resolves once the thread runs (starting
 * a thread is the pool's cost, not the actor's: the start timeout counts from then), `started`
 * once the actor has started there (rejects if it failed to).
 */
export interface Loading {
  booted: Promise<void>;
  started: Promise<void>;
}

const loading = new WeakMap<AnyActorRef, Loading>();

/** @internal Marks `logic` as an isolated actor's proxy. */
export function markIsolated(logic: object): void {
  isolatedLogics.add(logic);
}

/** @internal Whether `logic` is an isolated actor's (from `pool.actor` or `isolation: 'thread'`). */
export function isIsolatedLogic(logic: unknown): boolean {
  return typeof logic === 'object' && logic !== null && isolatedLogics.has(logic);
}

/** @internal Records the start in its thread of the actor behind proxy `self`. */
export function setLoading(self: AnyActorRef, start: Loading): void {
  // Awaited by the supervisor; a proxy stopped before anyone awaited must not be an unhandled rejection.
  start.started.catch(() => {});
  loading.set(self, start);
}

/** @internal The start in its thread of the actor behind proxy `ref`, if `ref` is a proxy. */
export function loadingOf(ref: AnyActorRef): Loading | undefined {
  return loading.get(ref);
}

/**
 * Builds the logic of `worker(id, { module, export }, { isolation: 'thread' })`. Set by pool.ts
 * when it loads (the package's index loads it): spec.ts cannot import the pool, which imports the
 * actor and the host, which name specs.
 */
export type IsolatedFactory = (
  id: string,
  module: unknown,
  exportName: unknown,
  options: { maxTurnMs?: number | 'infinity' },
) => AnyActorLogic;

let factory: IsolatedFactory | undefined;

/** @internal */
export function setIsolatedFactory(make: IsolatedFactory): void {
  factory = make;
}

/** @internal The runtime-pool isolated logic for a worker spec. */
export function isolatedWorkerLogic(...args: Parameters<IsolatedFactory>): AnyActorLogic {
  if (!factory) throw new Error('isolated actors need @vigil/runtime loaded from its index');
  return factory(...args);
}
