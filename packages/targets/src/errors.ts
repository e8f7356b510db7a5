/**
 * Errors raised by the target clients. Each is a `VigilError` with a stable `code` and a message
 * built from structured fields. None of them ever carries a credential or a webhook secret: they
 * name the offending field, never its value, because these errors end up in logs and exit reasons.
 *
 * Delivery failures (HTTP errors, timeouts) are not thrown: they are returned as outcomes, so the
 * actor wrapper can decide between retrying and giving up. Only mistakes that no retry can fix,
 * found before any request is made, are thrown.
 */
import { VigilError } from '@vigil/runtime';

/** Pushover credentials are missing: neither the options nor the environment supply them. */
export class PushoverNotConfiguredError extends VigilError {
  constructor(
    /** Which credential is missing: `token` or `user`. */
    readonly field: 'token' | 'user',
    /** The environment variable that would have supplied it. */
    readonly envVar: string,
  ) {
    super(
      'PUSHOVER_NOT_CONFIGURED',
      `Pushover is not configured: no ${field === 'token' ? 'application token' : 'user key'} ` +
        `(pass options.${field} or set ${envVar})`,
    );
  }
}

/** Options given to `sendPushover` (base URL, timeout) are unusable. */
export class InvalidPushoverOptionsError extends VigilError {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super('INVALID_PUSHOVER_OPTIONS', `invalid Pushover options: '${field}' ${detail}`);
  }
}

/** A notification failed validation; `field` names the offending field (API spelling in camelCase). */
export class InvalidNotificationError extends VigilError {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super('INVALID_NOTIFICATION', `invalid Pushover notification: '${field}' ${detail}`);
  }
}

/** A webhook request failed validation; `field` names the offending field, never the secret's value. */
export class InvalidWebhookError extends VigilError {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super('INVALID_WEBHOOK', `invalid webhook request: '${field}' ${detail}`);
  }
}

/** The fake Pushover server did not receive the awaited number of messages in time. */
export class FakePushoverTimeoutError extends VigilError {
  constructor(
    readonly expected: number,
    readonly received: number,
    readonly timeoutMs: number,
  ) {
    super(
      'FAKE_PUSHOVER_TIMEOUT',
      `fake Pushover received ${received} of ${expected} awaited messages within ${timeoutMs} ms`,
    );
  }
}

/** The fake Pushover server was closed while something still waited on it. */
export class FakePushoverClosedError extends VigilError {
  constructor() {
    super('FAKE_PUSHOVER_CLOSED', 'fake Pushover server closed while messages were awaited');
  }
}
