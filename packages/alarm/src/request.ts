/**
 * The Alarm actor's protocol: the requests it answers and the `Alarm` it answers with, and the
 * validation that turns a caller's `set` into a row to insert (or a typed error, changing nothing).
 */
import { isReservedType, parseWith } from '@vigil/runtime';
import * as v from 'valibot';
import { InvalidOptionError, InvalidPayloadError, UnknownTargetError } from './errors.js';
import { decodeMessage, encodeMessage } from './message.js';
import type { ResolvedAlarmOptions, RetryBackoff } from './options.js';
import { type When, whenReader } from './parse.js';
import { type MisfirePolicy, type Recurrence, validateMisfire, validateRecurrence } from './recurrence.js';
import type {
  AlarmRow,
  AlarmStatus,
  ListFilter,
  NewAlarm,
  OccurrenceOutcome,
  OccurrenceRow,
} from './store/types.js';

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

/**
 * A stored alarm, as the API returns it. A recurring alarm is one series: `id` names it for its
 * whole life, `status` is the series' (`pending` while an occurrence is to come), and `fireAt`,
 * `scheduledFor`, `attempts`, `lastError` describe its current (or last) occurrence. A one-shot
 * alarm is a series of one.
 */
export interface Alarm {
  id: number;
  /** When it fires next (moved by retries; for a series, the next occurrence). */
  fireAt: number;
  /** The instant the current (or last) occurrence was scheduled for. */
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
  /** Number of the current (or last) occurrence, from 1. */
  occurrence: number;
  /** Occurrences settled so far, by outcome. */
  counts: { delivered: number; missed: number; failed: number };
  /**
   * When a cancel was asked, if one was. A cancel that met a delivery in flight does not recall
   * it: the alarm stays `pending` with this set until the delivery's outcome is recorded, then
   * the series stops (`cancelled`; a one-shot alarm whose delivery went through ends `fired`).
   */
  cancelRequestedAt: number | null;
  /** The `trace` option of the `set` (a W3C traceparent), or null. */
  trace: string | null;
}

/** One settled occurrence of a series, as `history` returns it. */
export interface Occurrence {
  /** The series. */
  alarmId: number;
  /** Its number in the series, from 1 (what deliveries carry as `alarm.occurrence`). */
  seq: number;
  scheduledFor: number;
  /** Delivery attempts it took. */
  attempts: number;
  outcome: OccurrenceOutcome;
  /** Why it failed or was missed; null if delivered. */
  error: string | null;
  /** When it was delivered, failed or missed. */
  settledAt: number;
}

/** What a delivered message carries beside its own fields, under the key `alarm`. */
export interface DeliveryInfo {
  /** The series' id: the id `set` returned, the same for every occurrence. */
  alarmId: number;
  /** Number of this occurrence in the series, from 1 (always 1 for a one-shot alarm). */
  occurrence: number;
  /**
   * `"<alarmId>.<occurrence>"`: unique per occurrence, the same on every attempt and on a
   * redelivery after a crash. The key a target de-duplicates on.
   */
  occurrenceId: string;
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

/**
 * Requests understood by the Alarm actor (what `AlarmClient` sends). `alarm.setEach` carries the
 * `set`s of several callers, each with the instant its caller asked: each item is validated and
 * answered on its own (a bad one is refused alone, with its typed error), and the valid ones are
 * committed together.
 */
export type AlarmRequest =
  | ({ type: 'alarm.set'; requestedAt?: number } & AlarmInput)
  | { type: 'alarm.setMany'; items: AlarmInput[]; requestedAt?: number }
  | { type: 'alarm.setEach'; items: (AlarmInput & { requestedAt?: number })[] }
  | { type: 'alarm.cancel'; id: number }
  | { type: 'alarm.get'; id: number }
  | { type: 'alarm.history'; id: number; filter?: { limit?: number; afterSeq?: number } }
  | { type: 'alarm.list'; filter?: ListFilter }
  | { type: 'alarm.stats' };

/** One answer of `alarm.setEach`, in the order of its items. @internal */
export type SetEachResult = { alarm: Alarm; error?: undefined } | { alarm?: undefined; error: Error };

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
  return prepareAlarms([input], now, zone, isDeclared, options)[0]!;
}

/**
 * `prepareAlarm` for every item of one batch (a `setMany`): the first bad item throws its typed
 * error, and the caller refuses the whole batch, so bad input changes nothing. @internal
 */
export function prepareAlarms(
  inputs: readonly unknown[],
  now: number,
  zone: string,
  isDeclared: (name: string) => boolean,
  options: Pick<ResolvedAlarmOptions, 'maxMessageBytes' | 'maxAttempts'>,
): NewAlarm[] {
  const preparer = new AlarmPreparer(now, zone, isDeclared, options);
  const out = new Array<NewAlarm>(inputs.length);
  for (let i = 0; i < inputs.length; i++) out[i] = preparer.prepare(inputs[i]);
  return out;
}

/**
 * Validates the items of one batch read against one reference instant, doing once per batch what
 * does not depend on the item (the service's default `maxAttempts`) and once per distinct value
 * what depends on a value many items share: each `when` text is parsed once (`whenReader`), each
 * target name looked up once. `prepare` throws the item's typed error, as `prepareAlarm` does.
 * @internal
 */
export class AlarmPreparer {
  private readonly readWhen: (when: unknown) => number;
  private readonly declared = new Map<unknown, boolean>();
  private defaultAttempts: number | undefined;

  constructor(
    private readonly now: number,
    zone: string,
    private readonly isDeclared: (name: string) => boolean,
    private readonly options: Pick<ResolvedAlarmOptions, 'maxMessageBytes' | 'maxAttempts'>,
  ) {
    this.readWhen = whenReader(now, zone);
  }

  prepare(item: unknown): NewAlarm {
    if (typeof item !== 'object' || item === null)
      throw new InvalidOptionError('alarm', item, 'must be an object');
    const input = item as AlarmInput;
    const at = this.readWhen(input.when);
    const target = input.target;
    let known = this.declared.get(target);
    if (known === undefined) {
      known = typeof target === 'string' && this.isDeclared(target);
      this.declared.set(target, known);
    }
    if (!known) throw new UnknownTargetError(target);
    const message = encodeMessage(input.message ?? {}, this.options.maxMessageBytes);
    checkReserved(input.message);
    // Most sets give no options (absent or null, as before): they skip the parse, a few µs a set.
    const opts =
      input.options == null
        ? NO_OPTIONS
        : parseWith(SetOptionsSchema, input.options, (field, detail, value) => {
            throw new InvalidOptionError(field || 'options', value, detail);
          });
    const recurrence = opts.recurrence === undefined ? null : validateRecurrence(opts.recurrence);
    const misfire = opts.misfire === undefined ? null : validateMisfire(opts.misfire);
    let maxAttempts = opts.maxAttempts;
    if (maxAttempts === undefined) {
      // The service's default is checked against the same bounds as a given value, once.
      this.defaultAttempts ??= parseWith(MaxAttempts, this.options.maxAttempts, optionError('maxAttempts'));
      maxAttempts = this.defaultAttempts;
    }
    const backoff = opts.backoff;
    const trace = opts.trace;
    return {
      fireAt: at,
      target: target as string,
      message: trace === undefined ? message : withTrace(message, trace),
      key: opts.key ?? null,
      recurrence: recurrence ? JSON.stringify(recurrence) : null,
      misfire: misfire ? JSON.stringify(misfire) : null,
      maxAttempts,
      backoff: backoff
        ? JSON.stringify({ minMs: backoff.minMs, maxMs: backoff.maxMs, factor: backoff.factor })
        : null,
      createdAt: this.now,
    };
  }
}

/** Refuses the keys of a message that are Vigil's: a reserved `type`, and `alarm`. */
function checkReserved(message: Record<string, unknown> | undefined): void {
  if (message === undefined || message === null) return;
  const type = message.type;
  if (typeof type === 'string' && isReservedType(type)) {
    // A stored vigil.shutdown would make its target exit at every delivery, and strike again
    // after every restart: the runtime's protocol (and XState's) is not the caller's to send.
    throw new InvalidPayloadError('$.type', `'${type}' is a reserved type (vigil.*, xstate.*)`);
  }
  if (Object.hasOwn(message, 'alarm')) {
    throw new InvalidPayloadError(
      '$.alarm',
      "'alarm' is reserved: deliveries carry the alarm's id and attempt there",
    );
  }
}

// --- Schema of the options of one `set` ------------------------------------------------------
// Parsed for every `set`: the first bad option, in this order, is reported. `recurrence` and
// `misfire` are checked by recurrence.ts, which also normalises them.

const optionError =
  (field: string) =>
  (_path: string, detail: string, value: unknown): never => {
    throw new InvalidOptionError(field, value, detail);
  };

const MAX_ATTEMPTS = 'must be an integer from 1 to 1000';
const MaxAttempts = v.pipe(
  v.number(MAX_ATTEMPTS),
  v.safeInteger(MAX_ATTEMPTS),
  v.minValue(1, MAX_ATTEMPTS),
  v.maxValue(1000, MAX_ATTEMPTS),
);

const BACKOFF = 'must be { minMs >= 0, maxMs >= minMs, factor >= 1 }';
const KEY = 'must be a string of 1 to 200 characters';
const TRACE = 'must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)';

const NO_OPTIONS: SetOptions = Object.freeze({});

const SetOptionsSchema = v.pipe(
  v.custom<object>((o) => !Array.isArray(o), 'must be an object'),
  v.strictObject(
    {
      key: v.optional(v.pipe(v.string(KEY), v.minLength(1, KEY), v.maxLength(200, KEY))),
      recurrence: v.optional(v.unknown()),
      misfire: v.optional(v.unknown()),
      maxAttempts: v.optional(MaxAttempts),
      trace: v.optional(v.pipe(v.string(TRACE), v.regex(TRACEPARENT, TRACE))),
      backoff: v.optional(
        v.pipe(
          v.object(
            {
              minMs: v.pipe(v.number(BACKOFF), v.minValue(0, BACKOFF)),
              maxMs: v.number(BACKOFF),
              factor: v.pipe(v.number(BACKOFF), v.minValue(1, BACKOFF)),
            },
            BACKOFF,
          ),
          v.check((b) => b.maxMs >= b.minMs, BACKOFF),
        ),
      ),
    },
    // One message for both ways a strict object fails: not an object, or a key it does not have.
    (issue) => (issue.expected === 'never' ? 'is not an option of set' : 'must be an object'),
  ),
);

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
    occurrence: row.occurrence,
    counts: { delivered: row.deliveredCount, missed: row.missedCount, failed: row.failedCount },
    cancelRequestedAt: row.cancelRequestedAt,
    trace,
  };
}

/** The API view of a history row. */
export function toOccurrence(row: OccurrenceRow): Occurrence {
  return {
    alarmId: row.alarmId,
    seq: row.seq,
    scheduledFor: row.scheduledFor,
    attempts: row.attempts,
    outcome: row.outcome,
    error: row.error,
    settledAt: row.settledAt,
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
