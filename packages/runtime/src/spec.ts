/**
 * Child specs, after OTP's `child_spec()`: what to start, when to restart it, how to stop it.
 * They are validated when built, with errors that name the child and the field.
 */
import type { AnyActorLogic, Snapshot } from 'xstate';
import { InvalidChildSpecError, InvalidSupervisorOptionsError } from './errors.js';

/** OTP restart types: `permanent` always, `transient` after an abnormal exit, `temporary` never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** OTP shutdown: milliseconds to wait for a graceful stop, `brutal_kill`, or `infinity`. */
export type Shutdown = number | 'brutal_kill' | 'infinity';

/** OTP restart strategies. */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** Delay between restarts of a child that keeps failing: `minMs * factor^(n-1)`, capped at `maxMs`. */
export interface Backoff {
  minMs: number;
  maxMs: number;
  factor: number;
}

/**
 * What the `input` function of a worker receives at each (re)start: its name, its incarnation,
 * and `runtime` (declared in runtime.ts, which owns the Runtime class, so this file needs no
 * import of it).
 */
export interface StartContext {
  name: string;
  incarnation: number;
}

/** Spec of a worker: an XState actor logic (usually a machine) run under a registered name. */
export interface WorkerSpec {
  type: 'worker';
  /** The child id, which is also its registered name. */
  id: string;
  logic: AnyActorLogic;
  /** XState input; a function is called at each (re)start to build a fresh input. */
  input?: unknown | ((ctx: StartContext) => unknown);
  restart: RestartType;
  shutdown: Shutdown;
  /**
   * When true, shutdown sends the actor `{ type: 'vigil.shutdown' }` through its mailbox and
   * waits (up to `shutdown` ms) for it to reach a final state, so it can finish its work.
   * Otherwise the actor is stopped at once (its `fromCallback` disposers still run).
   */
  trapExit: boolean;
  /** Start waits until this returns true for a snapshot (or the actor fails). */
  readyWhen?: (snapshot: Snapshot<unknown>) => boolean;
  /** How long start waits for `readyWhen`; default 5000 ms. */
  startTimeoutMs: number;
  backoff?: Backoff;
  /** Messages this actor may handle per drain turn (default: the runtime's `budget`). */
  budget?: number;
}

/** Options of a supervisor. OTP defaults: `one_for_one`, 1 restart within 5000 ms. */
export interface SupervisorOptions {
  strategy?: Strategy;
  maxRestarts?: number;
  withinMs?: number;
  restart?: RestartType;
  shutdown?: Shutdown;
}

/** Spec of a supervisor child. */
export interface SupervisorSpec {
  type: 'supervisor';
  id: string;
  strategy: Strategy;
  maxRestarts: number;
  withinMs: number;
  children: ChildSpec[];
  restart: RestartType;
  shutdown: Shutdown;
}

/** A child of a supervisor: a worker or a nested supervisor. */
export type ChildSpec = WorkerSpec | SupervisorSpec;

/** Options accepted by `worker()`. */
export interface WorkerOptions {
  input?: unknown | ((ctx: StartContext) => unknown);
  restart?: RestartType;
  shutdown?: Shutdown;
  trapExit?: boolean;
  readyWhen?: (snapshot: Snapshot<unknown>) => boolean;
  startTimeoutMs?: number;
  backoff?: Backoff;
  /**
   * Messages per drain turn for this actor, overriding the runtime's `budget`: a service whose
   * messages are cheap and batch well (the Alarm's group commit) may take more per turn.
   */
  budget?: number;
}

const RESTARTS: readonly string[] = ['permanent', 'transient', 'temporary'];
const STRATEGIES: readonly string[] = ['one_for_one', 'one_for_all', 'rest_for_one'];

/**
 * Builds and validates a worker spec.
 *
 * @example
 * worker('Greeter', greeterMachine, { restart: 'transient', shutdown: 2000 })
 */
export function worker(id: string, logic: AnyActorLogic, options: WorkerOptions = {}): WorkerSpec {
  return validateChildSpec({
    type: 'worker',
    id,
    logic,
    input: options.input,
    restart: options.restart ?? 'permanent',
    shutdown: options.shutdown ?? 5000,
    trapExit: options.trapExit ?? false,
    readyWhen: options.readyWhen,
    startTimeoutMs: options.startTimeoutMs ?? 5000,
    backoff: options.backoff,
    budget: options.budget,
  }) as WorkerSpec;
}

/**
 * Builds and validates a supervisor spec (its children are validated too).
 *
 * @example
 * supervisor('app', [worker('A', a), worker('B', b)], { strategy: 'rest_for_one' })
 */
export function supervisor(
  id: string,
  children: ChildSpec[],
  options: SupervisorOptions = {},
): SupervisorSpec {
  return validateChildSpec({
    type: 'supervisor',
    id,
    children,
    strategy: options.strategy ?? 'one_for_one',
    maxRestarts: options.maxRestarts ?? 1,
    withinMs: options.withinMs ?? 5000,
    restart: options.restart ?? 'permanent',
    shutdown: options.shutdown ?? 'infinity',
  }) as SupervisorSpec;
}

/**
 * Checks a child spec from any caller (typed or not) and returns it. Throws
 * `InvalidChildSpecError` naming the child and field, or `InvalidSupervisorOptionsError`.
 */
export function validateChildSpec(spec: unknown): ChildSpec {
  if (typeof spec !== 'object' || spec === null)
    throw new InvalidChildSpecError('?', 'spec', 'must be an object');
  const s = spec as Record<string, unknown>;
  const id = typeof s.id === 'string' ? s.id : '?';
  const fail = (field: string, detail: string): never => {
    throw new InvalidChildSpecError(id, field, detail);
  };
  if (!isValidName(s.id)) fail('id', 'must be a non-empty string of at most 200 printable characters');
  if (!RESTARTS.includes(s.restart as string)) fail('restart', `must be one of ${RESTARTS.join(', ')}`);
  if (!isShutdown(s.shutdown)) fail('shutdown', "must be a non-negative number, 'brutal_kill' or 'infinity'");
  if (s.type === 'worker') {
    const logic = s.logic as { transition?: unknown } | null;
    if (typeof logic !== 'object' || logic === null || typeof logic.transition !== 'function') {
      fail('logic', 'must be XState actor logic (a machine, fromCallback, fromPromise...)');
    }
    if (typeof s.trapExit !== 'boolean') fail('trapExit', 'must be a boolean');
    if (s.readyWhen !== undefined && typeof s.readyWhen !== 'function')
      fail('readyWhen', 'must be a function');
    if (!isNonNegative(s.startTimeoutMs)) fail('startTimeoutMs', 'must be a non-negative number');
    if (s.backoff !== undefined) validateBackoff(s.backoff, fail);
    if (s.budget !== undefined && (!Number.isSafeInteger(s.budget) || (s.budget as number) < 1)) {
      fail('budget', 'must be a positive integer');
    }
    return s as unknown as WorkerSpec;
  }
  if (s.type === 'supervisor') {
    if (!STRATEGIES.includes(s.strategy as string)) {
      throw new InvalidSupervisorOptionsError(id, 'strategy', `must be one of ${STRATEGIES.join(', ')}`);
    }
    if (!Number.isInteger(s.maxRestarts) || (s.maxRestarts as number) < 0) {
      throw new InvalidSupervisorOptionsError(id, 'maxRestarts', 'must be a non-negative integer');
    }
    if (!isNonNegative(s.withinMs) || (s.withinMs as number) === 0) {
      throw new InvalidSupervisorOptionsError(id, 'withinMs', 'must be a positive number');
    }
    if (!Array.isArray(s.children)) fail('children', 'must be an array of child specs');
    const seen = new Set<string>();
    for (const child of s.children as unknown[]) {
      const c = validateChildSpec(child);
      if (seen.has(c.id))
        throw new InvalidChildSpecError(c.id, 'id', `is used twice under supervisor '${id}'`);
      seen.add(c.id);
    }
    return s as unknown as SupervisorSpec;
  }
  return fail('type', "must be 'worker' or 'supervisor' (build specs with worker() or supervisor())");
}

function validateBackoff(value: unknown, fail: (field: string, detail: string) => never): void {
  const b = value as Partial<Backoff> | null;
  if (typeof b !== 'object' || b === null) fail('backoff', 'must be { minMs, maxMs, factor }');
  const { minMs, maxMs, factor } = b as Backoff;
  if (!isNonNegative(minMs)) fail('backoff.minMs', 'must be a non-negative number');
  if (!isNonNegative(maxMs) || maxMs < minMs) fail('backoff.maxMs', 'must be a number >= backoff.minMs');
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1)
    fail('backoff.factor', 'must be >= 1');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Names are printable strings of 1 to 200 characters (no control characters). */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 200 && !CONTROL_CHARS.test(name);
}

function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isShutdown(value: unknown): value is Shutdown {
  return value === 'brutal_kill' || value === 'infinity' || isNonNegative(value);
}
