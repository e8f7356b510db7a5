/**
 * The SQLite run store through the `RunStore` interface: what the Scheduler and the CLI rely on
 * (insert once, save with history in one transaction, per-run exclusion, read-only opening).
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, RUN_SCHEMA_VERSION } from '../src/store/migrations.js';
import { openSqliteRunStore } from '../src/store/sqlite.js';
import type { RunRecord, RunStore } from '../src/store/types.js';
import { tempDb } from './scheduler-helpers.js';

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

const run = (id: string, overrides: Partial<RunRecord> = {}): RunRecord => ({
  id,
  workflow: 'wf',
  kind: 'steps',
  status: 'running',
  step: 'a',
  seq: 1,
  attempt: 1,
  nextAt: 1000,
  alarmId: null,
  context: { n: 1 },
  input: null,
  waiting: null,
  snapshot: null,
  timers: null,
  result: null,
  error: null,
  createdAt: 1,
  updatedAt: 1,
  endedAt: null,
  ...overrides,
});

const line = (seq: number, outcome: string) => ({
  seq,
  step: 'a',
  attempt: 1,
  startedAt: 5,
  endedAt: 6,
  outcome,
  detail: null,
});

describe('RunStore (SQLite)', () => {
  it('inserts a run once: the same id again changes nothing', async () => {
    expect(await store.insert(run('r1'))).toBe(true);
    expect(await store.insert(run('r1', { workflow: 'other' }))).toBe(false);
    expect((await store.get('r1'))?.workflow).toBe('wf');
  });

  it('saves the run and its history lines together, and lists active runs', async () => {
    await store.insert(run('r1'));
    await store.insert(run('r2'));
    await store.save(run('r1', { seq: 2, step: 'b' }), [line(1, 'next')]);
    await store.save(run('r2', { status: 'completed', endedAt: 9 }), [line(1, 'end')]);
    expect(await store.get('r1')).toMatchObject({ seq: 2, step: 'b', context: { n: 1 } });
    expect(await store.history('r1')).toEqual([line(1, 'next')]);
    expect((await store.active()).map((r) => r.id)).toEqual(['r1']);
    expect((await store.list({ status: 'completed' })).map((r) => r.id)).toEqual(['r2']);
  });

  it('records an alarm id only for the seq it was set for', async () => {
    await store.insert(run('r1', { seq: 3 }));
    await store.setAlarmId('r1', 2, 41);
    expect((await store.get('r1'))?.alarmId).toBeNull();
    await store.setAlarmId('r1', 3, 42);
    expect((await store.get('r1'))?.alarmId).toBe(42);
  });

  it('withRun excludes other work on the same run until it settles', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = store.withRun('r1', async () => {
      order.push('first start');
      await held;
      order.push('first end');
    });
    const second = store.withRun('r1', async () => {
      order.push('second');
    });
    const other = store.withRun('r2', async () => {
      order.push('other run');
    });
    await other;
    expect(order).toEqual(['first start', 'other run']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first start', 'other run', 'first end', 'second']);
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
