/**
 * The Pushover target: an actor that sends each delivery as a Pushover notification.
 *
 * Outcomes map onto the Alarm's rules: a sent notification acknowledges the delivery (the alarm
 * is marked fired); a notification that is invalid, or that the API rejects (4xx with its
 * `errors`), is a `PermanentFailure` (the alarm is marked failed with those errors, never
 * retried); 429, 5xx, timeouts and network errors are transient, and the Alarm retries the same
 * alarm row later, no earlier than the API's `Retry-After` or quota reset. That retry is durable:
 * it is written to SQLite with the alarm, so it survives a restart between attempts.
 *
 * The token and user key stay in this module's closure: they are not in the machine's context
 * (which inspection can read), nor in any event, reply or error.
 */
import type { Runtime } from '@vigil/runtime';
import { InvalidNotificationError } from './errors.js';
import { checkConcurrency, checkMaxRetries, httpTarget, payloadOf } from './http-target.js';
import {
  type PushoverNotification,
  type PushoverQuota,
  parsePushoverOptions,
  resolvePushoverCredentials,
  type SendOutcome,
  sendPushover,
  validateNotification,
} from './pushover-client.js';
import { PermanentFailure } from './target.js';

declare module '@vigil/runtime' {
  interface VigilEvents {
    /** A Pushover answer reported the app's monthly quota (after this very message). */
    'pushover.quota': { target: string; quota: PushoverQuota; at: number };
  }
}

/** Options of `pushoverTarget`. */
export interface PushoverTargetOptions {
  /** App token; default `PUSHOVER_TOKEN` from the environment. */
  token?: string;
  /** User or group key; default `PUSHOVER_USER` from the environment. */
  user?: string;
  /** API origin; default `https://api.pushover.net`. Point it at `startFakePushover()` in tests. */
  baseUrl?: string;
  /** Deadline per request in ms (default 10000); keep it below the Alarm's `deliveryTimeoutMs`. */
  timeoutMs?: number;
  /**
   * Retries after the first attempt before a transient failure is given up as permanent. Without
   * it, the alarm's own `maxAttempts` (default 10) is the limit.
   */
  maxRetries?: number;
  /** Requests in flight at once (default 8); later deliveries wait their turn. */
  concurrency?: number;
  /** Environment to read credentials from; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * A delivery to the Pushover target: the notification's fields beside the message `type`
 * (any type but `pushover.quota`) and, from an alarm, the `alarm` envelope.
 */
export type PushoverDelivery = { type: string } & PushoverNotification;

/** What the Pushover target replies to a delivery it sent. */
export interface PushoverReceipt {
  /** HTTP status of the answer. */
  status: number;
  /** The API's request id. */
  requestId?: string;
  /** Emergency (priority 2) receipt, to poll for acknowledgement. */
  receipt?: string;
  /** The app's quota after this message, when the API reported it. */
  quota?: PushoverQuota;
}

/** Message type answered with the latest known quota (`PushoverQuota`, or null before any answer). */
export const PUSHOVER_QUOTA_QUERY = 'pushover.quota';

/**
 * Builds the Pushover target's logic. Credentials are resolved now, so a missing token fails at
 * boot (`PUSHOVER_NOT_CONFIGURED`) rather than at the first alarm.
 *
 * @example
 * await runtime.start([alarmSupervisor({ db: 'vigil.db' }), worker('Pushover', pushoverTarget())]);
 * await new AlarmClient(runtime).set('tomorrow at 9am', 'Pushover',
 *   { type: 'notify', title: 'Stand-up', message: 'in 5 minutes' }, { maxAttempts: 5 });
 * const quota = await runtime.call('Pushover', { type: 'pushover.quota' });
 */
export function pushoverTarget(options: PushoverTargetOptions = {}) {
  const credentials = resolvePushoverCredentials(options, options.env ?? process.env);
  const { baseUrl, timeoutMs } = parsePushoverOptions(options);
  const maxRetries = checkMaxRetries(options.maxRetries, 'pushoverTarget');
  const concurrency = checkConcurrency(options.concurrency, 'pushoverTarget');

  return httpTarget<PushoverQuota>({
    id: 'pushover',
    queryType: PUSHOVER_QUOTA_QUERY,
    concurrency,
    ...(maxRetries === undefined ? {} : { maxRetries }),
    async attempt(delivery, { signal, runtime }) {
      let notification: ReturnType<typeof validateNotification>;
      try {
        notification = validateNotification(payloadOf(delivery));
      } catch (err) {
        if (err instanceof InvalidNotificationError) throw new PermanentFailure(err.message, { cause: err });
        throw err;
      }
      const outcome = await sendPushover(credentials, notification, {
        baseUrl: baseUrl.href,
        timeoutMs,
        signal,
        now: () => runtime.clock.now(),
      });
      return toAttempt(outcome);
    },
    onNote(quota, { runtime, name }) {
      emitQuota(runtime, name, quota);
    },
  });
}

function toAttempt(outcome: SendOutcome) {
  const note = outcome.quota === undefined ? {} : { note: outcome.quota };
  if (!outcome.ok) return { ...outcome, ...note };
  const value: PushoverReceipt = { status: outcome.status };
  if (outcome.requestId !== undefined) value.requestId = outcome.requestId;
  if (outcome.receipt !== undefined) value.receipt = outcome.receipt;
  if (outcome.quota !== undefined) value.quota = outcome.quota;
  return { ok: true as const, value, ...note };
}

function emitQuota(runtime: Runtime, target: string, quota: PushoverQuota): void {
  runtime.events.emit('pushover.quota', { target, quota, at: runtime.clock.now() });
}
