/**
 * Model-based test of the SQLite store: random sequences of set / cancel / fire / restart run
 * against the real store (on a file, reopened on restart) and against a plain in-memory model;
 * after every step get, list, nextPending, due and stats must agree with the model.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlarmRow, AlarmStatus, AlarmStore, Completion, NewAlarm } from '../src/store/types.js';

const T0 = Date.UTC(2026, 0, 1);

interface Model {
  rows: Map<number, AlarmRow>;
  nextId: number;
  now: number;
}

interface Real {
  store: AlarmStore;
  file: string;
}

function modelInsert(m: Model, a: NewAlarm): { row: AlarmRow; created: boolean } {
  if (a.key != null) {
    for (const row of m.rows.values()) if (row.key === a.key) return { row: { ...row }, created: false };
  }
  const row: AlarmRow = {
    id: m.nextId++,
    fireAt: a.fireAt,
    scheduledFor: a.fireAt,
    target: a.target,
    message: a.message,
    status: 'pending',
    attempts: 0,
    lastError: null,
    createdAt: a.createdAt,
    firedAt: null,
    settledAt: null,
    key: a.key ?? null,
    recurrence: a.recurrence ?? null,
    misfire: a.misfire ?? null,
    maxAttempts: a.maxAttempts ?? 1,
    backoff: a.backoff ?? null,
    occurrence: 1,
    deliveredCount: 0,
    missedCount: 0,
    failedCount: 0,
    cancelRequestedAt: null,
  };
  m.rows.set(row.id, row);
  return { row: { ...row }, created: true };
}

const byFireAt = (a: AlarmRow, b: AlarmRow) => a.fireAt - b.fireAt || a.id - b.id;
const pending = (m: Model) => [...m.rows.values()].filter((r) => r.status === 'pending').sort(byFireAt);

async function checkAgreement(m: Model, r: Real): Promise<void> {
  const all = [...m.rows.values()].sort((a, b) => a.id - b.id);
  expect(await r.store.list({ limit: 10_000 })).toEqual(all);
  expect(await r.store.nextPending()).toEqual(pending(m)[0]);
  expect(await r.store.nextPending(m.now)).toEqual(pending(m).find((row) => row.fireAt > m.now));
  expect(await r.store.due(m.now, 10_000)).toEqual(pending(m).filter((row) => row.fireAt <= m.now));
  const byStatus: Record<AlarmStatus, number> = { pending: 0, fired: 0, failed: 0, cancelled: 0, missed: 0 };
  const occurrences = { delivered: 0, missed: 0, failed: 0 };
  for (const row of all) {
    byStatus[row.status]++;
    occurrences.delivered += row.deliveredCount;
    occurrences.missed += row.missedCount;
    occurrences.failed += row.failedCount;
  }
  expect(await r.store.stats()).toEqual({
    byStatus,
    occurrences,
    total: all.length,
    nextFireAt: pending(m)[0]?.fireAt ?? null,
  });
  for (const id of [1, m.nextId - 1, m.nextId]) expect(await r.store.get(id)).toEqual(m.rows.get(id));
}

const newAlarm = fc.record({
  offset: fc.integer({ min: -5_000, max: 60_000 }),
  key: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }),
  target: fc.constantFrom('Log', 'Pushover'),
  message: fc.oneof(fc.json(), fc.constant('{garbage')),
});

class SetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly batch: { offset: number; key: string | undefined; target: string; message: string }[],
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const alarms: NewAlarm[] = this.batch.map((b) => ({
      fireAt: m.now + b.offset,
      target: b.target,
      message: b.message,
      key: b.key,
      createdAt: m.now,
    }));
    const got = await r.store.insert(alarms);
    expect(got).toEqual(alarms.map((a) => modelInsert(m, a)));
    await checkAgreement(m, r);
  }
  toString = () => `set(${JSON.stringify(this.batch.map((b) => [b.offset, b.key]))})`;
}

class CancelCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const id = 1 + (this.pick % m.nextId); // may name a row that does not exist yet
    const row = m.rows.get(id);
    if (row?.status === 'pending')
      Object.assign(row, { status: 'cancelled', settledAt: m.now, cancelRequestedAt: m.now });
    expect(await r.store.cancel(id, m.now)).toEqual(row);
    await checkAgreement(m, r);
  }
  toString = () => `cancel(#${this.pick})`;
}

type Outcome = 'fired' | 'recur' | 'failed' | 'missed' | 'retry';

class FireCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly advance: number,
    readonly limit: number,
    readonly outcomes: Outcome[],
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    m.now += this.advance;
    const due = await r.store.due(m.now, this.limit);
    expect(due).toEqual(
      pending(m)
        .filter((row) => row.fireAt <= m.now)
        .slice(0, this.limit),
    );
    const batch: Completion[] = [];
    due.forEach((row, i) => {
      const kind = this.outcomes[i % this.outcomes.length]!;
      const attempts = row.attempts + 1;
      const mrow = m.rows.get(row.id)!;
      if (kind === 'fired' || kind === 'recur') {
        // 'recur': the series moves on to its next occurrence, in the same row.
        const next = kind === 'recur' ? row.scheduledFor + 10_000 : undefined;
        batch.push({ kind: 'fired', id: row.id, firedAt: m.now, attempts, ...(next ? { next } : {}) });
        if (next !== undefined) {
          Object.assign(mrow, {
            fireAt: next,
            scheduledFor: next,
            attempts: 0,
            lastError: null,
            firedAt: m.now,
            occurrence: mrow.occurrence + 1,
            deliveredCount: mrow.deliveredCount + 1,
          });
        } else {
          Object.assign(mrow, {
            status: 'fired',
            firedAt: m.now,
            settledAt: m.now,
            attempts,
            deliveredCount: mrow.deliveredCount + 1,
          });
        }
      } else if (kind === 'failed') {
        batch.push({ kind: 'failed', id: row.id, at: m.now, attempts, reason: 'boom' });
        Object.assign(mrow, {
          status: 'failed',
          settledAt: m.now,
          attempts,
          lastError: 'boom',
          failedCount: mrow.failedCount + 1,
        });
      } else if (kind === 'missed') {
        const lateMs = m.now - row.scheduledFor;
        batch.push({ kind: 'missed', id: row.id, at: m.now, lateMs });
        Object.assign(mrow, {
          status: 'missed',
          settledAt: m.now,
          lastError: `missed: ${lateMs} ms late`,
          missedCount: mrow.missedCount + 1,
        });
      } else {
        batch.push({ kind: 'retry', id: row.id, attempts, fireAt: m.now + 1000, reason: 'down' });
        Object.assign(mrow, { fireAt: m.now + 1000, attempts, lastError: 'down' });
      }
    });
    // An outcome for a row that is final (not pending, not cancelled) changes nothing.
    const settled = [...m.rows.values()].find(
      (row) => row.status !== 'pending' && row.status !== 'cancelled',
    );
    if (settled) batch.push({ kind: 'fired', id: settled.id, firedAt: m.now, attempts: 99, next: undefined });
    await r.store.complete(batch);
    await checkAgreement(m, r);
  }
  toString = () => `fire(+${this.advance}, limit ${this.limit}, ${this.outcomes.join('/')})`;
}

class RestartCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.store.close();
    r.store = openSqliteStore(r.file);
    await checkAgreement(m, r);
  }
  toString = () => 'restart';
}

const commands = [
  fc.array(newAlarm, { minLength: 1, maxLength: 4 }).map((b) => new SetCommand(b)),
  fc.nat(1000).map((p) => new CancelCommand(p)),
  fc
    .tuple(
      fc.integer({ min: 0, max: 30_000 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.constantFrom<Outcome>('fired', 'recur', 'failed', 'missed', 'retry'), {
        minLength: 1,
        maxLength: 4,
      }),
    )
    .map(([a, l, o]) => new FireCommand(a, l, o)),
  fc.constant(new RestartCommand()),
];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-store-model-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let run = 0;
it('agrees with an in-memory model over random set / cancel / fire / restart sequences', async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 40 }), async (cmds) => {
      const file = path.join(dir, `model-${run++}.db`);
      const real: Real = { store: openSqliteStore(file, { synchronous: 'NORMAL' }), file };
      const model: Model = { rows: new Map(), nextId: 1, now: T0 };
      try {
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      } finally {
        await real.store.close();
        fs.rmSync(file, { force: true });
        fs.rmSync(`${file}-wal`, { force: true });
        fs.rmSync(`${file}-shm`, { force: true });
      }
    }),
    { numRuns: 100 },
  );
});
