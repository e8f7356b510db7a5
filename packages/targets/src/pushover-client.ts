/**
 * The Pushover messages API, as one function: validate a notification, POST it, and say what
 * happened in a form the Pushover actor can act on (delivered / retry later / give up).
 *
 * Credentials are the app token and the user key. They go in the request body and nowhere else:
 * not in outcomes, not in error messages, not in reasons. Every string that comes back from the
 * network is redacted against them before it is returned, even though the API never echoes them.
 */

import { parseWith } from '@vigil/runtime';
import * as v from 'valibot';
import {
  InvalidNotificationError,
  InvalidPushoverOptionsError,
  PushoverNotConfiguredError,
} from './errors.js';
import type { DeliveryFailure } from './http.js';
import { classifyStatus, parseRetryAfter, postWithTimeout, redact } from './http.js';

/** The app token and the user (or group) key that authorise a Pushover message. */
export interface PushoverCredentials {
  token: string;
  user: string;
}

/** Pushover priorities: -2 silent, -1 quiet, 0 normal, 1 high, 2 emergency (repeats until acknowledged). */
export type PushoverPriority = -2 | -1 | 0 | 1 | 2;

/**
 * One notification, in camelCase; `sendPushover` maps it to the API's field names
 * (`urlTitle` → `url_title`, `html: true` → `html=1`).
 */
export interface PushoverNotification {
  /** The text, 1 to 1024 characters. */
  message: string;
  /** Up to 250 characters; the app's name when absent. */
  title?: string;
  priority?: PushoverPriority;
  /** Name of a built-in or custom sound. */
  sound?: string;
  /** A supplementary URL, up to 512 characters. */
  url?: string;
  /** Title shown for `url`, up to 100 characters. */
  urlTitle?: string;
  /** Render `message` as Pushover's HTML subset. */
  html?: boolean;
  /** Comma-separated device names to restrict delivery to; all devices when absent. */
  device?: string;
  /** Unix time in seconds shown as the message time (not milliseconds). */
  timestamp?: number;
  /** Seconds after which the message is deleted from devices. */
  ttl?: number;
  /** Emergency only: seconds between repeats, at least 30. */
  retry?: number;
  /** Emergency only: seconds until repeats stop, at most 10800. */
  expire?: number;
}

/** The app's monthly message quota, from the `X-Limit-App-*` answer headers. */
export interface PushoverQuota {
  /** Messages allowed per month. */
  limit: number;
  /** Messages left this month. */
  remaining: number;
  /** When the quota resets, epoch milliseconds. */
  resetAt: number;
}

/**
 * What became of one `sendPushover` call. Never contains the token or user key.
 * A failure with `permanent: true` must not be retried (the API rejected the request itself);
 * otherwise retry, after `retryAfterMs` when given.
 */
export type SendOutcome =
  | { ok: true; status: number; requestId?: string; quota?: PushoverQuota; receipt?: string }
  | (DeliveryFailure & { quota?: PushoverQuota });

/** Options of `sendPushover`. */
export interface SendPushoverOptions {
  /** API origin; default `https://api.pushover.net`. Point it at `startFakePushover()` in tests. */
  baseUrl?: string;
  /** Deadline for the whole exchange in ms; default 10000. */
  timeoutMs?: number;
  /** Injected `fetch`, for tests; defaults to Node's global one. */
  fetch?: typeof fetch;
  /** Cancels the request (e.g. on actor shutdown); reported as transient `request aborted`. */
  signal?: AbortSignal;
  /** Wall clock in epoch ms, used to turn a quota reset into a retry delay; default `Date.now`. */
  now?: () => number;
}

/** The public Pushover API origin. */
export const PUSHOVER_API_URL = 'https://api.pushover.net';
/** Environment variable read for the app token when none is passed. */
export const PUSHOVER_TOKEN_ENV = 'PUSHOVER_TOKEN';
/** Environment variable read for the user key when none is passed. */
export const PUSHOVER_USER_ENV = 'PUSHOVER_USER';

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Picks the credentials: explicit options win, then `PUSHOVER_TOKEN` / `PUSHOVER_USER`.
 * Throws `PUSHOVER_NOT_CONFIGURED` naming what is missing (never echoing what is present), so an
 * application can fail at boot rather than at the first alarm.
 *
 * @example
 * const creds = resolvePushoverCredentials({}, process.env);
 */
export function resolvePushoverCredentials(
  opts: { token?: string | undefined; user?: string | undefined } = {},
  env: Record<string, string | undefined> = process.env,
): PushoverCredentials {
  const token = nonBlank(opts.token) ?? nonBlank(env[PUSHOVER_TOKEN_ENV]);
  if (token === undefined) throw new PushoverNotConfiguredError('token', PUSHOVER_TOKEN_ENV);
  const user = nonBlank(opts.user) ?? nonBlank(env[PUSHOVER_USER_ENV]);
  if (user === undefined) throw new PushoverNotConfiguredError('user', PUSHOVER_USER_ENV);
  return { token, user };
}

function nonBlank(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

const NOTIFICATION_FIELDS = new Set([
  'message',
  'title',
  'priority',
  'sound',
  'url',
  'urlTitle',
  'html',
  'device',
  'timestamp',
  'ttl',
  'retry',
  'expire',
]);

/** API spellings people paste from the Pushover docs, mapped to ours for a helpful error. */
const SNAKE_CASE_HINTS: Record<string, string> = { url_title: 'urlTitle' };

/**
 * Checks a notification against the API's rules before any request is made, and returns a clean
 * copy holding only the known fields. Throws `INVALID_NOTIFICATION` naming the first bad field.
 * Unknown fields are rejected rather than dropped: a typo (`tittle`) would otherwise vanish.
 *
 * @example
 * validateNotification({ message: 'disk full', priority: 1 });
 */
export function validateNotification(n: unknown): PushoverNotification {
  if (n === null || typeof n !== 'object' || Array.isArray(n)) {
    throw new InvalidNotificationError('(notification)', 'must be an object with a message');
  }
  const input = n as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (input[key] === undefined || NOTIFICATION_FIELDS.has(key)) continue;
    const hint = SNAKE_CASE_HINTS[key];
    throw new InvalidNotificationError(
      key,
      hint ? `is the API spelling; use '${hint}'` : 'is not a Pushover notification field',
    );
  }

  const out = parseWith(NotificationSchema, input, (field, detail) => {
    throw new InvalidNotificationError(field, detail);
  });
  // Emergency messages repeat until acknowledged; the API insists on bounds for the repetition,
  // and refuses the repetition fields on any other priority. Rules across fields, on the parsed value.
  const { retry, expire } = out;
  if (out.priority === 2) {
    if (retry === undefined)
      throw new InvalidNotificationError('retry', 'is required with priority 2 (>= 30 s)');
    if (expire === undefined)
      throw new InvalidNotificationError('expire', 'is required with priority 2 (<= 10800 s)');
    if (expire > 10_800) throw new InvalidNotificationError('expire', 'must be at most 10800 seconds');
  } else if (retry !== undefined || expire !== undefined) {
    throw new InvalidNotificationError(
      retry !== undefined ? 'retry' : 'expire',
      'is only allowed with priority 2',
    );
  }
  return out;
}

// --- Schema of a notification ----------------------------------------------------------------
// Fields are checked in this order and the first bad one is reported.

/** Counts Unicode code points, as Pushover does, not UTF-16 units. */
const atMost = (max: number) =>
  v.check((value: string) => [...value].length <= max, `must be at most ${max} characters`);

const NON_EMPTY = 'must be a non-empty string';
const text = (max: number) => v.optional(v.pipe(v.string(NON_EMPTY), v.nonEmpty(NON_EMPTY), atMost(max)));

const integer = (min: number) => {
  const message = `must be an integer >= ${min}`;
  return v.pipe(v.number(message), v.safeInteger(message), v.minValue(min, message));
};

const MESSAGE = 'is required and must be a non-empty string';

const NotificationSchema = v.object({
  message: v.pipe(
    v.string(MESSAGE),
    v.check((m) => m.trim() !== '', MESSAGE),
    atMost(1024),
  ),
  title: text(250),
  url: text(512),
  urlTitle: text(100),
  sound: text(100),
  // Pushover device names are up to 25 letters, digits, '_' or '-'; several are comma-separated.
  device: v.optional(
    v.pipe(
      v.string(NON_EMPTY),
      v.nonEmpty(NON_EMPTY),
      v.check(
        (device) => device.split(',').every((name) => /^[A-Za-z0-9_-]{1,25}$/.test(name)),
        'must be comma-separated names of [A-Za-z0-9_-]{1,25}',
      ),
    ),
  ),
  html: v.optional(v.boolean('must be a boolean')),
  priority: v.optional(v.picklist([-2, -1, 0, 1, 2], 'must be an integer from -2 to 2')),
  // A Date.now() value is the commonest mistake; it would show a date in the year 50000+.
  timestamp: v.optional(v.pipe(integer(1), v.maxValue(1e11, 'must be unix seconds, not milliseconds'))),
  ttl: v.optional(integer(1)),
  retry: v.optional(integer(30)),
  expire: v.optional(integer(1)),
});

/** Builds the form body in the API's field names. */
function toForm(creds: PushoverCredentials, n: PushoverNotification): URLSearchParams {
  const form = new URLSearchParams({ token: creds.token, user: creds.user, message: n.message });
  if (n.title !== undefined) form.set('title', n.title);
  if (n.priority !== undefined) form.set('priority', String(n.priority));
  if (n.sound !== undefined) form.set('sound', n.sound);
  if (n.url !== undefined) form.set('url', n.url);
  if (n.urlTitle !== undefined) form.set('url_title', n.urlTitle);
  if (n.html) form.set('html', '1');
  if (n.device !== undefined) form.set('device', n.device);
  if (n.timestamp !== undefined) form.set('timestamp', String(n.timestamp));
  if (n.ttl !== undefined) form.set('ttl', String(n.ttl));
  if (n.retry !== undefined) form.set('retry', String(n.retry));
  if (n.expire !== undefined) form.set('expire', String(n.expire));
  return form;
}

/**
 * Reads the `X-Limit-App-*` headers. All three must be present and numeric, otherwise there is no
 * quota to report (a partial one would mislead a caller deciding whether to hold back).
 */
export function parsePushoverQuota(headers: Headers): PushoverQuota | undefined {
  const limit = Number(headers.get('x-limit-app-limit') ?? Number.NaN);
  const remaining = Number(headers.get('x-limit-app-remaining') ?? Number.NaN);
  const reset = Number(headers.get('x-limit-app-reset') ?? Number.NaN);
  if (![limit, remaining, reset].every(Number.isFinite)) return undefined;
  return { limit, remaining, resetAt: reset * 1000 };
}

/**
 * Sends one notification and reports the outcome; never throws for a delivery failure.
 * Throws only before any request: `PUSHOVER_NOT_CONFIGURED` (empty credentials),
 * `INVALID_NOTIFICATION`, `INVALID_PUSHOVER_OPTIONS`.
 *
 * Classification: 2xx with `status: 1` is delivered. 4xx (but 408/425/429) is permanent and
 * carries the API's `errors`. 429 (quota spent), 408/425, 5xx, timeouts and network errors are
 * transient. On a 429 without `Retry-After` and with no quota left, `retryAfterMs` is the time to
 * the quota reset, since retrying earlier cannot succeed.
 *
 * @example
 * const outcome = await sendPushover(resolvePushoverCredentials(), { message: 'backup done' });
 * if (!outcome.ok && !outcome.permanent) scheduleRetry(outcome.retryAfterMs);
 */
export async function sendPushover(
  creds: PushoverCredentials,
  notification: PushoverNotification,
  options: SendPushoverOptions = {},
): Promise<SendOutcome> {
  const credentials = resolvePushoverCredentials(creds, {});
  const n = validateNotification(notification);
  const { baseUrl, timeoutMs } = parsePushoverOptions(options);
  const endpoint = messagesEndpoint(baseUrl);
  const secrets = [credentials.token, credentials.user];
  const now = options.now ?? Date.now;

  const result = await postWithTimeout({
    url: endpoint,
    body: toForm(credentials, n).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    timeoutMs,
    fetch: options.fetch,
    signal: options.signal,
    secrets,
  });
  if (result.kind === 'network') return { ok: false, permanent: false, errors: [], reason: result.reason };

  const { status, headers } = result;
  const quota = parsePushoverQuota(headers);
  const json = parseJsonObject(result.body);
  const errors = apiErrors(json, secrets);
  const klass = classifyStatus(status);

  if (klass === 'ok') {
    // The HTTP status is authoritative (the API docs say so); only an explicit `status` other than
    // 1 in a 2xx answer turns it into a failure, which no retry would fix.
    if (json && json.status !== undefined && json.status !== 1) {
      return withQuota(
        { ok: false, permanent: true, status, errors, reason: failureReason(status, errors) },
        quota,
      );
    }
    const success: SendOutcome = { ok: true, status };
    if (typeof json?.request === 'string') success.requestId = redact(json.request, secrets);
    if (typeof json?.receipt === 'string') success.receipt = redact(json.receipt, secrets);
    if (quota) success.quota = quota;
    return success;
  }

  const failure: DeliveryFailure = {
    ok: false,
    permanent: klass === 'permanent',
    status,
    errors,
    reason: failureReason(status, errors),
  };
  if (klass === 'transient') {
    let retryAfterMs = parseRetryAfter(headers.get('retry-after'), now());
    if (retryAfterMs === undefined && status === 429 && quota && quota.remaining <= 0) {
      retryAfterMs = Math.max(0, quota.resetAt - now());
    }
    if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  }
  return withQuota(failure, quota);
}

function withQuota(failure: DeliveryFailure, quota: PushoverQuota | undefined): SendOutcome {
  return quota ? { ...failure, quota } : failure;
}

function messagesEndpoint(url: URL): string {
  // Keep any path prefix (a proxy mounted under /pushover) and drop trailing slashes.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/1/messages.json`;
}

const TIMEOUT = 'must be a positive number of milliseconds';

const PushoverOptionsSchema = v.object({
  baseUrl: v.pipe(
    v.optional(v.string('must be an absolute http(s) URL'), PUSHOVER_API_URL),
    v.check((url) => URL.canParse(url), 'must be an absolute http(s) URL'),
    v.transform((url) => new URL(url)),
    v.check((url) => url.protocol === 'http:' || url.protocol === 'https:', 'must use http or https'),
  ),
  timeoutMs: v.optional(
    v.pipe(v.number(TIMEOUT), v.finite(TIMEOUT), v.gtValue(0, TIMEOUT)),
    DEFAULT_TIMEOUT_MS,
  ),
});

/**
 * The Pushover endpoint and timeout options, shared by `sendPushover` and `pushoverTarget`;
 * throws `INVALID_PUSHOVER_OPTIONS` naming the field. @internal
 */
export function parsePushoverOptions(options: { baseUrl?: unknown; timeoutMs?: unknown }): {
  baseUrl: URL;
  timeoutMs: number;
} {
  return parseWith(PushoverOptionsSchema, options, (field, detail) => {
    throw new InvalidPushoverOptionsError(field || '(options)', detail);
  });
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The API's `errors` array, strings only, capped so a hostile answer cannot bloat an outcome. */
function apiErrors(json: Record<string, unknown> | undefined, secrets: readonly string[]): string[] {
  const raw = json?.errors;
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((e): e is string => typeof e === 'string')
    .slice(0, 20)
    .map((e) => redact(e.length > 500 ? `${e.slice(0, 500)}...` : e, secrets));
}

function failureReason(status: number, errors: readonly string[]): string {
  return errors.length > 0 ? `HTTP ${status}: ${errors.join('; ')}` : `HTTP ${status}`;
}
