/** Selecting the PostgreSQL store: `alarmSupervisor({ store: postgresStore(...) })` delivers. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore, postgresStore } from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';
import { delivered, recorder, startNode } from './nodes.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

it('a runtime with alarmSupervisor on postgresStore delivers alarms to their target, and records them', async () => {
  cluster.createDatabase('sup1');
  const url = cluster.url('sup1');
  const log = recorder();
  const node = await startNode({ store: { connectionString: url }, targets: { Log: log } });
  try {
    const done = delivered([node.runtime], 3);
    const now = Date.now();
    const set = await node.client.setMany([
      { when: now + 300, target: 'Log', message: { type: 'ping', i: 2 } },
      { when: now + 200, target: 'Log', message: { type: 'ping', i: 1 } },
      { when: now + 400, target: 'Log', message: { type: 'ping', i: 3 } },
    ]);
    await done;
    expect(log.deliveries.map((d) => d.i)).toEqual([1, 2, 3]);
    for (const d of log.deliveries) expect(Date.now()).toBeGreaterThanOrEqual(d.alarm.scheduledFor);
    const other = await openPostgresStore({ connectionString: url });
    try {
      for (const a of set) expect(await other.get(a.id)).toMatchObject({ status: 'fired', attempts: 1 });
    } finally {
      await other.close();
    }
  } finally {
    await node.stop();
  }
}, 30_000);

it('the factory checks its options at once with a typed error', () => {
  expect(() => postgresStore({ connectionString: '' })).toThrow(
    expect.objectContaining({ code: 'INVALID_OPTION' }),
  );
  expect(() => postgresStore({ connectionString: 'postgres://x/y', leaseMs: 0 })).toThrow(
    expect.objectContaining({ code: 'INVALID_OPTION', field: 'leaseMs' }),
  );
});

it('the store connects on first use; one that cannot connect rejects with STORE_UNAVAILABLE; a reachable one connects on its first call', async () => {
  cluster.createDatabase('sup2');
  const store = postgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none' })();
  await expect(store.stats()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', operation: 'open' });
  await store.close();
  const good = postgresStore({ connectionString: cluster.url('sup2') })();
  expect((await good.stats()).total).toBe(0);
  await good.close();
  await expect(good.stats()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
});
