/**
 * Messages between the main thread and a pool thread (see pool.ts). Actors are addressed by a
 * key unique in the pool; a message to an actor carries a sequence number so the watchdog can
 * time the one the thread is handling, and so the main thread knows which messages the thread
 * never began (dead letters when the actor exits).
 *
 * Errors and exit reasons cross as data (`WireError`, `WireReason`) and are revived on the other
 * side with their class when it is a standard one (TypeError...) or a runtime error with a known
 * code (so `instanceof CallTimeoutError` holds on both sides), and their own fields.
 */
import {
  ActorDownError,
  CalleeExitedError,
  CallTimeoutError,
  InvalidMessageError,
  OutOfMemoryError,
  RuntimeStoppedError,
  StartError,
  ThreadExitedError,
  TurnTimeoutError,
  UnknownActorError,
  VigilError,
} from '../errors.js';
import { Exit, type ExitReason } from '../exit.js';

/** An error as it crosses the thread boundary. @internal */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  /** Its own fields that are plain data (an error's `actor`, `timeoutMs`...). */
  fields?: Record<string, string | number | boolean>;
  cause?: WireError;
}

/** An exit reason as it crosses the thread boundary. @internal */
export type WireReason =
  | { kind: 'normal' | 'shutdown' | 'killed' | 'noproc' }
  | { kind: 'error'; error: WireError };

/** Main thread to pool thread. @internal */
export type ToThread =
  | { op: 'start'; key: number; module: string; export: string; input: unknown; name: string }
  | { op: 'msg'; key: number; seq: number; message: object; callId?: number }
  | { op: 'stop'; key: number }
  /** The caller of `callId` gave up (timeout) or the actor exited: its reply would find nobody. */
  | { op: 'forget'; key: number; callId: number }
  /** The answer to a call the actor in the thread made (`id` is the thread's). */
  | { op: 'answer'; key: number; id: number; value?: unknown; error?: WireError };

/** Pool thread to main thread. @internal */
export type FromThread =
  /** The thread's code runs: actors placed on it can start now. */
  | { op: 'ready' }
  | { op: 'started'; key: number }
  | { op: 'failed'; key: number; error: WireError }
  | { op: 'begin'; key: number; seq: number; type: string }
  | { op: 'end'; key: number; seq: number }
  | { op: 'reply'; key: number; callId: number; value: unknown }
  | { op: 'replyError'; key: number; callId: number; error: WireError }
  /** The actor ended in the thread: final state, a crash, or `exit(self, reason)`. */
  | { op: 'exit'; key: number; reason: WireReason }
  /** After a 'stop': the messages the thread dropped instead of handling them. */
  | { op: 'dropped'; key: number; seqs: number[] }
  /** The actor sends to, or calls, a registered actor of the main thread. */
  | { op: 'send'; key: number; to: string; message: object }
  | { op: 'call'; key: number; id: number; to: string; message: object; timeoutMs?: number };

/** @internal */
export function toWire(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const wire: WireError = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') wire.code = code;
  const fields: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(err)) {
    if (k === 'code' || k === 'name' || k === 'message') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  if (Object.keys(fields).length > 0) wire.fields = fields;
  // One level of cause is what the runtime's errors carry (CALLEE_EXITED's crash, START_FAILED's).
  if (err.cause !== undefined && depth < 3) wire.cause = toWire(err.cause, depth + 1);
  return wire;
}

const STANDARD: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Classes of the runtime's errors a caller may branch on with `instanceof`, by code. */
const BY_CODE: Record<string, { prototype: object }> = {
  ACTOR_DOWN: ActorDownError,
  CALLEE_EXITED: CalleeExitedError,
  CALL_TIMEOUT: CallTimeoutError,
  INVALID_MESSAGE: InvalidMessageError,
  OUT_OF_MEMORY: OutOfMemoryError,
  RUNTIME_STOPPED: RuntimeStoppedError,
  START_FAILED: StartError,
  THREAD_EXITED: ThreadExitedError,
  TURN_TIMEOUT: TurnTimeoutError,
  UNKNOWN_ACTOR: UnknownActorError,
};

/** @internal An error from the other thread: its class where known, its code, fields and cause. */
export function fromWire(e: WireError): Error {
  const cause = e.cause ? fromWire(e.cause) : undefined;
  const options = cause === undefined ? undefined : { cause };
  let err: Error;
  if (e.code) {
    err = new VigilError(e.code, e.message, options);
    const known = BY_CODE[e.code];
    if (known) Object.setPrototypeOf(err, known.prototype);
  } else {
    err = new (STANDARD[e.name] ?? Error)(e.message, options);
  }
  err.name = e.name;
  if (e.fields) Object.assign(err, e.fields);
  return err;
}

/** @internal */
export function reasonToWire(reason: ExitReason): WireReason {
  return reason.kind === 'error' ? { kind: 'error', error: toWire(reason.error) } : { kind: reason.kind };
}

/** @internal */
export function reasonFromWire(reason: WireReason): ExitReason {
  return reason.kind === 'error' ? Exit.error(fromWire(reason.error)) : Exit[reason.kind];
}
