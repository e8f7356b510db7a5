/**
 * Every error the alarm package raises. Each is a `VigilError` with a stable `code`; messages are
 * built from structured fields and quote the offending input, truncated so a 10 MB string cannot
 * end up in a log line.
 */
import { VigilError } from '@vigil/runtime';

const QUOTE_LIMIT = 80;

/** Printable, bounded form of any input, for error messages. @internal */
export function quote(input: unknown): string {
  let text: string;
  if (typeof input === 'string')
    text = JSON.stringify(input.length > QUOTE_LIMIT * 2 ? input.slice(0, QUOTE_LIMIT * 2) : input);
  else if (typeof input === 'bigint') text = `${input}n`;
  // JSON would print NaN and ±Infinity as null: quote what was given.
  else if (typeof input === 'number') text = String(input);
  else if (typeof input === 'symbol' || typeof input === 'function' || input === undefined)
    text = String(input);
  else text = quoteObject(input);
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT - 1)}…` : text;
}

/**
 * An object may be a Proxy whose traps throw, or a revoked one, on any read (`instanceof`,
 * `JSON.stringify`, even `toString`): quoting it must never throw in turn.
 */
function quoteObject(input: unknown): string {
  try {
    if (input instanceof Date) return Number.isNaN(input.getTime()) ? 'Invalid Date' : input.toISOString();
    // Non-finite numbers inside ({ in: NaN }) are shown as given too, not as null.
    const text = JSON.stringify(input, (_key, v) =>
      typeof v === 'number' && !Number.isFinite(v) ? `\u0000${v}\u0000` : v,
    );
    return text === undefined ? String(input) : text.replace(/"\\u0000(NaN|-?Infinity)\\u0000"/g, '$1');
  } catch {
    try {
      return Object.prototype.toString.call(input);
    } catch {
      return '[unreadable object]';
    }
  }
}

// --- Time -------------------------------------------------------------------------------------

/** A `when` that names no instant: unparseable text, leftover words, NaN, wrong type. */
export class InvalidTimeError extends VigilError {
  constructor(
    readonly input: unknown,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('INVALID_TIME', `invalid time ${quote(input)}: ${reason}`, options);
  }
}

/** A `when` that resolves to an instant before the reference instant (exactly now is accepted: it fires at once). */
export class PastTimeError extends VigilError {
  constructor(
    readonly input: unknown,
    readonly at: number,
    readonly now: number,
    /** The instant as wall-clock time in the zone it was read in ('2026-06-10 06:00 Europe/Paris'). */
    readonly wallClock?: string,
  ) {
    super(
      'TIME_IN_PAST',
      `time ${quote(input)} resolves to ${new Date(at).toISOString()}${wallClock ? ` (${wallClock})` : ''}, which is before ${new Date(now).toISOString()}`,
    );
  }
}

/** A time zone that is not a valid IANA zone name. */
export class InvalidZoneError extends VigilError {
  constructor(readonly zone: unknown) {
    super('INVALID_ZONE', `invalid time zone ${quote(zone)}: expected an IANA name such as 'Europe/Paris'`);
  }
}

/** A recurrence (`every` interval or `cron` pattern) or misfire policy that fails validation. */
export class InvalidRecurrenceError extends VigilError {
  constructor(
    readonly input: unknown,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('INVALID_RECURRENCE', `invalid recurrence ${quote(input)}: ${reason}`, options);
  }
}

// --- Messages ---------------------------------------------------------------------------------

/** An alarm message that cannot be stored as JSON losslessly; `path` locates the bad value. */
export class InvalidPayloadError extends VigilError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super('INVALID_PAYLOAD', `invalid alarm message at ${path}: ${reason}`);
  }
}

/** An alarm message whose JSON text is larger than the configured limit (UTF-8 bytes). */
export class PayloadTooLargeError extends VigilError {
  constructor(
    /** Size of the JSON text, or a lower bound of it when `exact` is false (measuring stopped early). */
    readonly bytes: number,
    readonly maxBytes: number,
    readonly exact = true,
  ) {
    super(
      'PAYLOAD_TOO_LARGE',
      `alarm message is ${exact ? '' : 'at least '}${bytes} bytes of JSON, over the limit of ${maxBytes}`,
    );
  }
}

/** Stored message text that no longer decodes into a safe plain object. */
export class UndecodableMessageError extends VigilError {
  constructor(
    readonly text: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('UNDECODABLE_MESSAGE', `stored alarm message ${quote(text)} cannot be decoded: ${reason}`, options);
  }
}

// --- Store ------------------------------------------------------------------------------------

/** Stable codes of `StoreError`. */
export type StoreErrorCode =
  | 'STORE_FULL'
  | 'STORE_BUSY'
  | 'STORE_READONLY'
  | 'STORE_CORRUPT'
  | 'STORE_CLOSED'
  | 'STORE_INVALID_ROW'
  /** The database cannot be reached (refused, connection lost, shutting down): try again later. */
  | 'STORE_UNAVAILABLE'
  | 'STORE_FAILED';

/**
 * A store operation failed. Writes are transactional: when a write rejects with this error,
 * nothing of it was stored. `cause` holds the driver's error.
 */
export class StoreError extends VigilError {
  declare readonly code: StoreErrorCode;

  constructor(
    code: StoreErrorCode,
    readonly operation: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(code, `alarm store ${operation} failed: ${detail}`, options);
  }
}

/** The database was written by a newer Vigil (schema version above what this code knows). */
export class SchemaTooNewError extends VigilError {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      'STORE_SCHEMA_TOO_NEW',
      `database ${quote(path)} has schema version ${found}; this version of Vigil knows up to ${supported} and will not downgrade it`,
    );
  }
}

// --- Requests ---------------------------------------------------------------------------------

/** An option of `set` (or of the Alarm actor) that fails validation; names the field. */
export class InvalidOptionError extends VigilError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    detail: string,
  ) {
    super('INVALID_OPTION', `invalid option '${field}' ${quote(value)}: ${detail}`);
  }
}

/** An alarm's target is not a name declared in the runtime. */
export class UnknownTargetError extends VigilError {
  constructor(readonly target: unknown) {
    super('UNKNOWN_TARGET', `alarm target ${quote(target)} is not a declared actor name`);
  }
}

// --- Delivery ---------------------------------------------------------------------------------

/**
 * A batch target (`batchTargets`) answered a batch with something other than one outcome per item
 * (`true`, an `Error`, or a `BatchItemError`). Every item of that batch takes this error: retryable, like a target that
 * did not answer, because nothing says which items it handled.
 */
export class InvalidBatchReplyError extends VigilError<'INVALID_BATCH_REPLY'> {
  /** Retried with backoff, as a delivery that timed out. */
  readonly retryable = true;
  constructor(
    readonly target: string,
    readonly items: number,
    readonly reply: unknown,
  ) {
    super(
      'INVALID_BATCH_REPLY',
      `batch target '${target}' must answer a batch of ${items} with an array of ${items} outcomes ` +
        `(true, an Error, or { error: string }), got ${quote(reply)}`,
    );
  }
}
