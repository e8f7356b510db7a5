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
  {
    version: 3,
    // Series: a recurring alarm is one row for its whole life (its id, key and cancel address the
    // series); each settled occurrence of a recurring series is a row of `occurrences`. Before v3
    // every occurrence was a new row with a new id, inserted by the completion of the previous one
    // with created_at = the previous row's settled_at and the same target, message and
    // recurrence: that is the link followed here. The first row of each chain becomes the series
    // (it keeps its id and key) and takes the state of the last one; the rows after it become
    // history and are deleted from `alarms`.
    description: 'series: occurrence counters on alarms, occurrences history table, cancel requests',
    up: `
      ALTER TABLE alarms ADD COLUMN occurrence INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE alarms ADD COLUMN delivered_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE alarms ADD COLUMN missed_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE alarms ADD COLUMN failed_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE alarms ADD COLUMN cancel_requested_at INTEGER;
      UPDATE alarms SET delivered_count = (status = 'fired'), missed_count = (status = 'missed'),
        failed_count = (status = 'failed');
      CREATE TABLE occurrences (
        alarm_id      INTEGER NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
        seq           INTEGER NOT NULL,
        scheduled_for INTEGER NOT NULL,
        attempts      INTEGER NOT NULL,
        outcome       TEXT    NOT NULL CHECK (outcome IN ('delivered', 'missed', 'failed')),
        error         TEXT,
        settled_at    INTEGER NOT NULL,
        PRIMARY KEY (alarm_id, seq)
      ) WITHOUT ROWID;

      CREATE TEMP TABLE v3_link AS
        SELECT a.id AS id,
          (SELECT p.id FROM alarms p
            WHERE p.recurrence IS NOT NULL AND p.status IN ('fired', 'missed') AND p.id < a.id
              AND p.settled_at = a.created_at AND p.target = a.target AND p.message = a.message
              AND p.recurrence = a.recurrence
            ORDER BY p.id DESC LIMIT 1) AS prev
        FROM alarms a WHERE a.recurrence IS NOT NULL AND a.key IS NULL;
      CREATE TEMP TABLE v3_chain AS
        WITH RECURSIVE chain (id, root, seq) AS (
          SELECT id, id, 1 FROM alarms
            WHERE recurrence IS NOT NULL
              AND id NOT IN (SELECT id FROM temp.v3_link WHERE prev IS NOT NULL)
          UNION ALL
          SELECT l.id, c.root, c.seq + 1 FROM temp.v3_link l JOIN chain c ON l.prev = c.id
        )
        SELECT id, root, seq FROM chain;
      INSERT INTO occurrences (alarm_id, seq, scheduled_for, attempts, outcome, error, settled_at)
        SELECT c.root, c.seq, a.scheduled_for, a.attempts,
          CASE a.status WHEN 'fired' THEN 'delivered' ELSE a.status END, a.last_error,
          coalesce(a.settled_at, a.fired_at, a.fire_at)
        FROM temp.v3_chain c JOIN alarms a ON a.id = c.id
        WHERE a.status IN ('fired', 'missed', 'failed');
      UPDATE alarms SET
          fire_at = last.fire_at, scheduled_for = last.scheduled_for, status = last.status,
          attempts = last.attempts, last_error = last.last_error, settled_at = last.settled_at,
          fired_at = (SELECT max(a.fired_at) FROM temp.v3_chain c JOIN alarms a ON a.id = c.id
                      WHERE c.root = last.root),
          occurrence = last.seq,
          delivered_count = (SELECT count(*) FROM occurrences o WHERE o.alarm_id = last.root AND o.outcome = 'delivered'),
          missed_count = (SELECT count(*) FROM occurrences o WHERE o.alarm_id = last.root AND o.outcome = 'missed'),
          failed_count = (SELECT count(*) FROM occurrences o WHERE o.alarm_id = last.root AND o.outcome = 'failed')
        FROM (SELECT c.root, c.seq, a.* FROM temp.v3_chain c JOIN alarms a ON a.id = c.id
              WHERE c.seq = (SELECT max(c2.seq) FROM temp.v3_chain c2 WHERE c2.root = c.root)) AS last
        WHERE alarms.id = last.root;
      DELETE FROM alarms WHERE id IN (SELECT id FROM temp.v3_chain WHERE id <> root);
      DROP TABLE temp.v3_chain;
      DROP TABLE temp.v3_link;
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
