import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemaTooNewError } from '../src/errors.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/store/migrations.js';
import { openSqliteStore } from '../src/store/sqlite.js';

const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-migrate-'));
  file = path.join(dir, 'alarms.db');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A database exactly as a v1 Vigil left it, written without the store. */
function writeV1Database(): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(MIGRATIONS[0]!.up);
  db.pragma('user_version = 1');
  const ins = db.prepare(
    `INSERT INTO alarms (fire_at, target, message, status, attempts, created_at, fired_at, key, recurrence)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  ins.run(T0 + 3000, 'Log', '{"type":"later"}', 'pending', 0, T0, null, 'k-later', null);
  ins.run(T0 + 1000, 'Pushover', '{"type":"sooner"}', 'pending', 2, T0, null, null, '{"every":60000}');
  ins.run(T0 - 1000, 'Log', '{"type":"done"}', 'fired', 1, T0 - 2000, T0 - 999, null, null);
  db.close();
}

describe('schema migrations', () => {
  it('the latest version is above 1, so a forward migration exists', () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('a v1 database with rows opens, migrates to the latest version, and its rows survive', async () => {
    writeV1Database();
    const store = openSqliteStore(file);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const indexes = check
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alarms'`)
      .all();
    expect(indexes).toContainEqual({ name: 'alarms_status_fire_at' });
    check.close();

    expect(await store.get(1)).toMatchObject({
      fireAt: T0 + 3000,
      scheduledFor: T0 + 3000,
      key: 'k-later',
      backoff: null,
      settledAt: null,
    });
    expect(await store.get(3)).toMatchObject({ status: 'fired', firedAt: T0 - 999, settledAt: T0 - 999 });
    expect((await store.nextPending())?.id).toBe(2);
    expect((await store.due(T0 + 5000, 10)).map((r) => r.id)).toEqual([2, 1]);

    // Migrated rows work with the new code: idempotency, retries, completions.
    const [dup] = await store.insert([
      { fireAt: T0, target: 'Log', message: '{}', key: 'k-later', createdAt: T0 },
    ]);
    expect(dup).toMatchObject({ created: false, row: { id: 1 } });
    await store.complete([{ kind: 'retry', id: 2, attempts: 3, fireAt: T0 + 9000, reason: 'down' }]);
    expect(await store.get(2)).toMatchObject({ fireAt: T0 + 9000, scheduledFor: T0 + 1000, attempts: 3 });
    await store.close();

    // Reopening is a no-op migration.
    const again = openSqliteStore(file);
    expect((await again.stats()).total).toBe(3);
    await again.close();
  });

  it('migrate applies only the missing versions and is idempotent', () => {
    writeV1Database();
    const db = new Database(file);
    expect(migrate(db, file)).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
    expect(migrate(db, file)).toEqual([]);
    db.close();
  });

  it('a database from a newer version is refused and left untouched', () => {
    const db = new Database(file);
    db.exec('CREATE TABLE future (x)');
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    let err: unknown;
    try {
      openSqliteStore(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect(err).toMatchObject({
      code: 'STORE_SCHEMA_TOO_NEW',
      found: SCHEMA_VERSION + 5,
      supported: SCHEMA_VERSION,
    });
    const after = new Database(file);
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    expect(after.prepare(`SELECT name FROM sqlite_master WHERE name = 'alarms'`).get()).toBeUndefined();
    after.close();
  });

  it('a failing migration rolls back and keeps the old version', () => {
    writeV1Database();
    const db = new Database(file);
    db.exec('CREATE INDEX alarms_status_fire_at ON alarms (status)'); // v2 will collide with this
    expect(() => migrate(db, file)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    const cols = db.prepare(`SELECT name FROM pragma_table_info('alarms')`).all() as { name: string }[];
    expect(cols.map((c) => c.name)).not.toContain('scheduled_for');
    db.close();
  });

  it('v3 links the rows of each recurring series written by v2 into one series with its history', async () => {
    // As v2 left it: each occurrence a new row, created when the previous one settled.
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    migrate(db, file, 2);
    const ins = db.prepare(
      `INSERT INTO alarms (fire_at, scheduled_for, target, message, status, attempts, last_error, created_at,
         fired_at, settled_at, key, recurrence)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const every = '{"every":1000}';
    // Series A (key 'tick'): delivered, missed, delivered, then pending occurrence 4.
    ins.run(
      T0 + 1000,
      T0 + 1000,
      'Log',
      '{"a":1}',
      'fired',
      1,
      null,
      T0,
      T0 + 1001,
      T0 + 1001,
      'tick',
      every,
    );
    ins.run(
      T0 + 2000,
      T0 + 2000,
      'Log',
      '{"a":1}',
      'missed',
      0,
      'missed: 9 ms late',
      T0 + 1001,
      null,
      T0 + 2009,
      null,
      every,
    );
    // A one-shot alarm in between: left as it is.
    ins.run(T0 + 500, T0 + 500, 'Log', '{"b":1}', 'fired', 1, null, T0, T0 + 500, T0 + 500, null, null);
    ins.run(
      T0 + 3000,
      T0 + 3000,
      'Log',
      '{"a":1}',
      'fired',
      2,
      null,
      T0 + 2009,
      T0 + 3100,
      T0 + 3100,
      null,
      every,
    );
    ins.run(T0 + 4000, T0 + 4000, 'Log', '{"a":1}', 'pending', 0, null, T0 + 3100, null, null, null, every);
    // Series B, same shape but another message, cancelled at its second occurrence.
    ins.run(T0 + 1000, T0 + 1000, 'Log', '{"c":1}', 'fired', 1, null, T0, T0 + 1001, T0 + 1001, null, every);
    ins.run(
      T0 + 2000,
      T0 + 2000,
      'Log',
      '{"c":1}',
      'cancelled',
      0,
      null,
      T0 + 1001,
      null,
      T0 + 1500,
      null,
      every,
    );
    db.close();

    const store = openSqliteStore(file);
    expect((await store.list()).map((r) => r.id)).toEqual([1, 3, 6]);
    expect(await store.get(1)).toMatchObject({
      status: 'pending',
      fireAt: T0 + 4000,
      scheduledFor: T0 + 4000,
      key: 'tick',
      occurrence: 4,
      deliveredCount: 2,
      missedCount: 1,
      failedCount: 0,
      firedAt: T0 + 3100,
    });
    expect((await store.history(1)).map((o) => [o.seq, o.outcome, o.scheduledFor, o.attempts])).toEqual([
      [1, 'delivered', T0 + 1000, 1],
      [2, 'missed', T0 + 2000, 0],
      [3, 'delivered', T0 + 3000, 2],
    ]);
    expect(await store.get(3)).toMatchObject({ status: 'fired', occurrence: 1, deliveredCount: 1 });
    expect(await store.history(3)).toMatchObject([{ seq: 1, outcome: 'delivered' }]);
    expect(await store.get(6)).toMatchObject({ status: 'cancelled', occurrence: 2, deliveredCount: 1 });
    // The key still resolves to the series; its next occurrence is the one due.
    const [again] = await store.insert([
      { fireAt: T0, target: 'Log', message: '{}', key: 'tick', createdAt: T0 },
    ]);
    expect(again).toMatchObject({ created: false, row: { id: 1, occurrence: 4 } });
    expect((await store.due(T0 + 10_000, 10)).map((r) => r.id)).toEqual([1]);
    await store.close();
  });
});
