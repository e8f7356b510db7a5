/**
 * The Webhook target: an actor that POSTs each delivery as JSON to a URL, signed with an HMAC
 * when a secret is configured (scheme in `webhook-client.ts`; receivers check it with
 * `verifyWebhookSignature`).
 *
 * Outcomes map onto the Alarm's rules as for Pushover: 2xx acknowledges (alarm fired); other 4xx
 * and 3xx, or a delivery without a usable URL or body, is a `PermanentFailure` (alarm failed, no
 * retry); 408, 425, 429, 5xx, timeouts and network errors are transient, and the Alarm retries
 * the same row later, no earlier than the receiver's `Retry-After`. The retry lives in SQLite with
 * the alarm, so it survives a restart between attempts.
 *
 * Each request from an alarm carries `x-vigil-alarm-id` and `x-vigil-alarm-attempt`, so a
 * receiver can drop the duplicates that at-least-once delivery allows.
 */
import type { DeliveryInfo } from '@vigil/alarm';
import { InvalidWebhookError } from './errors.js';
import { checkConcurrency, checkMaxRetries, httpTarget } from './http-target.js';
import { PermanentFailure } from './target.js';
import { sendWebhook, validateWebhookRequest } from './webhook-client.js';

/** Options of `webhookTarget`. */
export interface WebhookTargetOptions {
  /** Default URL; a delivery's own `url` wins. Absolute http(s), without embedded credentials. */
  url?: string;
  /** HMAC key: when set, every request is signed (whatever URL it goes to). */
  secret?: string;
  /** Header carrying the signature; default `x-vigil-signature`. */
  signatureHeader?: string;
  /** Extra headers on every request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Deadline per request in ms (default 10000); keep it below the Alarm's `deliveryTimeoutMs`. */
  timeoutMs?: number;
  /**
   * Retries after the first attempt before a transient failure is given up as permanent. Without
   * it, the alarm's own `maxAttempts` (default 10) is the limit.
   */
  maxRetries?: number;
  /** Requests in flight at once (default 8); later deliveries wait their turn. */
  concurrency?: number;
}

/**
 * A delivery to the Webhook target. With `body`, that value is posted as JSON; without it, the
 * delivery itself is posted (its `type`, its other fields and the `alarm` envelope), minus `url`.
 */
export interface WebhookDelivery {
  type: string;
  /** Where to POST; default the target's `url` option. */
  url?: string;
  /** What to POST, as JSON. */
  body?: unknown;
}

/** Header naming the alarm that a request delivers. */
export const WEBHOOK_ALARM_ID_HEADER = 'x-vigil-alarm-id';
/** Header carrying the delivery attempt (1 for the first). */
export const WEBHOOK_ALARM_ATTEMPT_HEADER = 'x-vigil-alarm-attempt';

/**
 * Builds the Webhook target's logic. Options are validated now, so a bad URL or header fails at
 * boot (`INVALID_WEBHOOK`) rather than at the first alarm.
 *
 * @example
 * const hook = webhookTarget({ url: 'https://example.com/hooks/vigil', secret: process.env.HOOK_SECRET });
 * await runtime.start([alarmSupervisor({ db: 'vigil.db' }), worker('Webhook', hook)]);
 * await new AlarmClient(runtime).set('in 1 hour', 'Webhook', { type: 'report.due', body: { report: 42 } });
 */
export function webhookTarget(options: WebhookTargetOptions = {}) {
  const maxRetries = checkMaxRetries(options.maxRetries, 'webhookTarget');
  const concurrency = checkConcurrency(options.concurrency, 'webhookTarget');
  const defaults = {
    headers: options.headers,
    secret: options.secret,
    signatureHeader: options.signatureHeader,
    timeoutMs: options.timeoutMs,
  };
  // Checks everything but a missing URL, which a delivery may still supply.
  validateWebhookRequest({ ...defaults, url: options.url ?? 'http://127.0.0.1/', body: null });

  return httpTarget<never>({
    id: 'webhook',
    concurrency,
    ...(maxRetries === undefined ? {} : { maxRetries }),
    async attempt(delivery, { signal, runtime }) {
      const {
        url: ownUrl,
        body,
        alarm,
        ...rest
      } = delivery as WebhookDelivery & {
        alarm?: DeliveryInfo;
      } & Record<string, unknown>;
      const url = ownUrl ?? options.url;
      if (url === undefined) {
        throw new PermanentFailure("webhook delivery has no 'url' and the target has no default url");
      }
      const headers: Record<string, string> = { ...options.headers };
      if (alarm && typeof alarm.alarmId === 'number') {
        headers[WEBHOOK_ALARM_ID_HEADER] = String(alarm.alarmId);
        headers[WEBHOOK_ALARM_ATTEMPT_HEADER] = String(alarm.attempt);
      }
      try {
        const outcome = await sendWebhook(
          {
            ...defaults,
            url,
            headers,
            body: body !== undefined ? body : { ...rest, ...(alarm ? { alarm } : {}) },
          },
          { signal, now: () => runtime.clock.now() },
        );
        return outcome.ok ? { ok: true as const, value: { status: outcome.status } } : outcome;
      } catch (err) {
        if (err instanceof InvalidWebhookError) throw new PermanentFailure(err.message, { cause: err });
        throw err;
      }
    },
  });
}
