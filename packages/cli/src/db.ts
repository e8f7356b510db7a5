/**
 * Opening the alarm database of `--db` for a command: a SQLite file, or a PostgreSQL database
 * when `--db` is a `postgres://` (or `postgresql://`) URL. Read commands open a file read-only and
 * refuse a path with no file, so a typo in `--db` reports an error instead of creating an empty
 * database; on PostgreSQL they likewise refuse a database without Vigil's alarm tables. `cancel`
 * writes but also refuses; only `set` may create the file (or the tables).
 *
 * A connection string may carry a password: no message here ever quotes it (`redactUrl`).
 * The PostgreSQL driver is loaded only for a URL, so a command on a file starts no slower for it.
 */
import { statSync } from 'node:fs';
import { type AlarmStore, openSqliteStore } from '@vigil/alarm';
import { VigilError } from '@vigil/runtime';
import type { Context } from './context.js';
import { CliError } from './errors.js';

/** How long a write waits for the running runtime's lock before failing with STORE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** True when `--db` names a PostgreSQL database rather than a file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** A connection string without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/** Where `--db` points: a PostgreSQL URL as given, a file path resolved against the working directory. */
export function location(ctx: Context, db: string): string {
  return isPostgresUrl(db) ? db : ctx.path(db);
}

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

/** Throws `DB_NOT_FOUND` unless the PostgreSQL database at `url` holds Vigil's alarm tables. */
async function requireAlarmTables(url: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  // A connection cut mid-query is reported by the query; this only keeps it from being uncaught.
  client.on('error', () => {});
  let found: boolean;
  try {
    await client.connect();
    const r = await client.query<{ found: boolean }>(
      `SELECT to_regclass('vigil_alarms') IS NOT NULL AS found`,
    );
    found = r.rows[0]?.found === true;
  } catch (err) {
    throw new VigilError(
      'STORE_FAILED',
      `cannot read the database at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    await client.end().catch(() => {});
  }
  if (!found)
    throw new CliError('DB_NOT_FOUND', `no Vigil alarm tables in the database at ${redactUrl(url)}`);
}

/** Opens an existing database for reading: a file read-only, or PostgreSQL tables that exist. */
export async function openForReading(where: string): Promise<AlarmStore> {
  if (isPostgresUrl(where)) {
    await requireAlarmTables(where);
    const { openPostgresStore } = await import('@vigil/postgres');
    return openPostgresStore({ connectionString: where, max: 1 });
  }
  requireFile(where);
  return openSqliteStore(where, { readonly: true });
}

/**
 * Opens a database for writing, beside a running runtime if there is one (SQLite's WAL allows one
 * writer at a time; each write here is a single short transaction; PostgreSQL takes any number).
 * With `create: false` a missing file, or a PostgreSQL database without the tables, is an error.
 */
export async function openForWriting(where: string, options: { create: boolean }): Promise<AlarmStore> {
  if (isPostgresUrl(where)) {
    if (!options.create) await requireAlarmTables(where);
    const { openPostgresStore } = await import('@vigil/postgres');
    return openPostgresStore({ connectionString: where, max: 1 });
  }
  if (!options.create) requireFile(where);
  return openSqliteStore(where, { busyTimeoutMs: BUSY_TIMEOUT_MS });
}

/** Runs `fn` with the store and closes it afterwards, whatever happens. */
export async function withStore<T>(
  opening: Promise<AlarmStore>,
  fn: (store: AlarmStore) => Promise<T>,
): Promise<T> {
  const store = await opening;
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
