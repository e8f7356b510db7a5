/**
 * The check every `AlarmStore.insert` makes on its input, shared by the stores (SQLite here,
 * PostgreSQL in @vigil/postgres) so that a bad row is refused the same way whatever the backend.
 * The Alarm actor validates user input long before (schema, `encodeMessage`); this guards the
 * store's own contract against a caller that bypasses it (the CLI, a script, another store user).
 */
import { StoreError } from '../errors.js';
import type { AlarmRow, NewAlarm, OccurrenceOutcome, OccurrenceRow } from './types.js';

/** A `NewAlarm` as a store writes it: every optional field resolved (null, or 1 attempt). */
export interface CheckedAlarm {
  fireAt: number;
  createdAt: number;
  target: string;
  message: string;
  key: string | null;
  recurrence: string | null;
  misfire: string | null;
  backoff: string | null;
  maxAttempts: number;
}

// Module-level helpers rather than closures inside checkNewAlarm: it runs once per inserted row,
// and closures made per call (named by the TypeScript loader) cost more than the checks.
function bad(field: string): StoreError {
  return new StoreError('STORE_INVALID_ROW', 'insert', `field '${field}' is missing or has the wrong type`);
}

function text(field: string, v: string | null | undefined): string | null {
  if (v !== undefined && v !== null && typeof v !== 'string') throw bad(field);
  return v ?? null;
}

/**
 * For store implementers: checks one alarm given to `AlarmStore.insert` and resolves its defaults.
 * Throws `StoreError` `STORE_INVALID_ROW` naming the first bad field (instants must be safe
 * integers, `target` a non-empty string, `message` a string, the JSON columns strings or null,
 * `maxAttempts` an integer >= 1). A store checks the whole batch before it writes anything, so a
 * bad row anywhere rejects the batch and stores nothing.
 *
 * @example
 * const rows = alarms.map(checkNewAlarm); // throws before the transaction begins
 */
export function checkNewAlarm(a: NewAlarm): CheckedAlarm {
  if (a === null || typeof a !== 'object') throw bad('alarm');
  if (!Number.isSafeInteger(a.fireAt)) throw bad('fireAt');
  if (!Number.isSafeInteger(a.createdAt)) throw bad('createdAt');
  if (typeof a.target !== 'string' || a.target === '') throw bad('target');
  if (typeof a.message !== 'string') throw bad('message');
  const maxAttempts = a.maxAttempts ?? 1;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw bad('maxAttempts');
  return {
    fireAt: a.fireAt,
    createdAt: a.createdAt,
    target: a.target,
    message: a.message,
    key: text('key', a.key),
    recurrence: text('recurrence', a.recurrence),
    misfire: text('misfire', a.misfire),
    backoff: text('backoff', a.backoff),
    maxAttempts,
  };
}

/**
 * The history of a one-shot alarm, for `AlarmStore.history` implementers: a one-shot alarm writes
 * no occurrence rows, its row is its one occurrence (seq 1) once settled as fired, missed or
 * failed. Returns that occurrence, or nothing for a pending, cancelled or recurring alarm, or a
 * page past seq 1 (`afterSeq` >= 1) or of no rows (`limit` 0).
 */
export function oneShotHistory(row: AlarmRow | undefined, limit: number, afterSeq: number): OccurrenceRow[] {
  if (!row || row.recurrence !== null || afterSeq >= 1 || limit <= 0) return [];
  const outcome: OccurrenceOutcome | undefined =
    row.status === 'fired'
      ? 'delivered'
      : row.status === 'missed' || row.status === 'failed'
        ? row.status
        : undefined;
  if (outcome === undefined) return [];
  return [
    {
      alarmId: row.id,
      seq: 1,
      scheduledFor: row.scheduledFor,
      attempts: row.attempts,
      outcome,
      error: outcome === 'delivered' ? null : row.lastError,
      settledAt: row.settledAt ?? row.firedAt ?? row.fireAt,
    },
  ];
}
