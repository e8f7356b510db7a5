/**
 * `defineTarget`: the short way to write a target actor. The handler gets each delivery (the
 * alarm's message plus `alarm: { alarmId, attempt, firedAt, scheduledFor }`); when it returns,
 * the delivery is acknowledged and the alarm marked fired; when it throws, the Alarm retries it
 * with backoff, unless the error is a `PermanentFailure`, which marks the alarm failed.
 *
 * The result is an ordinary XState machine (target-machine.ts, shared with the HTTP targets):
 * deliveries are handled by invoked promise actors, at most `concurrency` at a time, the rest
 * queued in arrival order.
 */
import { parseWith, type Runtime, VigilError } from '@vigil/runtime';
import * as v from 'valibot';
import type { EventObject } from 'xstate';
import { targetMachine } from './target-machine.js';

/** What a handler knows besides the delivery. */
export interface TargetContext {
  runtime: Runtime;
  /** The target's registered name. */
  name: string;
}

/** A target's handler. Return to acknowledge; throw to have the delivery retried. */
export type TargetHandler<M extends EventObject = EventObject> = (
  delivery: M,
  context: TargetContext,
) => unknown | Promise<unknown>;

/** Options of `defineTarget`. */
export interface DefineTargetOptions {
  /** Deliveries handled at once (default 1: one at a time, in arrival order). */
  concurrency?: number;
}

/**
 * Thrown by a handler for a delivery that must not be retried (the request is wrong, not the
 * moment): the alarm is marked failed with this message.
 */
export class PermanentFailure extends VigilError {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERMANENT_FAILURE', message, options);
  }
}

/** A handler error the Alarm may retry (anything but a `PermanentFailure`). */
class RetryableFailure extends VigilError {
  readonly retryable = true;
  /** Passed on from the cause, so a handler can ask for a later retry (e.g. a server's Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(cause: unknown) {
    super('TARGET_FAILED', cause instanceof Error ? cause.message : String(cause), { cause });
    const after = (cause as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    this.retryAfterMs = typeof after === 'number' && after >= 0 ? after : undefined;
  }
}

/**
 * Builds a target actor logic from a handler.
 *
 * @example
 * const sms = defineTarget(async (delivery: { type: 'sms'; to: string; text: string }) => {
 *   await sendSms(delivery.to, delivery.text);
 * });
 * await runtime.start([alarmSupervisor({ db }), worker('Sms', sms)]);
 */
export function defineTarget<M extends EventObject = EventObject>(
  handler: TargetHandler<M>,
  options: DefineTargetOptions = {},
) {
  const concurrency = parseWith(ConcurrencySchema, options.concurrency, (_field, detail, given) => {
    throw new VigilError('INVALID_OPTION', `concurrency ${detail}, got ${String(given)}`);
  });
  return targetMachine({
    id: 'target',
    concurrency,
    deliver: async (delivery, { runtime, name }) => ({
      ok: true,
      value: await handler(delivery as M, { runtime, name }),
    }),
    failure: (err) => (err instanceof PermanentFailure ? err : new RetryableFailure(err)),
  });
}

const POSITIVE = 'must be a positive integer';
/** One delivery at a time unless told otherwise. */
const ConcurrencySchema = v.optional(
  v.pipe(v.number(POSITIVE), v.integer(POSITIVE), v.minValue(1, POSITIVE)),
  1,
);
