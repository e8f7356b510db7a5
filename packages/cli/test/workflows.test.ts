/**
 * `workflows list | show`: runs of the Scheduler read from the shared database file, read-only;
 * a database with alarms only says it has no workflow runs table.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { NOW, seed, tempDir, vigil } from './helpers.js';

// The Scheduler's tables at its schema 1 (packages/workflow/src/store/migrations.ts).
const SCHEDULER_V1 = `
  CREATE TABLE vigil_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
  INSERT INTO vigil_schema VALUES ('scheduler', 1);
  CREATE TABLE workflow_runs (
    id TEXT PRIMARY KEY, workflow TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, step TEXT NOT NULL,
    seq INTEGER NOT NULL, attempt INTEGER NOT NULL, next_at INTEGER, alarm_id INTEGER, context TEXT NOT NULL,
    input TEXT, waiting TEXT, snapshot TEXT, timers TEXT, result TEXT, error TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, ended_at INTEGER);
  CREATE TABLE workflow_history (
    run_id TEXT NOT NULL, n INTEGER NOT NULL, seq INTEGER NOT NULL, step TEXT NOT NULL, attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, outcome TEXT NOT NULL, detail TEXT,
    PRIMARY KEY (run_id, n));
`;

let db: string;

function withDb(fn: (d: Database.Database) => void) {
  const d = new Database(db);
  try {
    fn(d);
  } finally {
    d.close();
  }
}

beforeEach(async () => {
  db = join(tempDir(), 'vigil.db');
  await seed(db, [{ target: 'Scheduler' }]);
});

function addRuns() {
  withDb((d) => {
    d.exec(SCHEDULER_V1);
    const run = d.prepare(
      `INSERT INTO workflow_runs (id, workflow, kind, status, step, seq, attempt, next_at, alarm_id, context, waiting,
        result, error, created_at, updated_at, ended_at) VALUES (?, ?, 'steps', ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    run.run(
      'r1',
      'follow-up',
      'running',
      'email',
      2,
      NOW + 3_600_000,
      1,
      '{"contact":"ada"}',
      null,
      null,
      null,
      NOW - 60_000,
      NOW,
      null,
    );
    run.run(
      'r2',
      'follow-up',
      'completed',
      'thank',
      3,
      null,
      null,
      '{"contact":"bob"}',
      null,
      '"replied"',
      null,
      NOW - 120_000,
      NOW - 30_000,
      NOW - 30_000,
    );
    run.run(
      'r3',
      'billing',
      'failed',
      'charge',
      1,
      null,
      null,
      '{}',
      null,
      null,
      'card declined',
      NOW - 90_000,
      NOW - 10_000,
      NOW - 10_000,
    );
    const h = d.prepare('INSERT INTO workflow_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    h.run('r1', 1, 1, 'email', 1, NOW - 60_000, NOW - 59_950, 'next', 'email');
    h.run('r1', 2, 2, 'email', 1, NOW - 1000, NOW - 900, 'wait', 'reply');
  });
}

describe('workflows', () => {
  it('says a database with alarms only has no workflow runs table', async () => {
    for (const argv of [
      ['workflows', 'list'],
      ['workflows', 'show', 'r1'],
    ]) {
      const r = await vigil([...argv, '--db', db]);
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: 'vigil: NO_WORKFLOWS: no workflow runs table in this database\n',
      });
    }
  });

  it('refuses a missing file without creating it', async () => {
    const missing = join(db, '..', 'nope.db');
    const r = await vigil(['workflows', 'list', '--db', missing]);
    expect(r.stderr).toMatch(/^vigil: DB_NOT_FOUND: /);
    expect(existsSync(missing)).toBe(false);
  });

  it('lists runs as a table', async () => {
    addRuns();
    const r = await vigil(['workflows', 'list', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'ID  WORKFLOW   VERSION  STATUS     STEP    NEXT AT (UTC)     UPDATED (UTC)        ERROR',
        'r1  follow-up  1        running    email   2026-11-27 09:48  2026-11-27 08:48     -',
        'r2  follow-up  1        completed  thank   -                 2026-11-27 08:47:30  -',
        'r3  billing    1        failed     charge  -                 2026-11-27 08:47:50  card declined',
        '',
      ].join('\n'),
    );
  });

  it('shows the workflow version of each run (schema 2; a schema 1 file reads as version 1)', async () => {
    addRuns();
    withDb((d) => {
      // What the Scheduler's migration 2 does (packages/workflow/src/store/migrations.ts).
      d.exec('ALTER TABLE workflow_runs ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)');
      d.exec("UPDATE vigil_schema SET version = 2 WHERE component = 'scheduler'");
      d.exec("UPDATE workflow_runs SET version = 2 WHERE id = 'r2'");
    });
    const r = await vigil(['workflows', 'list', '--db', db]);
    expect(r.stdout.split('\n').map((line) => line.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['ID', 'WORKFLOW', 'VERSION'],
      ['r1', 'follow-up', '1'],
      ['r2', 'follow-up', '2'],
      ['r3', 'billing', '1'],
      [''],
    ]);
    expect((await vigil(['workflows', 'show', 'r2', '--db', db])).stdout).toContain('version      2');
  });

  it('filters, pages and prints JSON', async () => {
    addRuns();
    const ids = async (...extra: string[]) =>
      JSON.parse((await vigil(['workflows', 'list', '--db', db, '--json', ...extra])).stdout).map(
        (r: { id: string }) => r.id,
      );
    expect(await ids('--workflow', 'follow-up')).toEqual(['r1', 'r2']);
    expect(await ids('--status', 'failed,completed')).toEqual(['r2', 'r3']);
    expect(await ids('--after', 'r1', '--limit', '1')).toEqual(['r2']);
    const [first] = JSON.parse((await vigil(['workflows', 'list', '--db', db, '--json'])).stdout);
    expect(first).toMatchObject({
      id: 'r1',
      context: { contact: 'ada' },
      nextAt: NOW + 3_600_000,
      alarmId: 1,
    });
  });

  it('shows a run with its history', async () => {
    addRuns();
    const r = await vigil(['workflows', 'show', 'r1', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('step         email (seq 2, attempt 1)');
    expect(r.stdout).toContain('next at      2026-11-27 09:48 UTC (2026-11-27T09:48:00.000Z), in 1h');
    expect(r.stdout).toContain('context      {"contact":"ada"}');
    expect(r.stdout).toContain(
      [
        'SEQ  STEP   ATTEMPT  STARTED (UTC)        TOOK   OUTCOME  DETAIL',
        '1    email  1        2026-11-27 08:47     50ms   next     email',
        '2    email  1        2026-11-27 08:47:59  100ms  wait     reply',
      ].join('\n'),
    );
    const j = JSON.parse((await vigil(['workflows', 'show', 'r1', '--db', db, '--json'])).stdout);
    expect(j.run.id).toBe('r1');
    expect(j.history).toHaveLength(2);
  });

  it('fails with NOT_FOUND for an unknown run', async () => {
    addRuns();
    const r = await vigil(['workflows', 'show', 'nope', '--db', db]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'vigil: NOT_FOUND: no workflow run with id "nope"\n' });
  });

  it('refuses workflow tables from a newer Scheduler', async () => {
    addRuns();
    withDb((d) => d.exec("UPDATE vigil_schema SET version = 9 WHERE component = 'scheduler'"));
    const r = await vigil(['workflows', 'list', '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vigil: STORE_SCHEMA_TOO_NEW: /);
  });

  it('rejects an unknown status as a usage error', async () => {
    const r = await vigil(['workflows', 'list', '--db', db, '--status', 'paused']);
    expect(r.code).toBe(2);
  });
});
