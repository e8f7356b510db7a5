/**
 * The MCP server's tables in a user's database file, beside the alarm and run tables: the inbox
 * (deliveries to the user's `Inbox` target) and the audit log (every state-changing call).
 *
 * Invariants: an inbox row is keyed by its occurrence id (UNIQUE), so a redelivery of the same
 * occurrence after a crash inserts nothing; a row is written and committed before the Inbox
 * answers the Alarm, so an acknowledged delivery is never lost. The schema is versioned in this
 * component's own row of `vigil_schema` ('mcp'), as packages/workflow/src/store/migrations.ts does.
 */

import { VigilError } from '@vigil/runtime';
import Database from 'better-sqlite3';

const COMPONENT = 'mcp';
/** Current schema version of the MCP tables. */
export const MCP_SCHEMA_VERSION = 1;

const MIGRATIONS: readonly { version: number; up: string }[] = [
  {
    version: 1,
    up: `
      CREATE TABLE mcp_inbox (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        occurrence    TEXT    NOT NULL UNIQUE,
        alarm_id      INTEGER NOT NULL,
        attempt       INTEGER NOT NULL,
        scheduled_for INTEGER NOT NULL,
        fired_at      INTEGER NOT NULL,
        message       TEXT    NOT NULL,
        received_at   INTEGER NOT NULL,
        acked_at      INTEGER
      );
      CREATE INDEX mcp_inbox_alarm ON mcp_inbox (alarm_id);
      CREATE TABLE mcp_audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        who     TEXT    NOT NULL,
        tool    TEXT    NOT NULL,
        args    TEXT    NOT NULL,
        result  TEXT    NOT NULL,
        code    TEXT
      );
    `,
  },
];

/** One delivery in a user's inbox. */
export interface InboxItem {
  id: number;
  occurrenceId: string;
  alarmId: number;
  attempt: number;
  scheduledFor: number;
  firedAt: number;
  message: Record<string, unknown>;
  receivedAt: number;
  ackedAt: number | null;
}

/** One line of the audit log. */
export interface AuditEntry {
  id: number;
  at: number;
  who: string;
  tool: string;
  args: unknown;
  result: 'ok' | 'error';
  code: string | null;
}

interface InboxRow {
  id: number;
  occurrence: string;
  alarm_id: number;
  attempt: number;
  scheduled_for: number;
  fired_at: number;
  message: string;
  received_at: number;
  acked_at: number | null;
}

const toItem = (r: InboxRow): InboxItem => ({
  id: r.id,
  occurrenceId: r.occurrence,
  alarmId: r.alarm_id,
  attempt: r.attempt,
  scheduledFor: r.scheduled_for,
  firedAt: r.fired_at,
  message: JSON.parse(r.message) as Record<string, unknown>,
  receivedAt: r.received_at,
  ackedAt: r.acked_at,
});

/** The inbox and audit tables of one user's database. @internal */
export class UserStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    migrate(this.db);
  }

  /** Stores a delivery unless its occurrence is already there; returns the row and whether it is new. */
  deliver(
    entry: Omit<InboxItem, 'id' | 'receivedAt' | 'ackedAt'>,
    now: number,
  ): { item: InboxItem; inserted: boolean } {
    const info = this.db
      .prepare(
        `INSERT INTO mcp_inbox (occurrence, alarm_id, attempt, scheduled_for, fired_at, message, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (occurrence) DO NOTHING`,
      )
      .run(
        entry.occurrenceId,
        entry.alarmId,
        entry.attempt,
        entry.scheduledFor,
        entry.firedAt,
        JSON.stringify(entry.message),
        now,
      );
    const row = this.db
      .prepare('SELECT * FROM mcp_inbox WHERE occurrence = ?')
      .get(entry.occurrenceId) as InboxRow;
    return { item: toItem(row), inserted: info.changes === 1 };
  }

  /** Unacknowledged items with an id above `since`, oldest first. */
  read(since: number, limit: number): InboxItem[] {
    const rows = this.db
      .prepare('SELECT * FROM mcp_inbox WHERE acked_at IS NULL AND id > ? ORDER BY id LIMIT ?')
      .all(since, limit) as InboxRow[];
    return rows.map(toItem);
  }

  /** Unacknowledged items in all. */
  unread(): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM mcp_inbox WHERE acked_at IS NULL').get() as { n: number }
    ).n;
  }

  /** Marks items acknowledged; returns the ids that were unacknowledged and now are. */
  ack(ids: number[], now: number): number[] {
    const stmt = this.db.prepare('UPDATE mcp_inbox SET acked_at = ? WHERE id = ? AND acked_at IS NULL');
    return this.db.transaction(() => ids.filter((id) => stmt.run(now, id).changes === 1))();
  }

  /** Every inbox item of one alarm (its occurrences as the inbox saw them), oldest first. */
  byAlarm(alarmId: number): InboxItem[] {
    const rows = this.db
      .prepare('SELECT * FROM mcp_inbox WHERE alarm_id = ? ORDER BY id')
      .all(alarmId) as InboxRow[];
    return rows.map(toItem);
  }

  /** Appends one line to the audit log. */
  audit(entry: Omit<AuditEntry, 'id'>): void {
    this.db
      .prepare('INSERT INTO mcp_audit (at, who, tool, args, result, code) VALUES (?, ?, ?, ?, ?, ?)')
      .run(entry.at, entry.who, entry.tool, JSON.stringify(entry.args ?? null), entry.result, entry.code);
  }

  /** The audit log, oldest first. */
  auditLog(limit = 1000): AuditEntry[] {
    const rows = this.db.prepare('SELECT * FROM mcp_audit ORDER BY id LIMIT ?').all(limit) as (Omit<
      AuditEntry,
      'args'
    > & { args: string })[];
    return rows.map((r) => ({ ...r, args: JSON.parse(r.args) as unknown }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS vigil_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const current =
    (
      db.prepare('SELECT version FROM vigil_schema WHERE component = ?').get(COMPONENT) as
        | { version: number }
        | undefined
    )?.version ?? 0;
  if (current > MCP_SCHEMA_VERSION)
    throw new VigilError(
      'SCHEMA_TOO_NEW',
      `the MCP tables are at schema version ${current}; this version knows up to ${MCP_SCHEMA_VERSION}`,
    );
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

/**
 * The earliest pending alarm's instant in a database file, read without starting anything (null
 * if none, or no alarm table). @internal
 */
export function nextPendingIn(path: string): number | null {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alarms'").get();
    if (!has) return null;
    const row = db.prepare("SELECT min(fire_at) AS next FROM alarms WHERE status = 'pending'").get() as {
      next: number | null;
    };
    return row.next;
  } finally {
    db.close();
  }
}
