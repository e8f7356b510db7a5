/**
 * Versioned schema of the workflow run tables on PostgreSQL, apart from the alarm tables: the run
 * store owns `vigil_workflow_runs`, `vigil_workflow_history` and `vigil_workflow_locks`, and records
 * its version in its own one-row table `vigil_workflow_schema` (the alarm store's `vigil_schema`
 * holds the alarm schema's single row), so either store migrates without the other.
 *
 * Each migration runs in the transaction that bumps the version, under an advisory lock, so several
 * nodes starting at once migrate exactly once. A database at a newer version is refused, never
 * touched. Free text that may come from anywhere (a step's error message, a history detail) is
 * bytea: PostgreSQL text cannot hold NUL. Run ids sort in byte order (`COLLATE "C"`), as SQLite's
 * BINARY does, so paging with `afterId` gives the same pages on both stores, and the store keeps what it was given. JSON columns are
 * text: `JSON.stringify` escapes NUL, and jsonb would reorder keys and refuse `\u0000`.
 */
import { NoWorkflowTablesError, RunSchemaTooNewError } from '@vigil/workflow';
import type pg from 'pg';

/** Steps in order; `RUN_MIGRATIONS[i]` takes the run schema from version i to i + 1. */
const RUN_MIGRATIONS: readonly string[] = [
  `CREATE TABLE vigil_workflow_runs (
     id text COLLATE "C" PRIMARY KEY,
     workflow text NOT NULL,
     kind text NOT NULL CHECK (kind IN ('steps', 'machine')),
     version int4 NOT NULL DEFAULT 1 CHECK (version >= 1),
     status text NOT NULL CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'cancelled')),
     step text NOT NULL,
     seq int4 NOT NULL,
     attempt int4 NOT NULL,
     next_at int8,
     alarm_id int8,
     context text NOT NULL,
     input text,
     waiting text,
     snapshot text,
     timers text,
     result text,
     error bytea,
     created_at int8 NOT NULL,
     updated_at int8 NOT NULL,
     ended_at int8
   );
   CREATE INDEX vigil_workflow_runs_status ON vigil_workflow_runs (status, workflow);
   CREATE TABLE vigil_workflow_history (
     run_id text COLLATE "C" NOT NULL REFERENCES vigil_workflow_runs (id) ON DELETE CASCADE,
     n int4 NOT NULL,
     seq int4 NOT NULL,
     step text NOT NULL,
     attempt int4 NOT NULL,
     started_at int8 NOT NULL,
     ended_at int8 NOT NULL,
     outcome text NOT NULL,
     detail bytea,
     PRIMARY KEY (run_id, n)
   );
   CREATE TABLE vigil_workflow_locks (run_id text PRIMARY KEY);`,
];

/** The schema version of the workflow run tables this code writes. */
export const POSTGRES_RUN_SCHEMA_VERSION = RUN_MIGRATIONS.length;

/** Brings the run tables to `POSTGRES_RUN_SCHEMA_VERSION`; throws `RunSchemaTooNewError` if newer. */
export async function migrateRunTables(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    // Any fixed key other than the alarm store's: it only orders concurrent migrations of this schema.
    await client.query('SELECT pg_advisory_xact_lock(7361927)');
    await client.query('CREATE TABLE IF NOT EXISTS vigil_workflow_schema (version int4 NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM vigil_workflow_schema');
    let version = r.rows[0]?.version ?? 0;
    if (r.rows.length === 0) await client.query('INSERT INTO vigil_workflow_schema (version) VALUES (0)');
    if (version > POSTGRES_RUN_SCHEMA_VERSION)
      throw new RunSchemaTooNewError(version, POSTGRES_RUN_SCHEMA_VERSION);
    for (; version < POSTGRES_RUN_SCHEMA_VERSION; version++) await client.query(RUN_MIGRATIONS[version]!);
    await client.query('UPDATE vigil_workflow_schema SET version = $1', [version]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * For a read-only open (the CLI): checks that the run tables exist at a version this code reads,
 * creating and migrating nothing. Throws `NoWorkflowTablesError` or `RunSchemaTooNewError`.
 */
export async function checkRunTables(client: pg.ClientBase): Promise<void> {
  const r = await client.query<{ exists: boolean }>(
    `SELECT to_regclass('vigil_workflow_schema') IS NOT NULL AS exists`,
  );
  if (!r.rows[0]?.exists) throw new NoWorkflowTablesError();
  const v = await client.query<{ version: number }>('SELECT version FROM vigil_workflow_schema');
  const version = v.rows[0]?.version ?? 0;
  if (version === 0) throw new NoWorkflowTablesError();
  if (version > POSTGRES_RUN_SCHEMA_VERSION)
    throw new RunSchemaTooNewError(version, POSTGRES_RUN_SCHEMA_VERSION);
}
