/**
 * Vigil's side of the PostgreSQL rows, through its public API: `alarmSupervisor` on a
 * PostgreSQL store, `AlarmClient.set` / `setMany`, a target that acknowledges with `reply`.
 *
 * Several nodes are several processes (`vigilPgNode`), each a whole runtime with its own pool on
 * the same database, as a deployment runs them. Each loads, says so by creating
 * `<go>.ready.<node>`, and waits for the orchestrator's file `<go>`, which holds the instant at
 * which they all start their runtimes; node 1 then sets the alarms of the lateness case, and each
 * node stops once the table holds every alarm and none is pending. A node reports its own
 * deliveries and the common start; the orchestrator adds them up.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { AlarmClient, type AlarmInput, alarmSupervisor, type Delivery } from '@vigil/alarm';
import { openPostgresStore, postgresStore } from '@vigil/postgres';
import { createRuntime, type Runtime, reply, worker } from '@vigil/runtime';
import pg from 'pg';
import { fromCallback } from 'xstate';
import { dueInstants, sleep, wallNow } from './stats.js';

interface Service {
  runtime: Runtime;
  client: AlarmClient;
  stop: () => Promise<void>;
}

async function startService(url: string, onDelivery: (d: Delivery) => void): Promise<Service> {
  const sink = fromCallback(({ receive }) => {
    receive((event) => {
      onDelivery(event as unknown as Delivery);
      reply(event, true);
    });
  });
  const runtime = createRuntime({ callTimeoutMs: 120_000 });
  await runtime.start([
    worker('Sink', sink),
    alarmSupervisor({ store: postgresStore({ connectionString: url }) }),
  ]);
  return { runtime, client: new AlarmClient(runtime, { timeoutMs: 120_000 }), stop: () => runtime.stop() };
}

const item = (when: number): AlarmInput => ({ when, target: 'Sink', message: { type: 'job' } });

/** Acknowledged `set`s per second with `callers` concurrent callers, `total` in all (one node). */
export async function vigilPgSetRate(url: string, total: number, callers: number): Promise<number> {
  const service = await startService(url, () => {});
  try {
    const far = Date.now() + 3_600_000;
    let next = 0;
    const caller = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        await service.client.set(far + i, 'Sink', { type: 'job' });
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: callers }, caller));
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    await service.stop();
  }
}

/** Writes `total` alarms already due straight into the store (a backlog found at start); returns rows/s. */
export async function vigilPgBacklog(url: string, total: number): Promise<number> {
  const store = await openPostgresStore({ connectionString: url });
  try {
    const now = Date.now();
    const t0 = performance.now();
    for (let i = 0; i < total; i += 10_000) {
      const rows = [];
      for (let j = i; j < Math.min(total, i + 10_000); j++) {
        rows.push({ fireAt: now - total + j, target: 'Sink', message: '{"type":"job"}', createdAt: now });
      }
      await store.insert(rows);
    }
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    await store.close();
  }
}

/** What one node reports. */
export interface NodeReport {
  /** Deliveries this node recorded as fired. */
  delivered: number;
  /** Epoch ms of its last `alarm.delivered` (0 if none). */
  lastAt: number;
  /** Lateness at its target of each delivery, ms (lateness case only). */
  late: number[];
  /** The common start, epoch ms. */
  goAt: number;
}

/**
 * One node of a several-node case. Starts its runtime at the instant in file `go`; node 1 of the lateness case then
 * sets `count` alarms due over `spreadMs` from `leadMs` ahead. Returns once the table holds
 * `expect` alarms and none is pending.
 */
export async function vigilPgNode(args: {
  url: string;
  node: number;
  go: string;
  expect: number;
  lateness?: { count: number; spreadMs: number; leadMs: number };
}): Promise<NodeReport> {
  const probe = new pg.Client({ connectionString: args.url });
  await probe.connect();
  try {
    writeFileSync(`${args.go}.ready.${args.node}`, '');
    while (!existsSync(args.go)) await sleep(5);
    const goAt = Number(readFileSync(args.go, 'utf8'));
    await sleep(goAt - Date.now());
    const report: NodeReport = { delivered: 0, lastAt: 0, late: [], goAt };
    const service = await startService(args.url, (d) => {
      if (args.lateness) report.late.push(wallNow() - d.alarm.scheduledFor);
    });
    service.runtime.events.on('alarm.delivered', () => {
      report.delivered++;
      report.lastAt = Date.now();
    });
    try {
      // The store connects (and creates its tables) on first use: the probe below reads them.
      await service.client.stats();
      if (args.lateness && args.node === 1) {
        const { count, spreadMs, leadMs } = args.lateness;
        const dues = dueInstants(count, Date.now() + leadMs, spreadMs);
        for (let i = 0; i < dues.length; i += 1000)
          await service.client.setMany(dues.slice(i, i + 1000).map(item));
        if (Date.now() >= dues[0]!) throw new Error('scheduling took longer than the lead time');
      }
      const done = async () => {
        const r = await probe.query<{ total: string; pending: boolean }>(
          `SELECT (SELECT count(*) FROM vigil_alarms) AS total,
                  EXISTS (SELECT 1 FROM vigil_alarms WHERE status = 'pending') AS pending`,
        );
        return Number(r.rows[0]!.total) >= args.expect && !r.rows[0]!.pending;
      };
      const deadline = Date.now() + 600_000;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`node ${args.node}: the table never emptied`);
        await sleep(50);
      }
      return report;
    } finally {
      await service.stop();
    }
  } finally {
    await probe.end();
  }
}
