/**
 * Versioned schema of the SQLite store. `PRAGMA user_version` holds the version; on open the store
 * applies every later migration in order, each in its own transaction together with the version
 * bump, so a crash mid-migration leaves the previous version intact. A database from a newer
 * version is refused rather than downgraded.
 */
import type { Database } from 'better-sqlite3';
import { SchemaTooNewError } from '../errors.js';

/** One forward step; `up` runs inside a transaction. @internal */
export interface Migration {
  version: number;
  description: string;
  up: string;
}

/** Every schema version, in order. Never edit a shipped migration: add a new one. @internal */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'alarms table',
    up: `
      CREATE TABLE alarms (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        fire_at      INTEGER NOT NULL,
        target       TEXT    NOT NULL,
        message      TEXT    NOT NULL,
        status       TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'fired', 'failed', 'cancelled', 'missed')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        created_at   INTEGER NOT NULL,
        fired_at     INTEGER,
        key          TEXT UNIQUE,
        recurrence   TEXT,
        misfire      TEXT,
        max_attempts INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX alarms_fire_at ON alarms (fire_at);
    `,
  },
  {
    version: 2,
    // v1 measured lateness from fire_at, which retries move; scheduled_for keeps the original
    // instant. The (status, fire_at) index serves due() and nextPending() without a scan of
    // fired rows, which dominate an old table.
    description: 'scheduled_for, settled_at, backoff; index on (status, fire_at)',
    up: `
      ALTER TABLE alarms ADD COLUMN scheduled_for INTEGER NOT NULL DEFAULT 0;
      UPDATE alarms SET scheduled_for = fire_at;
      ALTER TABLE alarms ADD COLUMN settled_at INTEGER;
      UPDATE alarms SET settled_at = fired_at WHERE status <> 'pending';
      ALTER TABLE alarms ADD COLUMN backoff TEXT;
      DROP INDEX alarms_fire_at;
      CREATE INDEX alarms_status_fire_at ON alarms (status, fire_at);
      CREATE INDEX alarms_target ON alarms (target);
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Current `user_version` of an open database (0 for a new one). */
export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings `db` to `target` (default: the latest version). Throws `SchemaTooNewError` for a database
 * above what this code knows. Returns the versions applied.
 */
export function migrate(db: Database, path: string, target = SCHEMA_VERSION): number[] {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(path, current, SCHEMA_VERSION);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    // BEGIN IMMEDIATE: two processes opening a fresh file at once serialise here; the loser
    // re-reads the version inside its own transaction and finds nothing left to do.
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.up);
      db.pragma(`user_version = ${m.version}`);
      applied.push(m.version);
    }).immediate();
  }
  return applied;
}
