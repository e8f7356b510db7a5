/**
 * The database's clock is the clock of record: a node whose clock runs ahead fires nothing early
 * and does not spin, one that runs behind fires on time; the skew is measured at connect and
 * reported.
 */
import { type Clock, systemClock } from '@vigil/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore } from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';
import { delivered, recorder, startNode } from './nodes.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

/** The real clock, shifted: timers run as usual, `now()` reads `offsetMs` ahead. */
function shifted(offsetMs: number): Clock {
  return { ...systemClock, now: () => Date.now() + offsetMs };
}

it('measures the skew at connect and reports it (a healthy clock: none applied)', async () => {
  cluster.createDatabase('clock0');
  const url = cluster.url('clock0');
  const fine = await openPostgresStore({ connectionString: url });
  const ahead = await openPostgresStore({ connectionString: url, now: () => Date.now() + 7000 });
  try {
    expect((await fine.clockSkew()).appliedMs).toBe(0);
    const skew = await ahead.clockSkew();
    expect(Math.abs(skew.skewMs - 7000)).toBeLessThanOrEqual(skew.rttMs / 2 + 1);
    expect(skew.appliedMs).toBe(skew.skewMs);
    expect((await ahead.stats()).clockSkewMs).toBe(skew.skewMs);
  } finally {
    await fine.close();
    await ahead.close();
  }
});

it('a node whose clock runs 3 s ahead fires nothing early by the server clock, and does not spin', async () => {
  cluster.createDatabase('clock1');
  const url = cluster.url('clock1');
  const AHEAD = 3000;
  const log = recorder();
  const node = await startNode({
    store: { connectionString: url, now: shifted(AHEAD).now },
    clock: shifted(AHEAD),
    targets: { Log: log },
    alarm: { pollMs: 60_000 },
  });
  const other = await openPostgresStore({ connectionString: url });
  try {
    const once = delivered([node.runtime], 1);
    const fireAt = Date.now() + 500; // by the server's clock (the same host's, unshifted)
    await other.insert([{ fireAt, target: 'Log', message: '{"type":"x"}', createdAt: Date.now() }]);
    await once;
    expect(Date.now()).toBeGreaterThanOrEqual(fireAt);
    // Woken once for it (plus the start's and the notice's reads), not over and over for 3 s.
    expect(node.calls.due ?? 0).toBeLessThanOrEqual(6);
  } finally {
    await other.close();
    await node.stop();
  }
}, 30_000);

it('a node whose clock runs 10 s behind fires on time by the server clock, not 10 s late', async () => {
  cluster.createDatabase('clock2');
  const url = cluster.url('clock2');
  const BEHIND = -10_000;
  const log = recorder();
  const node = await startNode({
    store: { connectionString: url, now: shifted(BEHIND).now },
    clock: shifted(BEHIND),
    targets: { Log: log },
    alarm: { pollMs: 60_000 },
  });
  const other = await openPostgresStore({ connectionString: url });
  try {
    const once = delivered([node.runtime], 1);
    const fireAt = Date.now() + 500;
    await other.insert([{ fireAt, target: 'Log', message: '{"type":"x"}', createdAt: Date.now() }]);
    await once;
    expect(Date.now()).toBeGreaterThanOrEqual(fireAt);
    // Half the skew as margin for a loaded machine: unshifted, it would be 10 s late.
    expect(Date.now() - fireAt).toBeLessThan(5000);
  } finally {
    await other.close();
    await node.stop();
  }
}, 30_000);
