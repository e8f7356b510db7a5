/**
 * Routing: a node claims only alarms of the targets it declares; an alarm whose target no live
 * node declares waits (counted as unrouted) until a node declaring it appears, or fails once its
 * tolerance has passed.
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

/** Waits for a state of the database that the server's clock or a heartbeat brings about. */
async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('an alarm for a target no live node declares waits, counted, until a node declaring it appears', async () => {
  cluster.createDatabase('route1');
  const url = cluster.url('route1');
  const logA = recorder();
  const mailA = recorder();
  // Node A runs a Mail actor too, but declares only Log: Mail's alarms are not its to claim.
  const nodeA = await startNode({
    store: { connectionString: url, targets: ['Log'] },
    targets: { Log: logA, Mail: mailA },
    alarm: { pollMs: 100 },
  });
  const observer = await openPostgresStore({ connectionString: url });
  try {
    const firstLog = delivered([nodeA.runtime], 1);
    const fireAt = Date.now() + 200;
    const [mail, log] = await observer.insert([
      { fireAt, target: 'Mail', message: '{"type":"mail"}', createdAt: 1 },
      { fireAt, target: 'Log', message: '{"type":"log"}', createdAt: 1 },
    ]);
    await firstLog;
    expect(logA.deliveries.map((d) => d.alarm.alarmId)).toEqual([log!.row.id]);
    expect(await observer.get(mail!.row.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await observer.stats()).unrouted).toBe(1);
    // A node that declares Mail appears and delivers it.
    const mailB = recorder();
    const nodeB = await startNode({
      store: { connectionString: url, targets: ['Mail'] },
      targets: { Mail: mailB },
      alarm: { pollMs: 100 },
    });
    try {
      const done = delivered([nodeB.runtime], 1);
      await done;
      expect(mailB.deliveries.map((d) => d.alarm.alarmId)).toEqual([mail!.row.id]);
      expect(mailA.deliveries).toEqual([]);
      expect((await observer.stats()).unrouted).toBe(0);
    } finally {
      await nodeB.stop();
    }
  } finally {
    await observer.close();
    await nodeA.stop();
  }
}, 60_000);

it('an unrouted alarm fails with the reason once its tolerance passes: its own skip tolerance, else the store option', async () => {
  cluster.createDatabase('route2');
  const url = cluster.url('route2');
  const node = await startNode({
    store: { connectionString: url, targets: ['Log'], heartbeatMs: 100, unroutedToleranceMs: 600 },
    targets: { Log: recorder() },
    alarm: { pollMs: 100 },
  });
  const observer = await openPostgresStore({ connectionString: url });
  try {
    const now = Date.now();
    const [own, fallback, waits] = await observer.insert([
      {
        fireAt: now,
        target: 'Gone',
        message: '{}',
        misfire: '{"policy":"skip","toleranceMs":200}',
        createdAt: 1,
      },
      { fireAt: now, target: 'Gone', message: '{}', createdAt: 1 },
      // Due only later: still waiting when the others have failed.
      { fireAt: now + 60_000, target: 'Gone', message: '{}', createdAt: 1 },
    ]);
    await until(async () => (await observer.get(fallback!.row.id))?.status === 'failed');
    for (const r of [own!, fallback!]) {
      const row = await observer.get(r.row.id);
      expect(row).toMatchObject({ status: 'failed' });
      expect(row!.lastError).toMatch(/^no live node declares target 'Gone'/);
    }
    const ownRow = await observer.get(own!.row.id);
    const fallbackRow = await observer.get(fallback!.row.id);
    expect(ownRow!.lastError).toContain('tolerance 200 ms');
    expect(fallbackRow!.lastError).toContain('tolerance 600 ms');
    expect(await observer.get(waits!.row.id)).toMatchObject({ status: 'pending' });
  } finally {
    await observer.close();
    await node.stop();
  }
}, 60_000);

it('a node that closes stops declaring its targets', async () => {
  cluster.createDatabase('route3');
  const url = cluster.url('route3');
  const node = await startNode({
    store: { connectionString: url, targets: ['Log'] },
    targets: { Log: recorder() },
    alarm: { pollMs: 100 },
  });
  const observer = await openPostgresStore({ connectionString: url });
  try {
    await observer.insert([{ fireAt: Date.now() - 10_000, target: 'Log', message: '{}', createdAt: 1 }]);
    await until(async () => (await observer.stats()).byStatus.fired === 1);
    await node.stop();
    await observer.insert([{ fireAt: Date.now() - 10, target: 'Log', message: '{}', createdAt: 1 }]);
    expect((await observer.stats()).unrouted).toBe(1);
  } finally {
    await observer.close();
  }
}, 60_000);
