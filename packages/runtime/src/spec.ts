/**
 * Child specs, after OTP's `child_spec()`: what to start, when to restart it, how to stop it.
 * They are validated when built, with errors that name the child and the field.
 */

import * as v from 'valibot';
import type { AnyActorLogic, Snapshot } from 'xstate';
import { InvalidChildSpecError, InvalidSupervisorOptionsError } from './errors.js';
import { isolatedWorkerLogic } from './isolation/mark.js';
import { parseWith } from './validate.js';

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
  /**
   * `'thread'`: run the logic, given as `{ module, export }`, on a thread of the runtime's pool
   * (`createRuntime({ threadPool })`), where one message that runs too long is preempted and a
   * heap overrun ends the actor, not the process. See the README's "Isolated actors".
   */
  isolation?: 'thread';
  /**
   * With `isolation: 'thread'`: longest one message may run, in ms, before the actor's thread is
   * terminated and the actor exits with `TURN_TIMEOUT` (default 1000; `'infinity'`: never).
   */
  maxTurnMs?: number | 'infinity';
}

/**
 * The logic of an isolated actor, named by module and export: code cannot cross threads, so the
 * thread imports `module` (an absolute `file:` URL or path) and runs its export `export`.
 */
export interface IsolatedModule {
  /** The module the thread imports: an absolute `file:` URL or path. */
  module: string | URL;
  /** The name of its export that is the actor's XState logic. */
  export: string;
}

/**
 * Builds and validates a worker spec. With `isolation: 'thread'` the logic is `{ module, export }`
 * and runs on a thread of the runtime's pool (an isolated actor); otherwise it is XState logic
 * run on the main thread.
 *
 * @example
 * worker('Greeter', greeterMachine, { restart: 'transient', shutdown: 2000 })
 * worker('Parser', { module: new URL('./parser.js', import.meta.url), export: 'parser' }, {
 *   isolation: 'thread',
 *   maxTurnMs: 500,
 * })
 */
export function worker(
  id: string,
  logic: AnyActorLogic | IsolatedModule,
  options: WorkerOptions = {},
): WorkerSpec {
  return validateChildSpec({
    type: 'worker',
    id,
    logic: logicOf(id, logic, options),
    input: options.input,
    restart: options.restart ?? 'permanent',
    shutdown: options.shutdown ?? 5000,
    trapExit: options.trapExit ?? false,
    readyWhen: options.readyWhen,
    startTimeoutMs: options.startTimeoutMs ?? 5000,
    backoff: options.backoff,
    budget: options.budget,
  }) as WorkerSpec; // validateChildSpec returns the kind it was given
}

/** The logic a worker spec runs: `logic` itself, or the proxy of an isolated actor. */
function logicOf(id: string, logic: AnyActorLogic | IsolatedModule, options: WorkerOptions): unknown {
  const named = typeof logic === 'object' && logic !== null && 'module' in logic && !isLogic(logic);
  const isolation = options?.isolation;
  if (isolation === undefined) {
    if (named)
      throw new InvalidChildSpecError(
        id,
        'isolation',
        "must be 'thread' for a logic given as { module, export }",
      );
    if (options?.maxTurnMs !== undefined)
      throw new InvalidChildSpecError(id, 'maxTurnMs', "applies only with isolation: 'thread'");
    return logic;
  }
  if (isolation !== 'thread') throw new InvalidChildSpecError(id, 'isolation', "must be 'thread' or absent");
  if (!named)
    throw new InvalidChildSpecError(
      id,
      'logic',
      "with isolation: 'thread' must be { module, export } (code cannot cross threads)",
    );
  return isolatedWorkerLogic(id, logic.module, logic.export, { maxTurnMs: options.maxTurnMs });
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
  }) as SupervisorSpec; // validateChildSpec returns the kind it was given
}

/**
 * Checks a child spec from any caller (typed or not) and returns it. Throws
 * `InvalidChildSpecError` naming the child and field, or `InvalidSupervisorOptionsError`.
 */
export function validateChildSpec(spec: unknown): ChildSpec {
  if (typeof spec !== 'object' || spec === null)
    throw new InvalidChildSpecError('?', 'spec', 'must be an object');
  const s = spec as { type?: unknown; id?: unknown };
  const id = typeof s.id === 'string' ? s.id : '?';
  const fail = (field: string, detail: string): never => {
    if (SUPERVISOR_OPTIONS.has(field)) throw new InvalidSupervisorOptionsError(id, field, detail);
    throw new InvalidChildSpecError(id, field, detail);
  };
  if (s.type === 'worker') return parseWith(WorkerSchema, spec, fail);
  if (s.type === 'supervisor') {
    const valid = parseWith(SupervisorSchema, spec, fail);
    const seen = new Set<string>();
    const children = valid.children.map((child) => {
      const c = validateChildSpec(child);
      if (seen.has(c.id))
        throw new InvalidChildSpecError(c.id, 'id', `is used twice under supervisor '${id}'`);
      seen.add(c.id);
      return c;
    });
    return { ...valid, children };
  }
  parseWith(CommonSchema, spec, fail);
  return fail('type', "must be 'worker' or 'supervisor' (build specs with worker() or supervisor())");
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Names are printable strings of 1 to 200 characters (no control characters). */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 200 && !CONTROL_CHARS.test(name);
}

// --- Schemas ------------------------------------------------------------------------------------
// Entries are checked in the order written, and the first bad one is reported: the order is the
// order of the fields in the docs above. Objects are loose, so a field added to a spec elsewhere
// is carried through rather than silently dropped.

const RESTARTS = ['permanent', 'transient', 'temporary'] as const;
const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;
/** Fields of a supervisor spec that are its options: reported as `InvalidSupervisorOptionsError`. */
const SUPERVISOR_OPTIONS = new Set(['strategy', 'maxRestarts', 'withinMs']);

const nonNegative = (message: string) => v.pipe(v.number(message), v.finite(message), v.minValue(0, message));

const Name = v.custom<string>(isValidName, 'must be a non-empty string of at most 200 printable characters');

const ShutdownSchema = v.union(
  [
    v.picklist(['brutal_kill', 'infinity']),
    nonNegative("must be a non-negative number, 'brutal_kill' or 'infinity'"),
  ],
  "must be a non-negative number, 'brutal_kill' or 'infinity'",
);

const CommonEntries = {
  id: Name,
  restart: v.picklist(RESTARTS, `must be one of ${RESTARTS.join(', ')}`),
  shutdown: ShutdownSchema,
};
const CommonSchema = v.looseObject(CommonEntries);

/** @internal True for XState actor logic (the test a spec applies to `logic`). */
export const isLogic = (value: unknown): value is AnyActorLogic =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { transition?: unknown }).transition === 'function';

const BackoffSchema = v.pipe(
  v.object(
    {
      minMs: nonNegative('must be a non-negative number'),
      maxMs: nonNegative('must be a number >= backoff.minMs'),
      factor: v.pipe(v.number('must be >= 1'), v.finite('must be >= 1'), v.minValue(1, 'must be >= 1')),
    },
    'must be { minMs, maxMs, factor }',
  ),
  v.forward(
    v.check((b) => b.maxMs >= b.minMs, 'must be a number >= backoff.minMs'),
    ['maxMs'],
  ),
);

const WorkerSchema = v.looseObject({
  ...CommonEntries,
  type: v.literal('worker'),
  logic: v.custom<AnyActorLogic>(
    isLogic,
    'must be XState actor logic (a machine, fromCallback, fromPromise...)',
  ),
  input: v.optional(v.unknown()),
  trapExit: v.boolean('must be a boolean'),
  readyWhen: v.optional(
    v.custom<(snapshot: Snapshot<unknown>) => boolean>((f) => typeof f === 'function', 'must be a function'),
  ),
  startTimeoutMs: nonNegative('must be a non-negative number'),
  backoff: v.optional(BackoffSchema),
  budget: v.optional(
    v.pipe(
      v.number('must be a positive integer'),
      v.safeInteger('must be a positive integer'),
      v.minValue(1, 'must be a positive integer'),
    ),
  ),
});

const SupervisorSchema = v.looseObject({
  ...CommonEntries,
  type: v.literal('supervisor'),
  strategy: v.picklist(STRATEGIES, `must be one of ${STRATEGIES.join(', ')}`),
  maxRestarts: v.pipe(
    v.number('must be a non-negative integer'),
    v.integer('must be a non-negative integer'),
    v.minValue(0, 'must be a non-negative integer'),
  ),
  withinMs: v.pipe(
    v.number('must be a positive number'),
    v.finite('must be a positive number'),
    v.gtValue(0, 'must be a positive number'),
  ),
  children: v.array(v.unknown(), 'must be an array of child specs'),
});
