import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemaTooNewError, StoreError } from '../src/errors.js';
import { SCHEMA_VERSION } from '../src/store/migrations.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmStore } from '../src/store/types.js';

import { alarm, T0 } from './store-contract.js';

let dir: string;
let file: string;
let store: AlarmStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-store-'));
  file = path.join(dir, 'alarms.db');
  store = openSqliteStore(file);
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('open', () => {
  it('uses WAL, FULL sync and the latest schema', () => {
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('accepts :memory:', async () => {
    const mem = openSqliteStore(':memory:', { synchronous: 'NORMAL' });
    const [r] = await mem.insert([alarm(T0 + 1)]);
    expect(await mem.get(r!.row.id)).toEqual(r!.row);
    await mem.close();
  });

  it('refuses a database from a newer schema with a typed error', async () => {
    await store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore(file)).toThrow(SchemaTooNewError);
    const db2 = new Database(file);
    expect(db2.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    db2.close();
  });

  it('rejects a file that is not a database with STORE_CORRUPT', () => {
    const junk = path.join(dir, 'junk.db');
    fs.writeFileSync(junk, 'this is not a database'.repeat(100));
    expect(() => openSqliteStore(junk)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });

  it('read-only store reads but refuses writes', async () => {
    const [r] = await store.insert([alarm(T0 + 5)]);
    const ro = openSqliteStore(file, { readonly: true });
    expect((await ro.get(r!.row.id))?.fireAt).toBe(T0 + 5);
    await expect(ro.insert([alarm(T0)])).rejects.toMatchObject({ code: 'STORE_READONLY' });
    await ro.close();
  });
});

// The optional `exceptTargets` of `due` (per-target in-flight limits): the SQLite store filters
// in the query; a store that ignores it is covered by the Alarm's own skip (alarm-per-target).
describe('due with exceptTargets', () => {
  it('leaves those targets out, with and without a cursor', async () => {
    await store.insert([
      alarm(T0, { target: 'Stuck' }),
      alarm(T0 + 1),
      alarm(T0 + 2, { target: 'Stuck' }),
      alarm(T0 + 3, { target: 'Other' }),
      alarm(T0 + 4),
    ]);
    expect((await store.due(T0 + 10, 10, undefined, ['Stuck'])).map((r) => r.id)).toEqual([2, 4, 5]);
    expect((await store.due(T0 + 10, 2, undefined, ['Stuck', 'Other'])).map((r) => r.id)).toEqual([2, 5]);
    expect((await store.due(T0 + 10, 10, { fireAt: T0 + 1, id: 2 }, ['Stuck'])).map((r) => r.id)).toEqual([
      4, 5,
    ]);
    expect((await store.due(T0 + 10, 10, undefined, [])).map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('insert', () => {
  it('inserts 10k rows in one call quickly', async () => {
    const batch = Array.from({ length: 10_000 }, (_, i) => alarm(T0 + i));
    const started = performance.now();
    const rows = await store.insert(batch);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(rows).toHaveLength(10_000);
    expect((await store.stats()).total).toBe(10_000);
  });
});

describe('failures', () => {
  it('disk full rejects with STORE_FULL and loses nothing already stored', async () => {
    await store.insert(Array.from({ length: 100 }, (_, i) => alarm(T0 + i)));
    await store.close();
    const db = new Database(file);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.close();
    store = openSqliteStore(file, { maxPageCount: pages + 2 });
    const before = await store.list({ limit: 1000 });
    const big = 'x'.repeat(4000);
    const err = await store
      .insert(Array.from({ length: 50 }, (_, i) => alarm(T0 + i, { message: big })))
      .catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_FULL', operation: 'insert' });
    expect((err as StoreError).cause).toMatchObject({ code: 'SQLITE_FULL' });
    // The failed batch left nothing behind, and what was stored before is intact and readable.
    expect(await store.list({ limit: 1000 })).toEqual(before);
    expect((await store.stats()).total).toBe(100);
    await store.complete([{ kind: 'fired', id: 1, firedAt: T0, attempts: 1 }]);
    expect(await store.get(1)).toMatchObject({ status: 'fired' });
  });

  it('a write blocked by another connection rejects with STORE_BUSY', async () => {
    await store.close();
    store = openSqliteStore(file, { busyTimeoutMs: 50 });
    const locker = new Database(file);
    locker.exec('BEGIN IMMEDIATE');
    const err = await store.insert([alarm(T0)]).catch((e) => e);
    locker.exec('ROLLBACK');
    locker.close();
    expect(err).toMatchObject({ code: 'STORE_BUSY' });
    expect((await store.stats()).total).toBe(0);
  });
});
