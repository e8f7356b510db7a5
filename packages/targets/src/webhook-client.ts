/**
 * Webhook delivery: POST a JSON body to a URL, optionally signed, and classify the answer.
 *
 * Signing scheme (what a receiver must implement; `verifyWebhookSignature` is the reference):
 *
 *   x-vigil-timestamp: <unix seconds>
 *   x-vigil-signature: sha256=<hex HMAC-SHA256(secret, `${timestamp}.${body}`)>
 *
 * The timestamp is part of the signed payload (as Stripe does), so a captured request cannot be
 * replayed later with a fresh timestamp: the receiver checks the signature *and* that the
 * timestamp is recent. `body` is the exact bytes sent; a receiver must verify the raw body, not a
 * re-serialisation of the parsed JSON. The timestamp header is sent even without a secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseWith } from '@vigil/runtime';
import * as v from 'valibot';
import { InvalidWebhookError } from './errors.js';
import type { DeliveryFailure, DeliverySuccess } from './http.js';
import { classifyStatus, parseRetryAfter, postWithTimeout, redact } from './http.js';

/** One webhook call. */
export interface WebhookRequest {
  /** Absolute http(s) URL, without embedded credentials (put those in `headers`). */
  url: string;
  /** Any JSON-serialisable value; sent as `application/json`. */
  body: unknown;
  /** Extra headers; `content-type` and the signature headers are always set by us. */
  headers?: Record<string, string>;
  /** HMAC key; when set, the request carries a signature header. */
  secret?: string;
  /** Header carrying the signature; default `x-vigil-signature`. */
  signatureHeader?: string;
  /** Deadline for the whole exchange in ms; default 10000. */
  timeoutMs?: number;
}

/** Options of `sendWebhook`. */
export interface SendWebhookOptions {
  /** Injected `fetch`, for tests; defaults to Node's global one. */
  fetch?: typeof fetch;
  /** Cancels the request (e.g. on actor shutdown); reported as transient `request aborted`. */
  signal?: AbortSignal;
  /** Wall clock in epoch ms, for the signed timestamp and `Retry-After` dates; default `Date.now`. */
  now?: () => number;
}

/** What became of one webhook call; never contains the secret. */
export type WebhookOutcome = DeliverySuccess | DeliveryFailure;

/** Default header carrying the signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-vigil-signature';
/** Header carrying the signed unix timestamp (seconds). */
export const WEBHOOK_TIMESTAMP_HEADER = 'x-vigil-timestamp';
/** Default age beyond which `verifyWebhookSignature` rejects a request as a possible replay. */
export const WEBHOOK_DEFAULT_TOLERANCE_MS = 5 * 60 * 1000;

const DEFAULT_TIMEOUT_MS = 10_000;
/** How much of an error answer's body is kept in `errors`; enough to read, too little to bloat logs. */
const MAX_ERROR_SNIPPET = 200;

/**
 * Computes the signature header value for a body and timestamp: `sha256=<hex>` over
 * `${timestamp}.${body}`.
 *
 * @example signWebhookPayload('{"a":1}', 'shh', 1700000000) // 'sha256=…'
 */
export function signWebhookPayload(
  body: string | Uint8Array,
  secret: string,
  timestamp: number | string,
): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(body);
  return `sha256=${hmac.digest('hex')}`;
}

/**
 * Checks a received webhook: the signature must match the raw body and timestamp, and the
 * timestamp must be within `toleranceMs` of `now` (default 5 minutes) so an old capture cannot be
 * replayed. Comparison is constant-time. Returns false for any malformed input; never throws.
 *
 * @example
 * const ok = verifyWebhookSignature(rawBody, req.headers['x-vigil-signature'], secret,
 *   req.headers['x-vigil-timestamp']);
 */
export function verifyWebhookSignature(
  body: string | Uint8Array,
  header: string | undefined | null,
  secret: string,
  timestamp: string | number | undefined | null,
  options: { toleranceMs?: number; now?: () => number } = {},
): boolean {
  if (typeof header !== 'string' || !secret) return false;
  const ts = typeof timestamp === 'number' ? String(timestamp) : (timestamp ?? '').trim();
  if (!/^\d{1,12}$/.test(ts)) return false;
  const tolerance = options.toleranceMs ?? WEBHOOK_DEFAULT_TOLERANCE_MS;
  const nowMs = (options.now ?? Date.now)();
  if (Math.abs(nowMs - Number(ts) * 1000) > tolerance) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return false;
  const expected = Buffer.from(signWebhookPayload(body, secret, ts).slice('sha256='.length), 'hex');
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  // Both are 32 bytes here (the regex fixed the length), as timingSafeEqual requires.
  return timingSafeEqual(expected, given);
}

/**
 * Validates and serialises a request. Throws `INVALID_WEBHOOK` naming the field; exported so the
 * actor wrapper can reject a bad target configuration at boot rather than at the first alarm.
 */
export function validateWebhookRequest(req: unknown): {
  url: string;
  body: string;
  headers: Record<string, string>;
  secret?: string;
  signatureHeader: string;
  timeoutMs: number;
} {
  const r = parseWith(RequestSchema, req, (field, detail) => {
    throw new InvalidWebhookError(field || '(request)', detail);
  });
  let body: string | undefined;
  try {
    body = JSON.stringify(r.body);
  } catch {
    throw new InvalidWebhookError('body', 'is not JSON-serialisable (cycle or BigInt)');
  }
  if (body === undefined)
    throw new InvalidWebhookError('body', 'is not JSON-serialisable (undefined or function)');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) headers[name.toLowerCase()] = value;
  return {
    url: r.url.href,
    body,
    headers,
    ...(r.secret ? { secret: r.secret } : {}),
    signatureHeader: r.signatureHeader.toLowerCase(),
    timeoutMs: r.timeoutMs,
  };
}

// --- Schema of a request ---------------------------------------------------------------------
// The body is checked apart: what matters is that JSON can carry it, which only serialising shows.

const UrlSchema = v.pipe(
  v.string('must be a string'),
  v.check((url) => URL.canParse(url), 'is not an absolute URL'),
  v.transform((url) => new URL(url)),
  v.check(
    (url) => url.protocol === 'http:' || url.protocol === 'https:',
    (issue) => `must use http or https, not ${String((issue.input as URL).protocol).replace(':', '')}`,
  ),
  // fetch refuses such URLs anyway; saying so here gives a clear error and keeps them out of reasons.
  v.check((url) => !url.username && !url.password, 'must not embed credentials; send them in headers'),
);

const HEADER_VALUE = 'must be a string without line breaks';
const HEADER_NAME = 'is not a valid header name';
const HeaderName = v.pipe(v.string(HEADER_NAME), v.check(isHeaderName, HEADER_NAME));

const RequestSchema = v.object(
  {
    url: UrlSchema,
    body: v.optional(v.unknown()),
    headers: v.optional(
      v.record(
        HeaderName,
        v.pipe(
          v.string(HEADER_VALUE),
          v.check((value) => !/[\r\n\0]/.test(value), HEADER_VALUE),
        ),
        'must be an object of strings',
      ),
      {},
    ),
    secret: v.optional(
      v.pipe(v.string('must be a non-empty string'), v.nonEmpty('must be a non-empty string')),
    ),
    signatureHeader: v.nullish(HeaderName, WEBHOOK_SIGNATURE_HEADER),
    timeoutMs: v.nullish(
      v.pipe(
        v.number('must be a positive number of milliseconds'),
        v.finite('must be a positive number of milliseconds'),
        v.gtValue(0, 'must be a positive number of milliseconds'),
      ),
      DEFAULT_TIMEOUT_MS,
    ),
  },
  'must be an object',
);

function isHeaderName(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

/**
 * Sends one webhook and reports the outcome; never throws for a delivery failure, only
 * `INVALID_WEBHOOK` before any request. 2xx is delivered; 408, 425, 429, 5xx, timeouts and network
 * errors are transient (with `retryAfterMs` from `Retry-After`, seconds or HTTP date); any other
 * status, redirects included (they are not followed), is permanent.
 *
 * @example
 * const outcome = await sendWebhook({ url: 'https://example.com/hook', body: { alarm: 7 }, secret });
 */
export async function sendWebhook(
  req: WebhookRequest,
  options: SendWebhookOptions = {},
): Promise<WebhookOutcome> {
  const v = validateWebhookRequest(req);
  const now = options.now ?? Date.now;
  const secrets = [v.secret];
  const timestamp = Math.floor(now() / 1000);

  const headers: Record<string, string> = {
    ...v.headers,
    'content-type': 'application/json',
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
  };
  if (v.secret) headers[v.signatureHeader] = signWebhookPayload(v.body, v.secret, timestamp);

  const result = await postWithTimeout({
    url: v.url,
    body: v.body,
    headers,
    timeoutMs: v.timeoutMs,
    fetch: options.fetch,
    signal: options.signal,
    secrets,
  });
  if (result.kind === 'network') return { ok: false, permanent: false, errors: [], reason: result.reason };

  const { status } = result;
  const klass = classifyStatus(status);
  if (klass === 'ok') return { ok: true, status };

  const snippet = result.body.trim().replace(/\s+/g, ' ');
  const errors = snippet ? [redact(snippet.slice(0, MAX_ERROR_SNIPPET), secrets)] : [];
  const isRedirect = status >= 300 && status < 400;
  const failure: DeliveryFailure = {
    ok: false,
    permanent: klass === 'permanent',
    status,
    errors,
    reason: isRedirect ? `HTTP ${status}: redirects are not followed` : `HTTP ${status}`,
  };
  if (klass === 'transient') {
    const retryAfterMs = parseRetryAfter(result.headers.get('retry-after'), now());
    if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  }
  return failure;
}
