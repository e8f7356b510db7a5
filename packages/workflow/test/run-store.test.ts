/**
 * The SQLite run store: the shared RunStore contract (run-store-contract.ts), then what only this
 * backend has: its row in the file's `vigil_schema`, read-only opening, migration of old files.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, RUN_SCHEMA_VERSION } from '../src/store/migrations.js';
import { openSqliteRunStore } from '../src/store/sqlite.js';
import type { RunStore } from '../src/store/types.js';
import { run, runStoreContract } from './run-store-contract.js';
import { tempDb } from './scheduler-helpers.js';

const cleanups: (() => void)[] = [];
runStoreContract('SQLite', {
  async open() {
    const temp = tempDb();
    cleanups.push(temp.cleanup);
    return openSqliteRunStore(temp.db);
  },
  cleanup() {
    for (const c of cleanups.splice(0)) c();
  },
});

describe('RunStore (SQLite only)', () => {
  let db: string;
  let cleanup: () => void;
  let store: RunStore;

  beforeEach(() => {
    ({ db, cleanup } = tempDb());
    store = openSqliteRunStore(db);
  });
  afterEach(async () => {
    await store.close();
    cleanup();
  });

  it('records its version in vigil_schema, never in PRAGMA user_version', async () => {
    const raw = new Database(db, { readonly: true });
    try {
      expect(raw.prepare("SELECT version FROM vigil_schema WHERE component = 'scheduler'").get()).toEqual({
        version: RUN_SCHEMA_VERSION,
      });
      expect(raw.pragma('user_version', { simple: true })).toBe(0);
    } finally {
      raw.close();
    }
  });

  it('read-only: refuses a file without workflow tables, and a newer schema', async () => {
    const empty = `${db}.empty`;
    new Database(empty).close();
    expect(() => openSqliteRunStore(empty, { readonly: true })).toThrow(
      expect.objectContaining({ code: 'NO_WORKFLOW_TABLES' }),
    );
    await store.close();
    const raw = new Database(db);
    raw
      .prepare("UPDATE vigil_schema SET version = ? WHERE component = 'scheduler'")
      .run(RUN_SCHEMA_VERSION + 1);
    raw.close();
    expect(() => openSqliteRunStore(db, { readonly: true })).toThrow(
      expect.objectContaining({ code: 'STORE_SCHEMA_TOO_NEW' }),
    );
    expect(() => openSqliteRunStore(db)).toThrow(expect.objectContaining({ code: 'STORE_SCHEMA_TOO_NEW' }));
  });

  it('migrates a schema 1 file to 2: its runs read as workflow version 1, new ones keep theirs', async () => {
    await store.close();
    const old = `${db}.v1`;
    const raw = new Database(old);
    raw.exec('CREATE TABLE vigil_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    raw.exec(MIGRATIONS[0]?.up ?? '');
    raw.exec("INSERT INTO vigil_schema VALUES ('scheduler', 1)");
    raw
      .prepare(
        `INSERT INTO workflow_runs (id, workflow, kind, status, step, seq, attempt, context, created_at, updated_at)
         VALUES ('old', 'wf', 'steps', 'waiting', 'a', 1, 1, '{}', 0, 0)`,
      )
      .run();
    raw.close();
    // Read-only opening never migrates, and reads the old run as version 1 too.
    const reader = openSqliteRunStore(old, { readonly: true });
    expect((await reader.get('old'))?.version).toBe(1);
    await reader.close();
    store = openSqliteRunStore(old);
    expect((await store.get('old'))?.version).toBe(1);
    await store.insert(run('new', { version: 3 }));
    expect((await store.get('new'))?.version).toBe(3);
    await store.save({ ...(await store.get('old'))!, version: 2 });
    expect((await store.get('old'))?.version).toBe(2);
    const check = new Database(old, { readonly: true });
    expect(check.prepare("SELECT version FROM vigil_schema WHERE component = 'scheduler'").get()).toEqual({
      version: 2,
    });
    check.close();
  });
});
