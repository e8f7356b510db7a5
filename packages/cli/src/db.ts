/**
 * Opening the alarm database for a command. Read commands open it read-only and refuse a path with
 * no file, so a typo in `--db` reports an error instead of creating an empty database. `cancel`
 * writes but also refuses a missing file; only `set` may create one.
 */
import { statSync } from 'node:fs';
import { type AlarmStore, openSqliteStore } from '@vigil/alarm';
import { CliError } from './errors.js';

/** How long a write waits for the running runtime's lock before failing with STORE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Throws `DB_NOT_FOUND` unless `path` names an existing regular file. */
export function requireFile(path: string): void {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // Absent or unreadable: both reported as below.
  }
  if (!isFile) throw new CliError('DB_NOT_FOUND', `no database file at ${JSON.stringify(path)}`);
}

/** Opens an existing database read-only. */
export function openForReading(path: string): AlarmStore {
  requireFile(path);
  return openSqliteStore(path, { readonly: true });
}

/**
 * Opens a database for writing, beside a running runtime if there is one (WAL allows one writer
 * at a time; each write here is a single short transaction). With `create: false` a missing file
 * is an error.
 */
export function openForWriting(path: string, options: { create: boolean }): AlarmStore {
  if (!options.create) requireFile(path);
  return openSqliteStore(path, { busyTimeoutMs: BUSY_TIMEOUT_MS });
}

/** Runs `fn` with the store and closes it afterwards, whatever happens. */
export async function withStore<T>(store: AlarmStore, fn: (store: AlarmStore) => Promise<T>): Promise<T> {
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
