/**
 * Workflows defined in code: named steps, each deciding what comes next. A step is an ordinary
 * async function; what it returns (`next`, `repeat`, `waitFor`, `end`, `fail`) is a plain value
 * the Scheduler persists before anything else happens, so the decision survives a crash.
 */
import type { Runtime } from '@vigil/runtime';
import { parseWith } from '@vigil/runtime';
import * as v from 'valibot';
import type { AnyStateMachine } from 'xstate';
import { InvalidWorkflowError } from './errors.js';

/** A JSON object: what a run's context must be, since it is stored as JSON between steps. */
export type WorkflowContext = Record<string, unknown>;

/** When the next step runs: after a duration ('7 days', 90_000) or at an instant (Date, ISO, 'tomorrow at 9am'). */
export interface Timing {
  /** A duration: milliseconds or text such as '7 days', '1 week', '90s'. */
  after?: string | number;
  /** An instant: Date, epoch ms, ISO-8601 or natural language read in the Scheduler's zone. */
  at?: Date | number | string;
}

/** Outcome: run `step` next (after an optional delay), with an optional new context. */
export interface NextOutcome<C> extends Timing {
  kind: 'next';
  step: string;
  context?: C;
}

/** Outcome: run the same step again (a recurrence), after a delay. */
export interface RepeatOutcome<C> extends Timing {
  kind: 'repeat';
  context?: C;
}

/** Outcome: wait for a signal, or until the deadline, whichever comes first. */
export interface WaitOutcome<C> {
  kind: 'wait';
  signal: string;
  /** Step run when the signal arrives; it receives the signal as `event`. */
  onSignal: string;
  /** How long to wait ('7 days'); without it the run waits for the signal forever. */
  timeout?: string | number;
  /** Step run at the deadline (required with `timeout`). */
  onTimeout?: string;
  context?: C;
}

/** Outcome: the run completed with `result`. */
export interface EndOutcome<C> {
  kind: 'end';
  result?: unknown;
  context?: C;
}

/** Outcome: the run failed on purpose (no retry), with `reason`. */
export interface FailOutcome {
  kind: 'fail';
  reason: string;
}

/** What a step returns. */
export type StepOutcome<C> = NextOutcome<C> | RepeatOutcome<C> | WaitOutcome<C> | EndOutcome<C> | FailOutcome;

/** Facts about the run a step executes in. */
export interface RunInfo {
  id: string;
  workflow: string;
  step: string;
  /** Execution number of this step within the run (every attempt and repeat has its own). */
  seq: number;
  /** 1 on the first try of this step, higher on retries after a thrown error. */
  attempt: number;
  /** The instant this step was scheduled for. */
  scheduledFor: number;
}

/** A signal as a step receives it: `{ type: name, ...payload }`. */
export type SignalEvent = { type: string } & Record<string, unknown>;

/** What a step function receives. */
export interface StepArgs<C> {
  context: C;
  run: RunInfo;
  /** The signal that resumed the run, for the `onSignal` step of a `waitFor`. */
  event?: SignalEvent;
  /** Aborted when the Scheduler stops: the step may be run again after the restart. */
  signal: AbortSignal;
  runtime: Runtime;
}

/** A step: an async function returning what comes next. A throw retries it with backoff. */
export type Step<C> = (args: StepArgs<C>) => StepOutcome<C> | Promise<StepOutcome<C>>;

/** Retry of a step that throws: attempts in all, and the delay between them. */
export interface RetryPolicy {
  /** Attempts of one step before the run fails (default 3). */
  maxAttempts?: number;
  /** `minMs * factor^(attempt-1)`, capped at `maxMs` (default 1 s doubling up to 1 h). */
  backoff?: { minMs: number; maxMs: number; factor: number };
}

/** Where a run of an older version stands, as a step migration receives it. */
export interface RunPosition {
  /** The step the run is about to execute (a name of the old version). */
  step: string;
  context: WorkflowContext;
}

/**
 * Moves a run of an older version onto this one at its next step: returns the step to run (a
 * name of this version) and the context. A throw fails the run with the error as its reason.
 */
export type StepMigration<C> = (from: RunPosition) => { step: string; context: C };

/** Definition of a step workflow, as given to `defineWorkflow`. */
export interface WorkflowDefinition<C extends WorkflowContext> {
  name: string;
  /**
   * Version of this definition, an integer >= 1 (default 1). Several versions of one workflow
   * may be registered together: new runs start on the highest, each run keeps the version it
   * started with (see `migrate`).
   */
  version?: number;
  /** The first step. */
  start: string;
  steps: Record<string, Step<C>>;
  retry?: RetryPolicy;
  /**
   * Migrations from older versions, by the version they move from: a run of such a version is
   * moved onto this one at its next step, even if its own version is still registered.
   */
  migrate?: Record<number, StepMigration<C>>;
}

/** A registered step workflow (the value `defineWorkflow` returns). */
export interface StepWorkflow<C extends WorkflowContext = WorkflowContext> {
  readonly kind: 'steps';
  readonly name: string;
  readonly version: number;
  readonly start: string;
  readonly steps: Readonly<Record<string, Step<C>>>;
  readonly retry: Required<RetryPolicy>;
  readonly migrate: Readonly<Record<number, StepMigration<C>>>;
}

/** A registered XState machine run durably (see `defineMachineWorkflow`). */
export interface MachineWorkflow {
  readonly kind: 'machine';
  readonly name: string;
  readonly version: number;
  readonly machine: AnyStateMachine;
  /** Migrations of a stored machine snapshot from older versions, by the version they move from. */
  readonly migrate: Readonly<Record<number, (snapshot: unknown) => unknown>>;
}

/** Anything the Scheduler can run. */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds workflows of every context type
export type Workflow = StepWorkflow<any> | MachineWorkflow;

/**
 * Defines a workflow of named steps. Validated here: a misspelt step name fails at boot, not
 * days later when a run reaches it.
 *
 * @example
 * const followUp = defineWorkflow<{ contact: string }>({
 *   name: 'follow-up',
 *   start: 'email',
 *   steps: {
 *     email: async ({ context }) => {
 *       await sendEmail(context.contact);
 *       return waitFor('reply', { timeout: '7 days', onTimeout: 'email', onSignal: 'thank' });
 *     },
 *     thank: () => end({ result: 'replied' }),
 *   },
 * });
 */
export function defineWorkflow<C extends WorkflowContext = WorkflowContext>(
  definition: WorkflowDefinition<C>,
): StepWorkflow<C> {
  const fail = (field: string, detail: string): never => {
    const name = (definition as { name?: unknown } | null)?.name;
    throw new InvalidWorkflowError(String(name), `${field || 'definition'} ${detail}`);
  };
  const d = parseWith(DefinitionSchema, definition, fail);
  // The one check across fields, made on the parsed value.
  if (!Object.hasOwn(d.steps, d.start))
    fail('start', `must name one of its steps (${Object.keys(d.steps).join(', ')})`);
  return Object.freeze({
    kind: 'steps',
    name: d.name,
    version: d.version,
    start: d.start,
    steps: Object.freeze(d.steps as Record<string, Step<C>>),
    retry: d.retry,
    migrate: Object.freeze(d.migrate as Record<number, StepMigration<C>>),
  });
}

// --- Schema of a definition ------------------------------------------------------------------

const BACKOFF = 'must be { minMs >= 0, maxMs >= minMs, factor >= 1 }';

const VERSION = 'must be an integer >= 1';

/** `version` of a definition (steps or machine). @internal */
export const VersionSchema = v.optional(
  v.pipe(v.number(VERSION), v.safeInteger(VERSION), v.minValue(1, VERSION)),
  1,
);

const MIGRATE = 'must be an object of functions keyed by the version they migrate from';

/** `migrate` of a definition: functions keyed by an older version. @internal */
export const MigrateSchema = v.optional(
  v.record(
    v.pipe(v.string(), v.regex(/^[1-9][0-9]*$/, MIGRATE)),
    v.custom<(...args: never[]) => unknown>((fn) => typeof fn === 'function', MIGRATE),
    MIGRATE,
  ),
  {},
);

const DefinitionSchema = v.object(
  {
    name: v.pipe(
      v.string('must be a string of 1 to 200 characters'),
      v.minLength(1, 'must be a string of 1 to 200 characters'),
      v.maxLength(200, 'must be a string of 1 to 200 characters'),
    ),
    // A step's context type is the caller's C: checked here as a function, typed by defineWorkflow.
    steps: v.pipe(
      v.record(
        v.string(),
        // biome-ignore lint/suspicious/noExplicitAny: the definition's own context type is applied by the caller
        v.custom<Step<any>>((fn) => typeof fn === 'function', 'must be a function'),
        'must be an object of step functions',
      ),
      v.check((steps) => Object.keys(steps).length > 0, 'must name at least one step'),
    ),
    start: v.string('must name one of its steps'),
    version: VersionSchema,
    migrate: MigrateSchema,
    retry: v.optional(
      v.object(
        {
          maxAttempts: v.optional(
            v.pipe(
              v.number('must be an integer >= 1'),
              v.safeInteger('must be an integer >= 1'),
              v.minValue(1, 'must be an integer >= 1'),
            ),
            3,
          ),
          backoff: v.optional(
            v.pipe(
              v.object(
                {
                  minMs: v.pipe(v.number(BACKOFF), v.minValue(0, BACKOFF)),
                  maxMs: v.number(BACKOFF),
                  factor: v.pipe(v.number(BACKOFF), v.minValue(1, BACKOFF)),
                },
                BACKOFF,
              ),
              v.check((b) => b.maxMs >= b.minMs, BACKOFF),
            ),
            { minMs: 1000, maxMs: 3_600_000, factor: 2 },
          ),
        },
        'must be { maxAttempts?, backoff? }',
      ),
      {},
    ),
  },
  'must be an object { name, start, steps, retry? }',
);

/**
 * Runs `step` next: at once, `after` a duration, or `at` an instant.
 *
 * @example
 * return next('wait', { after: '7 days', context: { ...context, tries: context.tries + 1 } });
 */
export function next<C>(step: string, options: Timing & { context?: C } = {}): NextOutcome<C> {
  return { kind: 'next', step, ...options };
}

/**
 * Runs the current step again after a delay: a recurrence that each run decides to continue.
 *
 * @example
 * return repeat({ after: '1 week' });
 */
export function repeat<C>(options: Timing & { context?: C }): RepeatOutcome<C> {
  return { kind: 'repeat', ...options };
}

/**
 * Waits for the signal `name` (sent with `WorkflowClient.signal`) or for the timeout.
 *
 * @example
 * return waitFor('reply', { timeout: '7 days', onTimeout: 'remind', onSignal: 'thank' });
 */
export function waitFor<C>(
  name: string,
  options: { onSignal: string; timeout?: string | number; onTimeout?: string; context?: C },
): WaitOutcome<C> {
  return { kind: 'wait', signal: name, ...options };
}

/**
 * Completes the run.
 *
 * @example
 * return end({ result: { replied: true } });
 */
export function end<C>(options: { result?: unknown; context?: C } = {}): EndOutcome<C> {
  return { kind: 'end', ...options };
}

/**
 * Fails the run now, without retrying: for outcomes that another attempt cannot change.
 *
 * @example
 * if (!context.contact) return fail('no contact address');
 */
export function fail(reason: string): FailOutcome {
  return { kind: 'fail', reason };
}

/** Checks that a step's return value is an outcome naming existing steps; returns why not. @internal */
export function checkOutcome(workflow: StepWorkflow, value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || typeof (value as { kind?: unknown }).kind !== 'string')
    return 'returned no outcome (use next, repeat, waitFor, end or fail)';
  const o = value as StepOutcome<WorkflowContext>;
  const known = (step: unknown) => typeof step === 'string' && Object.hasOwn(workflow.steps, step);
  switch (o.kind) {
    case 'next':
      return known(o.step) ? undefined : `returned next('${String(o.step)}'), which is not a step`;
    case 'wait':
      if (typeof o.signal !== 'string' || o.signal.length === 0) return 'waitFor needs a signal name';
      if (!known(o.onSignal)) return `waitFor onSignal '${String(o.onSignal)}' is not a step`;
      if (o.timeout !== undefined && !known(o.onTimeout))
        return `waitFor onTimeout '${String(o.onTimeout)}' is not a step`;
      return undefined;
    case 'repeat':
    case 'end':
      return undefined;
    case 'fail':
      return typeof o.reason === 'string' ? undefined : 'fail needs a reason';
    default:
      return `returned an unknown outcome '${String((o as { kind: unknown }).kind)}'`;
  }
}
