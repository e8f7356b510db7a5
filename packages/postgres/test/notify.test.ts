/**
 * Wake-ups: an alarm stored by another connection wakes a node through LISTEN/NOTIFY, long
 * before its poll would have found it; a node that lost its listening connection reads again
 * once it is back.
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

// The poll runs once a minute here: a delivery within POLL_MS / 6 of its instant can only have
// come from the notification. The bound is that wide (10 s, for an alarm 300 ms away) so a loaded
// machine cannot make the test fail; the poll interval is what it must stay far below.
const POLL_MS = 60_000;

it('a set on another node that becomes the earliest alarm wakes this node without a poll', async () => {
  cluster.createDatabase('notify1');
  const url = cluster.url('notify1');
  const log = recorder();
  const node = await startNode({
    store: { connectionString: url },
    targets: { Log: log },
    alarm: { pollMs: POLL_MS },
  });
  const other = await openPostgresStore({ connectionString: url, nodeId: 'other' });
  try {
    // A later alarm armed first, so the notified one must re-arm the Timer earlier.
    await node.client.set(Date.now() + POLL_MS * 2, 'Log', { type: 'later' });
    const once = delivered([node.runtime], 1);
    const fireAt = Date.now() + 300;
    const [r] = await other.insert([
      { fireAt, target: 'Log', message: '{"type":"from-other"}', createdAt: Date.now() },
    ]);
    await once;
    expect(log.deliveries[0]).toMatchObject({ type: 'from-other', alarm: { alarmId: r!.row.id } });
    expect(Date.now()).toBeGreaterThanOrEqual(fireAt);
    expect(Date.now() - fireAt).toBeLessThan(POLL_MS / 6);
  } finally {
    await other.close();
    await node.stop();
  }
}, 30_000);

it('after the server restarts, the listening connection comes back and alarms set then still wake the node', async () => {
  cluster.createDatabase('notify2');
  const url = cluster.url('notify2');
  const log = recorder();
  const node = await startNode({
    store: { connectionString: url },
    targets: { Log: log },
    alarm: { pollMs: POLL_MS },
  });
  try {
    const store = node.stores.at(-1)!;
    // The node is subscribed (its listener connected) once a first notice reaches it.
    const first = delivered([node.runtime], 1);
    const other = await openPostgresStore({ connectionString: url, nodeId: 'other' });
    await other.insert([{ fireAt: Date.now() + 200, target: 'Log', message: '{"type":"a"}', createdAt: 1 }]);
    await first;
    await other.close();
    // The listener tells its subscribers to read again (0) once it has reconnected.
    const notices: number[] = [];
    let reconnected: () => void = () => {};
    const back = new Promise<void>((resolve) => {
      reconnected = resolve;
    });
    const off = store.subscribe!((at) => {
      notices.push(at);
      if (at === 0) reconnected();
    });
    cluster.pause();
    cluster.resume();
    await back;
    const second = delivered([node.runtime], 1);
    const again = await openPostgresStore({ connectionString: url, nodeId: 'again' });
    const fireAt = Date.now() + 2000;
    await again.insert([{ fireAt, target: 'Log', message: '{"type":"b"}', createdAt: 1 }]);
    await second;
    off();
    // Woken by the notice itself (2 s ahead of the poll of a minute), after the reconnection's.
    expect(notices).toEqual([0, fireAt]);
    expect(log.deliveries.map((d) => d.type)).toEqual(['a', 'b']);
    await again.close();
  } finally {
    await node.stop();
  }
}, 60_000);
