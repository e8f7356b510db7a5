/**
 * Records never lie across nodes: a node whose lease ran out, and whose alarm another node
 * reclaimed and delivered, gets its late outcome refused by the store, and says so
 * (`alarm.superseded`) instead of announcing `alarm.delivered` for a record that does not exist.
 */
import type { VigilEvents } from '@vigil/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Cluster, startCluster } from './cluster.js';
import { recorder, startNode, type TestNode } from './nodes.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

it('a late outcome after a lost lease is refused: the first node emits alarm.superseded, not alarm.delivered', async () => {
  cluster.createDatabase('superseded');
  const url = cluster.url('superseded');
  const slow = recorder();
  slow.hang = true; // node a's target holds its delivery until the test answers it
  const fast = recorder();
  const nodes: TestNode[] = [];
  try {
    // a's lease is short, so b may reclaim while a's target still holds the delivery.
    const a = await startNode({
      store: { connectionString: url, nodeId: 'a', leaseMs: 300 },
      targets: { Log: slow },
      alarm: { pollMs: 50 },
    });
    nodes.push(a);
    const firedOnA = a.runtime.events.waitFor('alarm.fired');
    const alarm = await a.client.set(Date.now() + 200, 'Log', { type: 'job' });
    await firedOnA;
    const aDelivered: VigilEvents['alarm.delivered'][] = [];
    a.runtime.events.on('alarm.delivered', (e) => aDelivered.push(e));

    // b starts once a holds the alarm; its poll sees the lease run out, it reclaims and delivers.
    const b = await startNode({
      store: { connectionString: url, nodeId: 'b' },
      targets: { Log: fast },
      alarm: { pollMs: 50 },
    });
    nodes.push(b);
    const byB = await b.runtime.events.waitFor('alarm.delivered', (e) => e.id === alarm.id);
    expect(byB).toMatchObject({ id: alarm.id, attempt: 2 });

    // a's target answers now; a's record is refused, and a says so.
    const superseded = a.runtime.events.waitFor('alarm.superseded', (e) => e.id === alarm.id);
    expect(slow.held).toHaveLength(1);
    slow.held[0]!();
    expect(await superseded).toMatchObject({ id: alarm.id, outcome: 'fired', target: 'Log' });
    expect(aDelivered).toEqual([]);
    expect(await a.client.get(alarm.id)).toMatchObject({ status: 'fired', attempts: 2 });
    expect(slow.deliveries).toHaveLength(1);
    expect(fast.deliveries).toHaveLength(1);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}, 60_000);
