/**
 * Every error Vigil raises is a `VigilError` with a stable `code`, so callers can branch on
 * `err.code` without parsing messages. Messages are built from structured fields.
 */
import type { ExitReason } from './exit.js';

/**
 * Every code the runtime's errors use. Other packages add their own codes by passing them as
 * the type parameter of `VigilError` (`class X extends VigilError<'MY_CODE'>`), or use a string.
 */
export type VigilErrorCode =
  | 'INVALID_CHILD_SPEC'
  | 'INVALID_SUPERVISOR_OPTIONS'
  | 'DUPLICATE_NAME'
  | 'START_FAILED'
  | 'UNKNOWN_ACTOR'
  | 'ACTOR_DOWN'
  | 'CALL_TIMEOUT'
  | 'CALLEE_EXITED'
  | 'INVALID_MESSAGE'
  | 'RUNTIME_STOPPED'
  | 'UNKNOWN_CHILD'
  | 'NOT_A_SUPERVISOR'
  | 'ALREADY_RUNNING'
  | 'NOT_A_VIGIL_ACTOR'
  | 'MAIN_THREAD_ONLY'
  | 'INVALID_RUNTIME_OPTION'
  | 'TURN_TIMEOUT'
  | 'OUT_OF_MEMORY'
  | 'THREAD_EXITED'
  | 'THREAD_ENTRY'
  | 'UPGRADE_FAILED';

/**
 * Base class of every Vigil error; `code` is stable across releases. The type parameter is the
 * code's type: a runtime error's code is one of `VigilErrorCode`, another package's is its own.
 */
export class VigilError<Code extends string = VigilErrorCode | (string & {})> extends Error {
  /** Stable, machine-readable error code, e.g. `CALL_TIMEOUT`. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A child spec failed validation; names the child and the offending field. */
export class InvalidChildSpecError extends VigilError<'INVALID_CHILD_SPEC'> {
  constructor(
    readonly child: string,
    readonly field: string,
    detail: string,
  ) {
    super('INVALID_CHILD_SPEC', `invalid child spec '${child}': field '${field}' ${detail}`);
  }
}

/** Supervisor options failed validation. */
export class InvalidSupervisorOptionsError extends VigilError<'INVALID_SUPERVISOR_OPTIONS'> {
  constructor(
    readonly supervisor: string,
    readonly field: string,
    detail: string,
  ) {
    super(
      'INVALID_SUPERVISOR_OPTIONS',
      `invalid options for supervisor '${supervisor}': '${field}' ${detail}`,
    );
  }
}

/** A name is already registered in this runtime. */
export class DuplicateNameError extends VigilError<'DUPLICATE_NAME'> {
  constructor(readonly actor: string) {
    super('DUPLICATE_NAME', `the name '${actor}' is already registered`);
  }
}

/** A child failed to start; `child` names it, `cause` holds what went wrong. */
export class StartError extends VigilError<'START_FAILED'> {
  constructor(
    readonly supervisor: string,
    readonly child: string,
    cause: unknown,
  ) {
    super('START_FAILED', `supervisor '${supervisor}' could not start child '${child}': ${describe(cause)}`, {
      cause,
    });
  }
}

/** No actor was ever declared under this name. */
export class UnknownActorError extends VigilError<'UNKNOWN_ACTOR'> {
  constructor(readonly actor: string) {
    super('UNKNOWN_ACTOR', `no actor is declared under the name '${actor}'`);
  }
}

/** The name is declared but no incarnation is running right now (crashed, restarting, stopped). */
export class ActorDownError extends VigilError<'ACTOR_DOWN'> {
  constructor(readonly actor: string) {
    super('ACTOR_DOWN', `actor '${actor}' is declared but not running`);
  }
}

/** A `call` got no reply within its timeout. */
export class CallTimeoutError extends VigilError<'CALL_TIMEOUT'> {
  constructor(
    readonly actor: string,
    readonly timeoutMs: number,
    readonly messageType: string,
  ) {
    super('CALL_TIMEOUT', `call to '${actor}' (${messageType}) got no reply within ${timeoutMs} ms`);
  }
}

/** The callee exited (crashed or stopped) before it replied. */
export class CalleeExitedError extends VigilError<'CALLEE_EXITED'> {
  constructor(
    readonly actor: string,
    readonly reason: ExitReason,
  ) {
    super('CALLEE_EXITED', `actor '${actor}' exited before replying (${reason.kind})`, {
      cause: reason.kind === 'error' ? reason.error : undefined,
    });
  }
}

/**
 * A hot upgrade did not happen: `stage` says where it failed (`load`: the module or its export,
 * `migrate`: the migration threw, `start`: the new logic failed to start, `exited`: the actor
 * exited during the upgrade). In every case but `exited` the old logic runs on from its
 * snapshot, with its mailbox intact; `cause` holds what went wrong.
 */
export class UpgradeFailedError extends VigilError<'UPGRADE_FAILED'> {
  constructor(
    readonly actor: string,
    readonly stage: 'load' | 'migrate' | 'start' | 'exited',
    cause: unknown,
  ) {
    super('UPGRADE_FAILED', `upgrade of '${actor}' failed at ${stage}: ${describe(cause)}`, { cause });
  }
}

/** A message is not a plain object with a string `type`. */
export class InvalidMessageError extends VigilError<'INVALID_MESSAGE'> {
  constructor(detail: string) {
    super('INVALID_MESSAGE', `invalid message: ${detail}`);
  }
}

/** An option of `createRuntime` that the runtime does not have, or of the wrong shape; names it. */
export class InvalidRuntimeOptionError extends VigilError<'INVALID_RUNTIME_OPTION'> {
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super('INVALID_RUNTIME_OPTION', `invalid runtime option '${option}': ${detail}`);
  }
}

/** The runtime has stopped (or not started) and cannot take this request. */
export class RuntimeStoppedError extends VigilError<'RUNTIME_STOPPED'> {
  constructor(operation: string, options?: { cause?: unknown }) {
    super('RUNTIME_STOPPED', `the runtime is not running: cannot ${operation}`, options);
  }
}

/**
 * `restartChild` or `deleteChild` of a child that is running (OTP's `{error, running}`): stop it
 * with `terminateChild` first.
 */
export class AlreadyRunningError extends VigilError<'ALREADY_RUNNING'> {
  constructor(
    readonly supervisor: string,
    readonly child: string,
    readonly operation: 'restartChild' | 'deleteChild',
  ) {
    super('ALREADY_RUNNING', `${operation}: child '${child}' of supervisor '${supervisor}' is running`);
  }
}

/** The codes of failures that may pass: the receiver is restarting, slow, or shutting down. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set<VigilErrorCode>([
  'ACTOR_DOWN',
  'CALLEE_EXITED',
  'CALL_TIMEOUT',
  'RUNTIME_STOPPED',
]);

/**
 * True when trying again later may succeed: an error with code `ACTOR_DOWN`,
 * `CALLEE_EXITED`, `CALL_TIMEOUT` or `RUNTIME_STOPPED`, or any error carrying `retryable: true`
 * (what a target's `replyError` uses to ask for a retry).
 *
 * @example
 * try { await runtime.call('Mailer', msg) } catch (err) { if (!isRetryable(err)) throw err }
 */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { retryable, code } = error as { retryable?: unknown; code?: unknown };
  // By code, not instanceof: an error from another copy of this package counts the same.
  return retryable === true || (typeof code === 'string' && RETRYABLE_CODES.has(code));
}

/** The named supervisor has no child with this id. */
export class UnknownChildError extends VigilError<'UNKNOWN_CHILD'> {
  constructor(
    readonly supervisor: string,
    readonly child: string,
  ) {
    super('UNKNOWN_CHILD', `supervisor '${supervisor}' has no child '${child}'`);
  }
}

/** The name does not refer to a supervisor. */
export class NotASupervisorError extends VigilError<'NOT_A_SUPERVISOR'> {
  constructor(readonly actor: string) {
    super('NOT_A_SUPERVISOR', `'${actor}' is not a supervisor`);
  }
}

/**
 * Turns any thrown value into an `Error`, keeping the original as `cause` when it was not one.
 * Used wherever user code can throw: actions, guards, listeners, start functions.
 */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(`non-error thrown: ${describe(value)}`, { cause: value });
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? describeValue(value));
  } catch {
    return describeValue(value);
  }
}

/**
 * A short printable form of any value, for error messages about untrusted input. Never throws:
 * `String(x)` does for objects without a prototype or with a throwing `toString`.
 */
export function describeValue(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * An isolated actor's handling of one message ran longer than its `maxTurnMs`: its thread was
 * terminated (preempted) and the actor exits with this error.
 */
export class TurnTimeoutError extends VigilError<'TURN_TIMEOUT'> {
  constructor(
    readonly actor: string,
    readonly messageType: string,
    readonly maxTurnMs: number,
    /** How long the message had run when the watchdog ended its thread (ms). */
    readonly ranMs: number,
  ) {
    super(
      'TURN_TIMEOUT',
      `'${actor}' handled '${messageType}' for ${Math.round(ranMs)} ms, more than its ${maxTurnMs} ms: preempted`,
    );
  }
}

/** An isolated actor's thread ran out of its heap limit; the actor exits with this error. */
export class OutOfMemoryError extends VigilError<'OUT_OF_MEMORY'> {
  constructor(
    readonly actor: string,
    readonly heapMb: number | undefined,
  ) {
    super(
      'OUT_OF_MEMORY',
      `'${actor}' ran out of memory${heapMb === undefined ? '' : ` (heap limit ${heapMb} MB)`}: its thread was ended`,
    );
  }
}

/**
 * The thread an isolated actor shared with another one was ended because of that other actor
 * (preempted, out of memory): the actor exits with this error, as a process linked to one that
 * died (OTP), and its supervisor restarts it as for any crash.
 */
export class ThreadExitedError extends VigilError<'THREAD_EXITED'> {
  constructor(
    readonly actor: string,
    readonly because: string,
  ) {
    super('THREAD_EXITED', `'${actor}' shared a thread with an actor that ended it: ${because}`);
  }
}
