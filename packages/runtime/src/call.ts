/**
 * Request/response on top of asynchronous mailboxes. A `call` delivers a fresh copy of the
 * message; the copy is the correlation key, so the callee answers with `reply(event, value)`
 * from any action, now or later (keep the event in context and reply when the work is done).
 * A reply after the caller gave up (timeout, callee exit) finds no entry and is dropped.
 */
import type { Clock, TimerHandle } from './clock.js';
import { CallTimeoutError } from './errors.js';

/** A call waiting for its reply. */
export interface PendingCall {
  readonly to: string;
  settle(error: Error | undefined, value?: unknown): void;
  /** Calls `listener` once when the call settles (replied, timed out, callee exited). */
  observe(listener: () => void): void;
}

const pendingByEvent = new WeakMap<object, PendingCall>();

/** @internal Registers `event` as the key of a call; returns the pending entry and its promise. */
export function openCall(
  event: object,
  to: string,
  messageType: string,
  timeoutMs: number,
  clock: Clock,
  onSettled: (call: PendingCall) => void,
): { call: PendingCall; promise: Promise<unknown> } {
  let timer: TimerHandle | undefined;
  let done = false;
  let observers: (() => void)[] | undefined;
  let resolveFn!: (value: unknown) => void;
  let rejectFn!: (error: Error) => void;
  const promise = new Promise<unknown>((resolve, reject) => {
    resolveFn = resolve;
    rejectFn = reject;
  });
  const call: PendingCall = {
    to,
    settle(error, value) {
      if (done) return;
      done = true;
      pendingByEvent.delete(event);
      if (timer !== undefined) clock.clearTimeout(timer);
      onSettled(call);
      if (error) rejectFn(error);
      else resolveFn(value);
      for (const listener of observers ?? []) listener();
    },
    observe(listener) {
      observers ??= [];
      observers.push(listener);
    },
  };
  pendingByEvent.set(event, call);
  if (Number.isFinite(timeoutMs)) {
    timer = clock.setTimeout(() => call.settle(new CallTimeoutError(to, timeoutMs, messageType)), timeoutMs);
  }
  return { call, promise };
}

/** @internal The pending call keyed by `event`, if any. */
export function pendingCallOf(event: object): PendingCall | undefined {
  return pendingByEvent.get(event);
}

/**
 * Answers a `call`. Use it in an action with the event being handled, or later with the same
 * event object kept in context. Returns false when nobody waits any more (timed out, or the
 * event came from `send`, not `call`).
 *
 * @example
 * on: { GET: { actions: ({ context, event }) => reply(event, context.count) } }
 */
export function reply(event: object, value?: unknown): boolean {
  const call = pendingByEvent.get(event);
  if (!call) return false;
  call.settle(undefined, value);
  return true;
}

/**
 * Answers a `call` with an error: the caller's promise rejects with `error` itself, so a
 * target can report a typed failure (e.g. a permanent delivery failure) without crashing.
 */
export function replyError(event: object, error: Error): boolean {
  const call = pendingByEvent.get(event);
  if (!call) return false;
  call.settle(error);
  return true;
}
