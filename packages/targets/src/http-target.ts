/**
 * The HTTP targets (Pushover, Webhook): the target machine of `defineTarget` (target-machine.ts),
 * configured with what an HTTP delivery needs on top:
 *
 * - a transient failure is answered with a `TransientDeliveryError` that carries the server's
 *   `retryAfterMs`, so the Alarm re-schedules the same alarm row no earlier than the server asked
 *   (`defineTarget` wraps a thrown error and would lose that delay);
 * - an optional retry limit that turns the last transient failure into a permanent one;
 * - a note kept from the latest answer (Pushover's quota), answered to a query message without
 *   waiting behind the deliveries in flight;
 * - each request is aborted when the actor stops, through the promise actor's `signal`.
 *
 * A retry is durable because it is the Alarm's own retry: the row's `fire_at` moves and its
 * attempt count grows in the same SQLite transaction, so a restart between two attempts changes
 * nothing. The target itself holds no timer.
 *
 * @internal
 */
import type { DeliveryInfo } from '@vigil/alarm';
import { parseWith, type Runtime, VigilError } from '@vigil/runtime';
import * as v from 'valibot';
import type { EventObject } from 'xstate';
import type { DeliveryFailure } from './http.js';
import { PermanentFailure } from './target.js';
import { type Settled, targetMachine } from './target-machine.js';

/**
 * A delivery that failed for a reason that may pass (HTTP 429 or 5xx, timeout, network error).
 * The Alarm retries the alarm with its backoff, and not before `retryAfterMs` when set.
 * A hand-written target can answer a call with it (`replyError(event, new TransientDeliveryError(...))`)
 * to ask for a retry at a given delay.
 */
export class TransientDeliveryError extends VigilError {
  /** Read by the Alarm: retry rather than fail. */
  readonly retryable = true;
  /** Earliest delay before the next attempt, in ms, when the server named one. */
  readonly retryAfterMs?: number;
  /** HTTP status, absent when no answer arrived. */
  readonly status?: number;
  /** Errors reported by the server (never a secret). */
  readonly errors: readonly string[];

  constructor(reason: string, details: { retryAfterMs?: number; status?: number; errors?: string[] } = {}) {
    super('DELIVERY_TRANSIENT', reason);
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.status !== undefined) this.status = details.status;
    this.errors = details.errors ?? [];
  }
}

/**
 * A delivery the server refused for good (HTTP 400 and the like): a `PermanentFailure` that also
 * carries the status and the server's errors, so the alarm is marked failed with them.
 */
export class RejectedDeliveryError extends PermanentFailure {
  /** HTTP status, absent when the target gave up after transient failures without an answer. */
  readonly status?: number;
  /** Errors reported by the server (never a secret). */
  readonly errors: readonly string[];

  constructor(reason: string, details: { status?: number; errors?: string[] } = {}) {
    super(reason);
    if (details.status !== undefined) this.status = details.status;
    this.errors = details.errors ?? [];
  }
}

/** What one attempt came to: success with the value to reply, or the HTTP layer's failure. */
export type AttemptResult<N> = ({ ok: true; value: unknown } | DeliveryFailure) & {
  /** Something to remember from the answer (Pushover's quota); kept as the target's latest note. */
  note?: N;
};

/** @internal What an HTTP target is made of. */
export interface HttpTargetSpec<N> {
  /** Machine id, for inspection. */
  id: string;
  /**
   * Makes one attempt. Throws `PermanentFailure` for a delivery that no retry can fix (invalid
   * message), before any request.
   */
  attempt(
    delivery: EventObject,
    context: { signal: AbortSignal; runtime: Runtime; name: string },
  ): Promise<AttemptResult<N>>;
  /** Called with each note, in the delivery's promise, e.g. to emit a bus event. */
  onNote?(note: N, context: { runtime: Runtime; name: string }): void;
  /** Message type answered with the latest note (or null) instead of being delivered. */
  queryType?: string;
  /** Retries after the first attempt before a transient failure becomes permanent (default: no limit here). */
  maxRetries?: number;
  /** Deliveries in flight at once. */
  concurrency: number;
}

/** @internal Builds the machine of an HTTP target. */
export function httpTarget<N>(spec: HttpTargetSpec<N>) {
  const { maxRetries } = spec;
  return targetMachine<N>({
    id: spec.id,
    concurrency: spec.concurrency,
    ...(spec.queryType === undefined ? {} : { queryType: spec.queryType }),
    deliver: async (event, { signal, runtime, name }): Promise<Settled<N>> => {
      const result = await spec.attempt(event, { signal, runtime, name });
      if (result.note !== undefined) spec.onNote?.(result.note, { runtime, name });
      const note = result.note === undefined ? {} : { note: result.note };
      if (result.ok) return { ok: true, value: result.value, ...note };
      return { ok: false, error: failureError(result, attemptOf(event), maxRetries), ...note };
    },
    // What `attempt` throws before any request: permanent if it says so, else worth a retry.
    failure: (err) =>
      err instanceof PermanentFailure
        ? err
        : new TransientDeliveryError(err instanceof Error ? err.message : String(err)),
  });
}

/** Turns a failed attempt into the error the caller (usually the Alarm) acts on. */
function failureError(
  failure: DeliveryFailure,
  attempt: number | undefined,
  maxRetries: number | undefined,
): Error {
  const details = {
    errors: failure.errors,
    ...(failure.status === undefined ? {} : { status: failure.status }),
  };
  if (failure.permanent) return new RejectedDeliveryError(failure.reason, details);
  if (maxRetries !== undefined && attempt !== undefined && attempt > maxRetries) {
    return new RejectedDeliveryError(
      `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${failure.reason}`,
      details,
    );
  }
  return new TransientDeliveryError(failure.reason, {
    ...details,
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
  });
}

/** The attempt number of an alarm delivery; undefined for a message sent directly, not by an alarm. */
function attemptOf(event: EventObject): number | undefined {
  const alarm = (event as { alarm?: Partial<DeliveryInfo> }).alarm;
  return typeof alarm?.attempt === 'number' ? alarm.attempt : undefined;
}

/** Splits a delivery into its own fields, without `type` and the alarm envelope. */
export function payloadOf(event: EventObject): Record<string, unknown> {
  const { type: _type, alarm: _alarm, ...rest } = event as EventObject & { alarm?: unknown };
  return rest;
}

/** Validates a retry limit option. */
export function checkMaxRetries(value: unknown, target: string): number | undefined {
  return parseWith(MaxRetriesSchema, value, (_field, detail, given) => {
    throw new VigilError('INVALID_OPTION', `${target}: maxRetries ${detail}, got ${String(given)}`);
  });
}

/** Validates a concurrency option. */
export function checkConcurrency(value: unknown, target: string): number {
  return parseWith(v.optional(ConcurrencySchema, DEFAULT_CONCURRENCY), value, (_field, detail, given) => {
    throw new VigilError('INVALID_OPTION', `${target}: concurrency ${detail}, got ${String(given)}`);
  });
}

const MaxRetriesSchema = v.optional(
  v.pipe(
    v.number('must be an integer >= 0'),
    v.integer('must be an integer >= 0'),
    v.minValue(0, 'must be an integer >= 0'),
  ),
);

const ConcurrencySchema = v.pipe(
  v.number('must be a positive integer'),
  v.integer('must be a positive integer'),
  v.minValue(1, 'must be a positive integer'),
);

/** Requests in flight per HTTP target unless told otherwise. */
const DEFAULT_CONCURRENCY = 8;
