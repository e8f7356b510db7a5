/**
 * Every error Vigil raises is a `VigilError` with a stable `code`, so callers can branch on
 * `err.code` without parsing messages. Messages are built from structured fields.
 */
import type { ExitReason } from './exit.js';

/** Base class of every Vigil error; `code` is stable across releases. */
export class VigilError extends Error {
  /** Stable, machine-readable error code, e.g. `CALL_TIMEOUT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A child spec failed validation; names the child and the offending field. */
export class InvalidChildSpecError extends VigilError {
  constructor(
    readonly child: string,
    readonly field: string,
    detail: string,
  ) {
    super('INVALID_CHILD_SPEC', `invalid child spec '${child}': field '${field}' ${detail}`);
  }
}

/** Supervisor options failed validation. */
export class InvalidSupervisorOptionsError extends VigilError {
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
export class DuplicateNameError extends VigilError {
  constructor(readonly actor: string) {
    super('DUPLICATE_NAME', `the name '${actor}' is already registered`);
  }
}

/** A child failed to start; `child` names it, `cause` holds what went wrong. */
export class StartError extends VigilError {
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
export class UnknownActorError extends VigilError {
  constructor(readonly actor: string) {
    super('UNKNOWN_ACTOR', `no actor is declared under the name '${actor}'`);
  }
}

/** The name is declared but no incarnation is running right now (crashed, restarting, stopped). */
export class ActorDownError extends VigilError {
  constructor(readonly actor: string) {
    super('ACTOR_DOWN', `actor '${actor}' is declared but not running`);
  }
}

/** A `call` got no reply within its timeout. */
export class CallTimeoutError extends VigilError {
  constructor(
    readonly actor: string,
    readonly timeoutMs: number,
    readonly messageType: string,
  ) {
    super('CALL_TIMEOUT', `call to '${actor}' (${messageType}) got no reply within ${timeoutMs} ms`);
  }
}

/** The callee exited (crashed or stopped) before it replied. */
export class CalleeExitedError extends VigilError {
  constructor(
    readonly actor: string,
    readonly reason: ExitReason,
  ) {
    super('CALLEE_EXITED', `actor '${actor}' exited before replying (${reason.kind})`, {
      cause: reason.kind === 'error' ? reason.error : undefined,
    });
  }
}

/** A message is not a plain object with a string `type`. */
export class InvalidMessageError extends VigilError {
  constructor(detail: string) {
    super('INVALID_MESSAGE', `invalid message: ${detail}`);
  }
}

/** An option of `createRuntime` that the runtime does not have, or of the wrong shape; names it. */
export class InvalidRuntimeOptionError extends VigilError {
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super('INVALID_RUNTIME_OPTION', `invalid runtime option '${option}': ${detail}`);
  }
}

/** The runtime has stopped (or not started) and cannot take this request. */
export class RuntimeStoppedError extends VigilError {
  constructor(operation: string) {
    super('RUNTIME_STOPPED', `the runtime is not running: cannot ${operation}`);
  }
}

/** The named supervisor has no child with this id. */
export class UnknownChildError extends VigilError {
  constructor(
    readonly supervisor: string,
    readonly child: string,
  ) {
    super('UNKNOWN_CHILD', `supervisor '${supervisor}' has no child '${child}'`);
  }
}

/** The name does not refer to a supervisor. */
export class NotASupervisorError extends VigilError {
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
