/**
 * A `set` for a target only another node runs ("the app server schedules, the worker delivers").
 * A node that routes (declares its targets) accepts a set for a target that is a local worker, or
 * that another node sharing the database declares or once declared (`vigil_targets`, read when
 * the store opens and at each heartbeat); a name no node ever declared is `UNKNOWN_TARGET` and
 * stores nothing. A node that claims every target (no `targets` option) accepts only its own
 * workers: it would claim and fail the alarms of a target it does not run.
 */
import pg from 'pg';
import { expect, it } from 'vitest';
import { openPostgresStore } from '../src/index.js';
import { delivered, recorder, startNode, type TestNode } from './nodes.js';
import { withCluster } from './with-cluster.js';

const postgres = withCluster('route_set');

/** Waits until node A's heartbeat has recorded its names (a state of the database, not an event). */
async function declared(url: string, name: string, timeoutMs = 20_000): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const end = Date.now() + timeoutMs;
    for (;;) {
      // The table itself appears when the node's store has migrated (42P01 until then).
      const r = await client
        .query('SELECT 1 FROM vigil_targets WHERE name = $1', [name])
        .catch((err: { code?: string }) => {
          if (err.code === '42P01') return { rowCount: 0 };
          throw err;
        });
      if (r.rowCount === 1) return;
      if (Date.now() > end) throw new Error(`'${name}' not declared in time`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await client.end();
  }
}

/** A node that declares no target: it schedules, it delivers nothing. Resolves once its store has opened. */
async function scheduler(url: string): Promise<TestNode> {
  const node = await startNode({ store: { connectionString: url, targets: [] }, targets: {} });
  // The Alarm opens its store at start; the names are read as it opens.
  await node.stores[0]!.clockSkew();
  return node;
}

it('a node sets for a target only another node declares; that node delivers it; a name nobody declared is refused', async () => {
  const url = postgres.database();
  const workerX = recorder();
  const workerNode = () =>
    startNode({
      store: { connectionString: url, targets: ['worker-x'] },
      targets: { 'worker-x': workerX },
      alarm: { pollMs: 100 },
    });
  let a = await workerNode();
  await declared(url, 'worker-x');
  const b = await scheduler(url);
  const observer = await openPostgresStore({ connectionString: url });
  try {
    const first = delivered([a.runtime], 1);
    const alarm = await b.client.set(new Date(Date.now() + 200), 'worker-x', { type: 'job', n: 1 });
    await first;
    expect(workerX.deliveries.map((d) => d.alarm.alarmId)).toEqual([alarm.id]);
    expect(await observer.get(alarm.id)).toMatchObject({ status: 'fired', target: 'worker-x' });

    // A typo is still caught at set, and stores nothing.
    const before = (await observer.stats()).total;
    await expect(b.client.set(new Date(Date.now() + 200), 'nobody', {})).rejects.toMatchObject({
      code: 'UNKNOWN_TARGET',
    });
    expect((await observer.stats()).total).toBe(before);

    // The worker restarts (a deploy): its node row is gone meanwhile, yet sets for its target are
    // still accepted, by B and by a scheduling node that opened while no worker was live.
    await a.stop();
    const c = await scheduler(url);
    try {
      const fromB = await b.client.set(new Date(Date.now() + 100), 'worker-x', { type: 'job', n: 2 });
      const fromC = await c.client.set(new Date(Date.now() + 100), 'worker-x', { type: 'job', n: 3 });
      expect(workerX.deliveries).toHaveLength(1);
      a = await workerNode();
      const both = delivered([a.runtime], 2);
      await both;
      expect(
        workerX.deliveries
          .map((d) => d.alarm.alarmId)
          .slice(1)
          .sort(),
      ).toEqual([fromB.id, fromC.id].sort());
    } finally {
      await c.stop();
    }
  } finally {
    await observer.close();
    await b.stop();
    await a.stop();
  }
}, 60_000);

it('a node that claims every target accepts only its own workers', async () => {
  const url = postgres.database();
  const a = await startNode({
    store: { connectionString: url, targets: ['worker-x'] },
    targets: { 'worker-x': recorder() },
    alarm: { pollMs: 100 },
  });
  await declared(url, 'worker-x');
  const all = await startNode({ store: { connectionString: url }, targets: { Log: recorder() } });
  const observer = await openPostgresStore({ connectionString: url });
  try {
    await all.stores[0]!.clockSkew();
    await expect(all.client.set(new Date(Date.now() + 60_000), 'worker-x', {})).rejects.toMatchObject({
      code: 'UNKNOWN_TARGET',
    });
    expect((await observer.stats()).total).toBe(0);
    // Its own workers, as before.
    await expect(all.client.set(new Date(Date.now() + 60_000), 'Log', {})).resolves.toMatchObject({
      target: 'Log',
    });
  } finally {
    await observer.close();
    await all.stop();
    await a.stop();
  }
}, 60_000);
