/**
 * Versioned schema of the PostgreSQL store. `vigil_schema` holds one row with the version; each
 * migration runs in the transaction that bumps it, under an advisory lock so that several nodes
 * starting at once migrate exactly once. The raw JSON columns are bytea, not text: PostgreSQL text
 * cannot hold NUL, and the store keeps whatever text it was given (garbage included). A database
 * at a newer version is refused, never touched.
 */
import { SchemaTooNewError } from '@vigil/alarm';
import type pg from 'pg';

/** Steps in order; `MIGRATIONS[i]` takes the schema from version i to i + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE vigil_alarms (
     id bigserial PRIMARY KEY,
     fire_at int8 NOT NULL,
     scheduled_for int8 NOT NULL,
     target text NOT NULL,
     message bytea NOT NULL,
     status text NOT NULL DEFAULT 'pending'
       CHECK (status IN ('pending', 'fired', 'failed', 'cancelled', 'missed')),
     attempts int4 NOT NULL DEFAULT 0,
     last_error text,
     created_at int8 NOT NULL,
     fired_at int8,
     settled_at int8,
     key text UNIQUE,
     recurrence bytea,
     misfire bytea,
     max_attempts int4 NOT NULL DEFAULT 1,
     backoff bytea,
     occurrence int4 NOT NULL DEFAULT 1,
     delivered_count int4 NOT NULL DEFAULT 0,
     missed_count int4 NOT NULL DEFAULT 0,
     failed_count int4 NOT NULL DEFAULT 0,
     cancel_requested_at int8
   );
   CREATE INDEX vigil_alarms_pending ON vigil_alarms (fire_at, id) WHERE status = 'pending';
   CREATE TABLE vigil_occurrences (
     alarm_id int8 NOT NULL REFERENCES vigil_alarms (id),
     seq int4 NOT NULL,
     scheduled_for int8 NOT NULL,
     attempts int4 NOT NULL,
     outcome text NOT NULL CHECK (outcome IN ('delivered', 'missed', 'failed')),
     error text,
     settled_at int8 NOT NULL,
     PRIMARY KEY (alarm_id, seq)
   );
   CREATE SEQUENCE vigil_change_seq;`,
  // v2, leases: a due alarm is claimed by one node (`claimed_by`) until `lease_until` (server
  // time, epoch ms). The index serves the "has a claim expired?" probe of every node's poll.
  `ALTER TABLE vigil_alarms ADD COLUMN claimed_by text, ADD COLUMN lease_until int8;
   CREATE INDEX vigil_alarms_leases ON vigil_alarms (lease_until)
     WHERE status = 'pending' AND claimed_by IS NOT NULL;`,
  // v3, routing: each node that claims alarms publishes the targets it declares (NULL: every
  // target) with a heartbeat; it counts as live until `expires_at` (server time, epoch ms).
  `CREATE TABLE vigil_nodes (
     node_id text PRIMARY KEY,
     targets text[],
     heartbeat_at int8 NOT NULL,
     expires_at int8 NOT NULL,
     skew_ms int8 NOT NULL DEFAULT 0
   );`,
  // v4, names declared by any node since the database exists (a node's row goes when it closes;
  // these stay): a node that routes accepts a set for a target only another node delivers.
  `CREATE TABLE vigil_targets (
     name text PRIMARY KEY,
     first_declared_at int8 NOT NULL
   );`,
];

/** The schema version this code writes. */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to `POSTGRES_SCHEMA_VERSION`; throws `SchemaTooNewError` if it is newer. */
export async function migratePostgres(
  client: pg.ClientBase,
  where: string,
  target = POSTGRES_SCHEMA_VERSION,
): Promise<void> {
  await client.query('BEGIN');
  try {
    // Any fixed key: it only orders concurrent migrations of this schema.
    await client.query('SELECT pg_advisory_xact_lock(7361926)');
    await client.query('CREATE TABLE IF NOT EXISTS vigil_schema (version int4 NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM vigil_schema');
    let version = r.rows[0]?.version ?? 0;
    if (r.rows.length === 0) await client.query('INSERT INTO vigil_schema (version) VALUES (0)');
    if (version > POSTGRES_SCHEMA_VERSION)
      throw new SchemaTooNewError(redact(where), version, POSTGRES_SCHEMA_VERSION);
    for (; version < target; version++) await client.query(MIGRATIONS[version]!);
    await client.query('UPDATE vigil_schema SET version = $1', [version]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** A connection string without its password, for error messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
