/**
 * The limits Vigil is measured against: what a bare timer can do for lateness, what SQLite and
 * the disk can do for durable writes.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { openSqliteStore } from '@vigil/alarm';
import Database from 'better-sqlite3';
import { HeapTimer } from './heap.js';
import { type Lateness, summarise, until, wallNow } from './stats.js';
import { tempDb } from './vigil.js';

/** One `setTimeout` per job: the floor for lateness, with no persistence at all. */
export async function setTimeoutLateness(dues: number[]): Promise<Lateness> {
  const late: number[] = [];
  for (const due of dues) setTimeout(() => late.push(wallNow() - due), due - Date.now());
  await until(() => late.length >= dues.length, dues.at(-1)! - Date.now() + 30_000, 'every setTimeout');
  return summarise(late);
}

/** One timer over a min-heap of every job: the floor for a single-timer design. */
export async function heapTimerLateness(dues: number[]): Promise<Lateness> {
  const late: number[] = [];
  const heap = new HeapTimer();
  for (const due of dues) heap.add(due, () => late.push(wallNow() - due));
  await until(() => late.length >= dues.length, dues.at(-1)! - Date.now() + 30_000, 'every heap job');
  return summarise(late);
}

/** A table shaped like Vigil's hot columns, in WAL mode with `synchronous = FULL`. */
function openTable(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE jobs (
    id INTEGER PRIMARY KEY, fire_at INTEGER NOT NULL, target TEXT NOT NULL, message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', created_at INTEGER NOT NULL)`);
  db.exec(`CREATE INDEX jobs_pending ON jobs (fire_at) WHERE status = 'pending'`);
  return db;
}

/** Rows per second with one INSERT per transaction (one fsync each): the naive durable limit. */
export function sqliteNaiveRate(total: number): number {
  const tmp = tempDb();
  const db = openTable(tmp.file);
  try {
    const insert = db.prepare('INSERT INTO jobs (fire_at, target, message, created_at) VALUES (?, ?, ?, ?)');
    const far = Date.now() + 3_600_000;
    const t0 = performance.now();
    for (let i = 0; i < total; i++) insert.run(far + i, 'Sink', '{"type":"job"}', Date.now());
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    db.close();
    tmp.cleanup();
  }
}

/** Rows per second in transactions of `chunk` rows: the CPU limit of durable SQLite inserts. */
export function sqliteBatchedRate(total: number, chunk: number): number {
  const tmp = tempDb();
  const db = openTable(tmp.file);
  try {
    const insert = db.prepare('INSERT INTO jobs (fire_at, target, message, created_at) VALUES (?, ?, ?, ?)');
    const many = db.transaction((from: number, to: number, far: number, now: number) => {
      for (let i = from; i < to; i++) insert.run(far + i, 'Sink', '{"type":"job"}', now);
    });
    const far = Date.now() + 3_600_000;
    const t0 = performance.now();
    for (let i = 0; i < total; i += chunk) many(i, Math.min(total, i + chunk), far, Date.now());
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    db.close();
    tmp.cleanup();
  }
}

/**
 * The store alone draining `total` due rows: Vigil's SQLite store (same schema, FULL), `due` and
 * `complete` (fired) in pages of 1,024 and the message parsed, with no actors, mailboxes or
 * targets. The baseline of the backlog drain (issue 18: Vigil's drain >= 0.9x of it).
 */
export async function storeDrainRate(total: number): Promise<number> {
  const db = tempDb();
  const store = openSqliteStore(db.file, { synchronous: 'FULL' });
  try {
    const now = Date.now();
    for (let i = 0; i < total; i += 10_000) {
      const rows = [];
      for (let j = i; j < Math.min(total, i + 10_000); j++)
        rows.push({ fireAt: now - total + j, target: 'Sink', message: '{"type":"job"}', createdAt: now });
      await store.insert(rows);
    }
    const t0 = performance.now();
    let done = 0;
    for (;;) {
      const batch = await store.due(Date.now(), 1024);
      if (batch.length === 0) break;
      for (const row of batch) JSON.parse(row.message);
      const at = Date.now();
      await store.complete(batch.map((r) => ({ kind: 'fired', id: r.id, firedAt: at, attempts: 1 })));
      done += batch.length;
    }
    return (done / (performance.now() - t0)) * 1000;
  } finally {
    await store.close();
    db.cleanup();
  }
}

/** write(4 KiB) + fsync per second on a temp file, for about `ms` (the disk's commit rate). */
export function fsyncRate(ms = 1000): number {
  const tmp = tempDb();
  const fd = openSync(path.join(path.dirname(tmp.file), 'fsync.bin'), 'w');
  try {
    const block = Buffer.alloc(4096, 1);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms && n < 1_000_000) {
      writeSync(fd, block, 0, block.length, (n % 256) * 4096);
      fsyncSync(fd);
      n++;
    }
    return (n / (performance.now() - t0)) * 1000;
  } finally {
    closeSync(fd);
    tmp.cleanup();
  }
}

/** SQLite's own version, as better-sqlite3 was built with it. */
export function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}
