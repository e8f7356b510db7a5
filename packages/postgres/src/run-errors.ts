/**
 * The error of a failed operation of the PostgreSQL run store. Same codes as the alarm store's
 * `StoreError` (`STORE_FAILED`, `STORE_BUSY`, `STORE_CLOSED`...), named for the run store so that
 * a message never blames the alarm store; `cause` holds the driver's error. A write that rejects
 * with it stored nothing.
 */
import type { StoreErrorCode } from '@vigil/alarm';
import { VigilError } from '@vigil/runtime';
import { toStoreError } from './errors.js';

/** A run store operation failed; nothing of a rejected write was stored. */
export class RunStoreError extends VigilError {
  /** `STORE_FAILED`, `STORE_BUSY`, `STORE_READONLY`, `STORE_CLOSED`..., as the alarm store's. */
  declare readonly code: StoreErrorCode;

  constructor(
    code: StoreErrorCode,
    /** The store method that failed ('save', 'withRun', 'open'...). */
    readonly operation: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(code, `workflow run store ${operation} failed: ${detail}`, options);
  }
}

/** Vigil's own errors (a schema too new, no tables) as they are; a `pg` failure as a `RunStoreError`. */
export function runStoreError(err: unknown, operation: string): VigilError {
  if (err instanceof VigilError) return err;
  const code = toStoreError(err, operation).code;
  return new RunStoreError(code, operation, err instanceof Error ? err.message : String(err), { cause: err });
}
