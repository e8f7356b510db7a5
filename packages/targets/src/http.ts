/**
 * The HTTP layer shared by the Pushover and Webhook clients: one bounded POST with a deadline,
 * a classification of what came back (delivered, worth retrying, or never going to work), and
 * the helpers that keep secrets out of everything a caller can see.
 *
 * Nothing here throws for a failed delivery. A POST either yields the response the server sent or
 * a network failure described by a short reason that we build ourselves; the raw error from
 * `fetch` is never passed on, because its message or cause may quote the URL or the body.
 */

/** A delivery the server accepted (HTTP 2xx). */
export interface DeliverySuccess {
  ok: true;
  /** HTTP status of the answer. */
  status: number;
}

/**
 * A delivery that did not happen. `permanent` tells the caller whether retrying can help:
 * validation errors are permanent; overload, server errors, timeouts and network errors are not.
 */
export interface DeliveryFailure {
  ok: false;
  /** True when retrying the same request cannot succeed (e.g. HTTP 400); false when it may. */
  permanent: boolean;
  /** HTTP status, absent when no answer arrived (timeout, refused connection). */
  status?: number;
  /** Errors reported by the server, already scrubbed of secrets; empty when it gave none. */
  errors: string[];
  /** How long the server asked us to wait before retrying (from `Retry-After`), in ms. */
  retryAfterMs?: number;
  /** One line for humans and logs, e.g. `HTTP 503` or `network error: ECONNREFUSED`. */
  reason: string;
}

/** What an HTTP status means for a delivery. */
export type StatusClass = 'ok' | 'transient' | 'permanent';

/**
 * Classifies an HTTP status. 2xx delivered; 408, 425, 429 and 5xx are the server saying
 * "not now", so a retry may succeed; every other status (other 4xx, and 3xx since redirects are
 * not followed) says the request itself is wrong, so retrying would only repeat the failure.
 *
 * @example classifyStatus(429) // 'transient'
 */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'transient';
  return 'permanent';
}

/**
 * Parses a `Retry-After` header (RFC 9110: delay in seconds, or an HTTP date) into milliseconds
 * from `nowMs`. A date in the past yields 0; anything unparseable yields `undefined`, so a
 * malformed header falls back to the caller's own backoff instead of a made-up delay.
 *
 * @example parseRetryAfter('120', Date.now()) // 120000
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  // Digits first: Date.parse('5') is a valid date in V8, which would turn "5 seconds" into 2001.
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The placeholder that replaces a secret in redacted text. */
export const REDACTED = '[redacted]';

/**
 * Replaces every occurrence of each secret in `text` (raw and URL-encoded, since form bodies
 * encode them) with `[redacted]`. Empty or missing secrets are ignored. Used defensively on every
 * string that crosses from the network into an outcome, even ones that "cannot" contain a secret.
 *
 * @example redact('token=abc123&x=1', ['abc123']) // 'token=[redacted]&x=1'
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
  }
  // Longest first, so a secret that contains another is replaced whole.
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    out = out.split(form).join(REDACTED);
  }
  return out;
}

/** A POST to make: the body is sent byte for byte as given. */
export interface PostRequest {
  url: string;
  body: string | Uint8Array;
  headers: Record<string, string>;
  /** Deadline for the whole exchange, answer body included. */
  timeoutMs: number;
  /** Injected `fetch`, for tests; defaults to Node's global one. */
  fetch?: typeof fetch;
  /** Strings that must never appear in a returned reason or body. */
  secrets?: readonly (string | undefined)[];
  /** Most bytes of the answer body to read; the rest is discarded. Default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * Cancels the request from outside, e.g. when the owning actor shuts down mid-delivery. An
   * aborted request is reported as a transient network failure (`request aborted`): we cannot
   * know whether the server acted on it.
   */
  signal?: AbortSignal;
}

/** What a POST produced: the server's answer, or the reason none arrived. */
export type PostResult =
  | {
      kind: 'response';
      status: number;
      headers: Headers;
      /** The answer body as text, redacted, cut at `maxBodyBytes`. */
      body: string;
    }
  | {
      kind: 'network';
      /** True when the deadline passed before the answer was complete. */
      timedOut: boolean;
      /** e.g. `timeout after 10000 ms`, `network error: ECONNREFUSED`; never quotes URL or body. */
      reason: string;
    };

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * POSTs once, with a deadline, and never throws for a network failure. Redirects are not
 * followed: a 3xx comes back as the response, because following a 307 would resend the body
 * (credentials included) to whatever host the redirect names.
 */
export async function postWithTimeout(req: PostRequest): Promise<PostResult> {
  const doFetch = req.fetch ?? fetch;
  const controller = new AbortController();
  // Our own timer rather than AbortSignal.timeout(): we must know that *our* deadline fired,
  // to report a timeout rather than an abort of unknown origin.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const onAbort = () => controller.abort();
  if (req.signal?.aborted) controller.abort();
  else req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await doFetch(req.url, {
      method: 'POST',
      body: req.body,
      headers: req.headers,
      signal: controller.signal,
      redirect: 'manual',
    });
    const { text, truncated } = await readBounded(res, req.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (timedOut) return { kind: 'network', timedOut: true, reason: `timeout after ${req.timeoutMs} ms` };
    const secrets = req.secrets ?? [];
    // A cut body may end in the first half of a secret, which redact() cannot recognise: drop a
    // tail as long as the longest secret.
    const longest = Math.max(0, ...secrets.map((s) => s?.length ?? 0));
    const body = truncated && longest > 0 ? text.slice(0, Math.max(0, text.length - longest)) : text;
    return { kind: 'response', status: res.status, headers: res.headers, body: redact(body, secrets) };
  } catch (err) {
    if (timedOut) return { kind: 'network', timedOut: true, reason: `timeout after ${req.timeoutMs} ms` };
    if (req.signal?.aborted) return { kind: 'network', timedOut: false, reason: 'request aborted' };
    return { kind: 'network', timedOut: false, reason: networkReason(err, req.secrets ?? []) };
  } finally {
    clearTimeout(timer);
    // The caller's signal may outlive many requests (one per actor): do not pile up listeners.
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Reads at most `maxBytes` of the body, then cancels the rest so a huge or endless answer cannot
 * hold the connection or the memory. Throws (like `res.text()`) if the stream fails, e.g. on abort.
 */
async function readBounded(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // Cancelling a finished stream is a no-op; cancelling an unfinished one drops the rest.
    await reader.cancel().catch(() => undefined);
  }
  const all = Buffer.concat(chunks);
  return { text: all.subarray(0, maxBytes).toString('utf8'), truncated: size >= maxBytes };
}

/**
 * Builds a short reason from a thrown fetch error. Node's fetch throws `TypeError('fetch failed')`
 * with the real cause (`ECONNREFUSED`, `ENOTFOUND`, ...) somewhere down the `cause` chain; a
 * system error code says everything useful and cannot leak anything, so it is preferred. Only
 * when there is no code do we fall back to the message, redacted and cut to one short line.
 */
function networkReason(err: unknown, secrets: readonly (string | undefined)[]): string {
  let current: unknown = err;
  // Bounded walk: a cause chain can be cyclic.
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return `network error: ${code}`;
    current = (current as { cause?: unknown }).cause;
  }
  if (err instanceof Error) {
    const firstLine = redact(err.message, secrets).split('\n')[0] ?? '';
    const short = firstLine.length > 200 ? `${firstLine.slice(0, 200)}...` : firstLine;
    return redact(`network error: ${err.name}${short ? `: ${short}` : ''}`, secrets);
  }
  return 'network error: non-error thrown';
}
