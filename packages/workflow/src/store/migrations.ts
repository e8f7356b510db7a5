/**
 * Versioned schema of the Scheduler's tables in SQLite. The database file may be shared with the
 * alarm store (and any later component): every component owns its own tables and records its
 * schema version in its own row of `vigil_schema (component, version)`, here component
 * 'scheduler'. `PRAGMA user_version` is never touched here (see docs/ARCHITECTURE.md, "Sharing a
 * database file"). Each migration runs in one transaction with its version bump, so a crash
 * mid-migration leaves the previous version; a newer schema is refused rather than downgraded.
 */
import type { Database } from 'better-sqlite3';
import { RunSchemaTooNewError } from '../errors.js';

/** This component's row in `vigil_schema`. */
const COMPONENT = 'scheduler';

/** Current schema version of the Scheduler's tables. */
export const RUN_SCHEMA_VERSION = 2;

/** Every schema version, in order. Never edit a shipped migration: add a new one. @internal */
export const MIGRATIONS: readonly { version: number; up: string }[] = [
  {
    version: 1,
    up: `
      CREATE TABLE workflow_runs (
        id         TEXT PRIMARY KEY,
        workflow   TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('steps', 'machine')),
        status     TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'cancelled')),
        step       TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        attempt    INTEGER NOT NULL,
        next_at    INTEGER,
        alarm_id   INTEGER,
        context    TEXT NOT NULL,
        input      TEXT,
        waiting    TEXT,
        snapshot   TEXT,
        timers     TEXT,
        result     TEXT,
        error      TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ended_at   INTEGER
      );
      CREATE INDEX workflow_runs_status ON workflow_runs (status, workflow);
      CREATE TABLE workflow_history (
        run_id     TEXT NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
        n          INTEGER NOT NULL,
        seq        INTEGER NOT NULL,
        step       TEXT NOT NULL,
        attempt    INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER NOT NULL,
        outcome    TEXT NOT NULL,
        detail     TEXT,
        PRIMARY KEY (run_id, n)
      );
    `,
  },
  {
    // Workflow versions (issue 19): the version of the definition a run runs. Runs stored
    // before versions existed ran the only definition there was: version 1.
    version: 2,
    up: `
      ALTER TABLE workflow_runs ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
    `,
  },
];

/** The version recorded for the Scheduler's tables (0 if none); refuses a newer one. @internal */
export function schemaVersion(db: Database): number {
  const hasMeta = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vigil_schema'")
    .get();
  const current = hasMeta
    ? ((
        db.prepare('SELECT version FROM vigil_schema WHERE component = ?').get(COMPONENT) as
          | { version: number }
          | undefined
      )?.version ?? 0)
    : 0;
  if (current > RUN_SCHEMA_VERSION) throw new RunSchemaTooNewError(current, RUN_SCHEMA_VERSION);
  return current;
}

/** Applies every migration after the recorded version, each in one transaction with its bump. @internal */
export function migrate(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS vigil_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const current = schemaVersion(db);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.up);
      db.prepare(
        'INSERT INTO vigil_schema (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version',
      ).run(COMPONENT, m.version);
    }).immediate();
  }
}
