/**
 * The database going away mid-run: sets during the outage reject with STORE_UNAVAILABLE and store
 * nothing; the Alarm does not crash (no restart intensity burned), and once the server is back
 * every alarm acknowledged before is delivered.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore } from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';
import { delivered, recorder, startNode } from './nodes.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

it('a server restart mid-run: sets in the outage reject with STORE_UNAVAILABLE, nothing acknowledged is lost, the Alarm never crashes', async () => {
  cluster.createDatabase('outage1');
  const url = cluster.url('outage1');
  const log = recorder();
  const node = await startNode({
    store: { connectionString: url },
    targets: { Log: log },
    alarm: { pollMs: 50 },
  });
  const crashes: string[] = [];
  node.runtime.events.on('actor.crashed', (e) => crashes.push(e.name));
  try {
    // Some delivered before the outage, the rest due while the server is down.
    const now = Date.now();
    const early = delivered([node.runtime], 5);
    const acked = await node.client.setMany(
      Array.from({ length: 20 }, (_, i) => ({
        when: now + (i < 5 ? 100 : 1500 + i * 10),
        target: 'Log',
        message: { type: 'ping', i },
      })),
    );
    await early;
    const all = delivered([node.runtime], 15);
    cluster.pause();
    const refused = await node.client.set(Date.now() + 100, 'Log', { type: 'lost' }).catch((e) => e);
    expect(refused).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    // The server stays down until every remaining alarm is due, so all of them come due in it.
    const lastDue = Math.max(...acked.map((a) => a.fireAt));
    await new Promise((r) => setTimeout(r, Math.max(0, lastDue - Date.now() + 100)));
    expect(log.deliveries).toHaveLength(5);
    cluster.resume();
    await all;
    const ids = log.deliveries.map((d) => d.alarm.alarmId);
    expect(new Set(ids)).toEqual(new Set(acked.map((a) => a.id)));
    expect(log.deliveries.some((d) => d.type === 'lost')).toBe(false);
    expect(crashes).toEqual([]);
    const observer = await openPostgresStore({ connectionString: url });
    try {
      const stats = await observer.stats();
      expect(stats.total).toBe(20); // the refused set stored nothing
      expect(stats.byStatus.fired).toBe(20);
    } finally {
      await observer.close();
    }
    // The Alarm goes on taking sets on the same connections' pool.
    const last = delivered([node.runtime], 1);
    const after = await node.client.set(Date.now() + 50, 'Log', { type: 'after' });
    await last;
    expect(log.deliveries.at(-1)!.alarm.alarmId).toBe(after.id);
  } finally {
    await node.stop();
  }
}, 60_000);
