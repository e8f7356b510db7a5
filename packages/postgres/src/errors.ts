/**
 * How `pg` failures become typed `StoreError`s. The one distinction the Alarm acts on is
 * `STORE_UNAVAILABLE`: the server cannot be reached or is going away (refused, reset, admin
 * shutdown, failover), so the same request may succeed later; the Alarm backs off and retries
 * instead of crashing. Everything else keeps its meaning from the SQLite store.
 */
import { StoreError } from '@vigil/alarm';

/** Node socket errors that mean "no server there right now". */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or not accepting connections yet: class 08
 * (connection exception), admin / crash shutdown, cannot connect now (starting up, recovery),
 * too many connections, and a standby that cannot take writes during a failover.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Messages `pg` gives, without a code, when a connection dies under it. */
const DEAD_CONNECTION =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable/i;

/** Whether `err` means that the database cannot be reached right now. */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (
    typeof code === 'string' &&
    (SOCKET_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))
  )
    return true;
  // An AggregateError (every address of a host refused) carries the socket errors inside.
  const inner = (err as { errors?: unknown })?.errors;
  if (Array.isArray(inner) && inner.length > 0 && inner.every(isUnavailable)) return true;
  return err instanceof Error && DEAD_CONNECTION.test(err.message);
}

/** Maps a `pg` error to a typed `StoreError`, keeping it as `cause`. */
export function toStoreError(err: unknown, operation: string): StoreError {
  if (err instanceof StoreError || (err as { code?: unknown })?.code === 'STORE_SCHEMA_TOO_NEW')
    return err as StoreError;
  const code = (err as { code?: unknown })?.code;
  const detail = err instanceof Error ? err.message || String(code ?? 'error') : String(err);
  if (isUnavailable(err)) return new StoreError('STORE_UNAVAILABLE', operation, detail, { cause: err });
  if (code === '53100') return new StoreError('STORE_FULL', operation, detail, { cause: err });
  if (code === '40001' || code === '40P01' || code === '55P03')
    return new StoreError('STORE_BUSY', operation, detail, { cause: err });
  if (code === '25006') return new StoreError('STORE_READONLY', operation, detail, { cause: err });
  return new StoreError('STORE_FAILED', operation, detail, { cause: err });
}
