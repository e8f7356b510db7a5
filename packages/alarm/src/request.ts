/**
 * The Alarm actor's protocol: the requests it answers and the `Alarm` it answers with, and the
 * validation that turns a caller's `set` into a row to insert (or a typed error, changing nothing).
 */
import { InvalidOptionError, InvalidPayloadError, UnknownTargetError } from './errors.js';
import { decodeMessage, encodeMessage } from './message.js';
import type { ResolvedAlarmOptions, RetryBackoff } from './options.js';
import { parseWhen, type When } from './parse.js';
import { type MisfirePolicy, type Recurrence, validateMisfire, validateRecurrence } from './recurrence.js';
import type { AlarmRow, AlarmStatus, ListFilter, NewAlarm } from './store/types.js';

/** Per-alarm options of `set`. */
export interface SetOptions {
  /** Idempotency key: setting the same key again returns the first alarm, unchanged. */
  key?: string;
  /** Fire again on a schedule: `{ every: '1 day' }` or `{ cron: '0 9 * * 1-5', zone: 'Europe/Paris' }`. */
  recurrence?: Recurrence;
  /** What to do when the alarm comes due while the process was down or busy. */
  misfire?: MisfirePolicy;
  /** Delivery attempts before the alarm is marked failed. */
  maxAttempts?: number;
  /** Delay between attempts. */
  backoff?: RetryBackoff;
  /**
   * W3C `traceparent` of the span that scheduled the alarm (`@vigil/otel` sets it). Stored with
   * the message under Vigil's reserved key `alarm` and handed back on each delivery as
   * `alarm.trace`, so the delivery, however late and after however many restarts, can be linked
   * to the span that scheduled it.
   */
  trace?: string;
}

/** One alarm to set. */
export interface AlarmInput {
  when: When;
  target: string;
  message?: Record<string, unknown>;
  options?: SetOptions;
}

/** A stored alarm, as the API returns it. */
export interface Alarm {
  id: number;
  /** When it fires next (moved by retries). */
  fireAt: number;
  /** The instant it was scheduled for. */
  scheduledFor: number;
  target: string;
  /** The message, or null if the stored text can no longer be decoded. */
  message: Record<string, unknown> | null;
  status: AlarmStatus;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  firedAt: number | null;
  key: string | null;
  recurrence: Recurrence | null;
  /** The `trace` option of the `set` (a W3C traceparent), or null. */
  trace: string | null;
}

/** What a delivered message carries beside its own fields, under the key `alarm`. */
export interface DeliveryInfo {
  alarmId: number;
  /** 1 for the first delivery; higher on retries and on redelivery after a crash. */
  attempt: number;
  firedAt: number;
  scheduledFor: number;
  /** The `trace` option of the `set` (a W3C traceparent), when it had one. */
  trace?: string;
}

/** A message as a target receives it: the stored message plus `alarm`. */
export type Delivery<M extends Record<string, unknown> = Record<string, unknown>> = M & {
  type: string;
  alarm: DeliveryInfo;
};

/** Requests understood by the Alarm actor (what `AlarmClient` sends). */
export type AlarmRequest =
  | ({ type: 'alarm.set'; requestedAt?: number } & AlarmInput)
  | { type: 'alarm.setMany'; items: AlarmInput[]; requestedAt?: number }
  | { type: 'alarm.cancel'; id: number }
  | { type: 'alarm.get'; id: number }
  | { type: 'alarm.list'; filter?: ListFilter }
  | { type: 'alarm.stats' };

const OPTION_KEYS = new Set(['key', 'recurrence', 'misfire', 'maxAttempts', 'backoff', 'trace']);

/** A W3C traceparent, version 00 (https://www.w3.org/TR/trace-context/#traceparent-header). */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Validates one `set` and builds the row to insert. `isDeclared` says whether a target name is
 * declared (the runtime's registry for the Alarm actor; the CLI, which has no runtime, accepts
 * every well-formed name). Throws a typed error for anything wrong:
 * time (INVALID_TIME, TIME_IN_PAST, INVALID_ZONE), target (UNKNOWN_TARGET), message
 * (INVALID_PAYLOAD, PAYLOAD_TOO_LARGE), options (INVALID_OPTION, INVALID_RECURRENCE).
 */
export function prepareAlarm(
  input: AlarmInput,
  now: number,
  zone: string,
  isDeclared: (name: string) => boolean,
  options: Pick<ResolvedAlarmOptions, 'maxMessageBytes' | 'maxAttempts'>,
): NewAlarm {
  if (typeof input !== 'object' || input === null)
    throw new InvalidOptionError('alarm', input, 'must be an object');
  const { at } = parseWhen(input.when, { now, zone });
  const target = input.target;
  if (typeof target !== 'string' || !isDeclared(target)) throw new UnknownTargetError(target);
  const message = encodeMessage(input.message ?? {}, options.maxMessageBytes);
  if (input.message && Object.hasOwn(input.message, 'alarm')) {
    throw new InvalidPayloadError(
      '$.alarm',
      "'alarm' is reserved: deliveries carry the alarm's id and attempt there",
    );
  }
  const opts = input.options ?? {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new InvalidOptionError('options', opts, 'must be an object');
  }
  for (const key of Object.keys(opts)) {
    if (!OPTION_KEYS.has(key))
      throw new InvalidOptionError(key, (opts as Record<string, unknown>)[key], 'is not an option of set');
  }
  const key = opts.key;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
    throw new InvalidOptionError('key', key, 'must be a string of 1 to 200 characters');
  }
  const recurrence = opts.recurrence === undefined ? null : validateRecurrence(opts.recurrence);
  const misfire = opts.misfire === undefined ? null : validateMisfire(opts.misfire);
  const maxAttempts = opts.maxAttempts ?? options.maxAttempts;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1000) {
    throw new InvalidOptionError('maxAttempts', maxAttempts, 'must be an integer from 1 to 1000');
  }
  const backoff = opts.backoff;
  if (
    backoff !== undefined &&
    (typeof backoff !== 'object' ||
      backoff === null ||
      !(backoff.minMs >= 0) ||
      !(backoff.maxMs >= backoff.minMs) ||
      !(backoff.factor >= 1))
  ) {
    throw new InvalidOptionError('backoff', backoff, 'must be { minMs >= 0, maxMs >= minMs, factor >= 1 }');
  }
  const trace = opts.trace;
  if (trace !== undefined && (typeof trace !== 'string' || !TRACEPARENT.test(trace))) {
    throw new InvalidOptionError('trace', trace, 'must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)');
  }
  return {
    fireAt: at,
    target,
    message: trace === undefined ? message : withTrace(message, trace),
    key: key ?? null,
    recurrence: recurrence ? JSON.stringify(recurrence) : null,
    misfire: misfire ? JSON.stringify(misfire) : null,
    maxAttempts,
    backoff: backoff
      ? JSON.stringify({ minMs: backoff.minMs, maxMs: backoff.maxMs, factor: backoff.factor })
      : null,
    createdAt: now,
  };
}

/**
 * Adds the trace context under the reserved key `alarm` of the stored message text (user messages
 * cannot use that key, so it is Vigil's). `message` is `encodeMessage` output: an object's JSON.
 */
function withTrace(message: string, trace: string): string {
  const field = `"alarm":{"trace":"${trace}"}`;
  return message === '{}' ? `{${field}}` : `${message.slice(0, -1)},${field}}`;
}

/**
 * Splits a decoded stored message into the user's message and Vigil's reserved `alarm` fields
 * (today only `trace`). @internal
 */
export function splitReserved(stored: Record<string, unknown>): {
  message: Record<string, unknown>;
  trace: string | null;
} {
  if (!Object.hasOwn(stored, 'alarm')) return { message: stored, trace: null };
  const { alarm, ...message } = stored;
  const trace = (alarm as { trace?: unknown } | null)?.trace;
  return { message, trace: typeof trace === 'string' ? trace : null };
}

/** The API view of a stored row. A row whose JSON no longer decodes shows `message: null`. */
export function toAlarm(row: AlarmRow): Alarm {
  return viewOf(row, tryDecode(row.message));
}

/**
 * `toAlarm` for a row this process just inserted: its message text came out of `encodeMessage`
 * a moment ago, so a plain `JSON.parse` gives the same object without `decodeMessage`'s checks
 * (which cost most of building the answer to a bulk `setMany`). @internal
 */
export function toInsertedAlarm(row: AlarmRow): Alarm {
  return viewOf(row, JSON.parse(row.message) as Record<string, unknown>);
}

function viewOf(row: AlarmRow, stored: Record<string, unknown> | null): Alarm {
  const { message, trace } = stored === null ? { message: null, trace: null } : splitReserved(stored);
  return {
    id: row.id,
    fireAt: row.fireAt,
    scheduledFor: row.scheduledFor,
    target: row.target,
    message,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt,
    firedAt: row.firedAt,
    key: row.key,
    recurrence: tryRecurrence(row.recurrence),
    trace,
  };
}

function tryDecode(text: string): Record<string, unknown> | null {
  try {
    return decodeMessage(text);
  } catch {
    return null;
  }
}

function tryRecurrence(text: string | null): Recurrence | null {
  if (text === null) return null;
  try {
    return validateRecurrence(JSON.parse(text));
  } catch {
    return null;
  }
}
