/**
 * Leases: a due alarm is held by one node at a time; a node's claims come back to the others
 * once its lease has passed (same id, attempts + 1); two nodes deliver each alarm once.
 */
import type { AlarmRow, NewAlarm } from '@vigil/alarm';
import { expect, it } from 'vitest';
import { openPostgresStore, type PostgresAlarmStore } from '../src/index.js';
import { delivered, recorder, startNode } from './nodes.js';
import { withCluster } from './with-cluster.js';

const pg = withCluster('leases');
const freshUrl = () => pg.database();

const alarm = (fireAt: number, target = 'Log'): NewAlarm => ({
  fireAt,
  target,
  message: '{"type":"ping"}',
  createdAt: fireAt,
});

/**
 * Waits for a condition that depends on the server's clock passing an instant (a lease's end),
 * checked every 50 ms; the store's own signal of it is a negative change token.
 */
async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ids = (rows: AlarmRow[]) => rows.map((r) => r.id);

it('nodes reading due rows at once never get the same row while its lease is valid', async () => {
  const url = freshUrl();
  const nodes = await Promise.all(
    ['a', 'b', 'c'].map((nodeId) => openPostgresStore({ connectionString: url, nodeId })),
  );
  try {
    const past = Date.now() - 1000;
    await nodes[0]!.insert(Array.from({ length: 60 }, (_, i) => alarm(past + i)));
    const now = Date.now();
    // Three overlapping reads of 20: together they must cover the 60 rows without overlap.
    const got = (await Promise.all(nodes.map((s) => s.due(now, 20)))).map((rows) => new Set(ids(rows)));
    expect(got.map((g) => g.size)).toEqual([20, 20, 20]);
    expect(new Set(got.flatMap((g) => [...g])).size).toBe(60);
    // Reading again, each node gets back only the rows it holds, never another's.
    const again = await Promise.all(nodes.map((s) => s.due(now, 100)));
    expect(again.map((rows) => new Set(ids(rows)))).toEqual(got);
    expect(await nodes[1]!.changeToken()).toBeGreaterThanOrEqual(0);
  } finally {
    await Promise.all(nodes.map((s) => s.close()));
  }
}, 30_000);

it("a node's claims come back to another once the lease has passed: same id, attempts + 1, and the old holder's late record is refused", async () => {
  const url = freshUrl();
  const a = await openPostgresStore({ connectionString: url, nodeId: 'a', leaseMs: 400 });
  const b = await openPostgresStore({ connectionString: url, nodeId: 'b', leaseMs: 60_000 });
  try {
    const past = Date.now() - 1000;
    const inserted = await a.insert([alarm(past), alarm(past + 1)]);
    const claimed = await a.due(Date.now(), 10);
    expect(ids(claimed)).toEqual(inserted.map((r) => r.row.id));
    expect(await b.due(Date.now(), 10)).toEqual([]);
    // The lease passes: b's poll sees it (a negative token), and b's read reclaims the rows.
    await until(async () => (await b.changeToken()) < 0);
    const reclaimed = await b.due(Date.now(), 10);
    expect(ids(reclaimed)).toEqual(ids(claimed));
    expect(reclaimed.map((r) => r.attempts)).toEqual([1, 1]);
    expect(await a.due(Date.now(), 10)).toEqual([]);
    // a comes back late with its outcomes (one run, one statement): b holds the rows now, so
    // nothing of them is applied.
    const [first, second] = reclaimed;
    expect(
      await a.complete([
        { kind: 'fired', id: first!.id, firedAt: Date.now(), attempts: 1 },
        { kind: 'fired', id: second!.id, firedAt: Date.now(), attempts: 1 },
      ]),
    ).toEqual({ cancelled: [], refused: [first!.id, second!.id] });
    expect(await a.get(first!.id)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(await a.get(second!.id)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(
      await b.complete([
        { kind: 'fired', id: first!.id, firedAt: Date.now(), attempts: 2 },
        { kind: 'fired', id: second!.id, firedAt: Date.now(), attempts: 2 },
      ]),
    ).toEqual({ cancelled: [], refused: [] });
    expect(await b.get(first!.id)).toMatchObject({ status: 'fired', attempts: 2 });
    expect(await b.get(second!.id)).toMatchObject({ status: 'fired', attempts: 2 });
  } finally {
    await a.close();
    await b.close();
  }
}, 30_000);

it("a retry releases the claim: the moved row is anyone's once it is due again", async () => {
  const url = freshUrl();
  const a = await openPostgresStore({ connectionString: url, nodeId: 'a' });
  const b = await openPostgresStore({ connectionString: url, nodeId: 'b' });
  try {
    const [r] = await a.insert([alarm(Date.now() - 1000)]);
    const id = r!.row.id;
    expect(ids(await a.due(Date.now(), 10))).toEqual([id]);
    await a.complete([{ kind: 'retry', id, attempts: 1, fireAt: Date.now() - 10, reason: 'busy' }]);
    const taken = await b.due(Date.now(), 10);
    expect(ids(taken)).toEqual([id]);
    expect(taken[0]!.attempts).toBe(1);
  } finally {
    await a.close();
    await b.close();
  }
}, 30_000);

it('two full Alarm runtimes on one database deliver N alarms each exactly once', async () => {
  const url = freshUrl();
  const logA = recorder();
  const logB = recorder();
  const alarmOptions = { pollMs: 100 };
  const nodeA = await startNode({
    store: { connectionString: url },
    targets: { Log: logA },
    alarm: alarmOptions,
  });
  const nodeB = await startNode({
    store: { connectionString: url },
    targets: { Log: logB },
    alarm: alarmOptions,
  });
  const N = 200;
  try {
    const done = delivered([nodeA.runtime, nodeB.runtime], 2 * N);
    const at = Date.now() + 1500;
    // Both nodes set N alarms each, due at a handful of instants: both read the same due rows.
    const items = (node: string) =>
      Array.from({ length: N }, (_, i) => ({ when: at + (i % 5) * 50, target: 'Log', message: { node, i } }));
    await Promise.all([nodeA.client.setMany(items('A')), nodeB.client.setMany(items('B'))]);
    await done;
    const all = [...logA.deliveries, ...logB.deliveries];
    const keys = all.map((d) => d.alarm.alarmId);
    expect(new Set(keys).size).toBe(2 * N);
    expect(keys).toHaveLength(2 * N);
    expect(all.every((d) => d.alarm.attempt === 1)).toBe(true);
    const stats = await nodeA.stores.at(-1)!.stats();
    expect(stats.byStatus.fired).toBe(2 * N);
  } finally {
    await nodeA.stop();
    await nodeB.stop();
  }
}, 60_000);

it('a node that stops with claimed alarms loses nothing: another node delivers them after the lease', async () => {
  const url = freshUrl();
  const stuck = recorder();
  stuck.hang = true; // the first node's target never answers: its claims stay open
  const nodeA = await startNode({
    store: { connectionString: url, leaseMs: 500 },
    targets: { Log: stuck },
    alarm: { pollMs: 100, deliveryTimeoutMs: 60_000 },
  });
  let fired = 0;
  const firstTry = new Promise<void>((resolve) =>
    nodeA.runtime.events.on('alarm.fired', () => ++fired === 3 && resolve()),
  );
  const set = await nodeA.client.setMany(
    [0, 1, 2].map((i) => ({ when: Date.now() + 200, target: 'Log', message: { i } })),
  );
  await firstTry;
  await nodeA.stop(); // the claims are left in the table, the outcomes never recorded
  const observer = await openPostgresStore({ connectionString: url });
  for (const a of set) expect(await observer.get(a.id)).toMatchObject({ status: 'pending', attempts: 0 });
  await observer.close();
  const log = recorder();
  const nodeB = await startNode({
    store: { connectionString: url },
    targets: { Log: log },
    alarm: { pollMs: 100 },
  });
  try {
    const done = delivered([nodeB.runtime], 3);
    await done;
    expect(log.deliveries.map((d) => d.alarm.alarmId).sort()).toEqual(set.map((a) => a.id).sort());
    expect(log.deliveries.every((d) => d.alarm.attempt === 2)).toBe(true);
    const store: PostgresAlarmStore = nodeB.stores.at(-1)!;
    for (const a of set) expect(await store.get(a.id)).toMatchObject({ status: 'fired', attempts: 2 });
  } finally {
    await nodeB.stop();
  }
}, 60_000);

it("a cancel on one node of an alarm another node holds is recorded as asked: the holder's delivery is the truth, and nothing is delivered after it", async () => {
  const url = freshUrl();
  const a = await openPostgresStore({ connectionString: url, nodeId: 'a', leaseMs: 60_000 });
  const b = await openPostgresStore({ connectionString: url, nodeId: 'b', leaseMs: 60_000 });
  try {
    const past = Date.now() - 1000;
    const [held, free] = (await a.insert([alarm(past), alarm(Date.now() + 60_000)])).map((r) => r.row.id);
    expect(ids(await a.due(Date.now(), 10))).toEqual([held]);
    // b cannot know whether a is delivering `held`: it records the request, not `cancelled`.
    const asked = await b.cancel(held!, Date.now());
    expect(asked).toMatchObject({ status: 'pending', cancelRequestedAt: expect.any(Number) });
    // An alarm nobody holds is cancelled at once.
    expect(await b.cancel(free!, Date.now())).toMatchObject({ status: 'cancelled' });
    // a's delivery went through: the record says so (a one-shot alarm ends fired, not cancelled).
    await a.complete([{ kind: 'fired', id: held!, firedAt: Date.now(), attempts: 1 }]);
    expect(await b.get(held!)).toMatchObject({ status: 'fired', attempts: 1 });
  } finally {
    await a.close();
    await b.close();
  }
}, 30_000);
