/**
 * Vigil's side of the PostgreSQL rows: `alarmSupervisor` on `postgresStore`, `AlarmClient.set`,
 * a target that acknowledges with `reply`.
 *
 * Several nodes are several processes (`vigilPgNode`), each a whole runtime with its own pool on
 * the same database, as a deployment runs them. Each loads, says so by creating
 * `<go>.ready.<node>`, and waits for the orchestrator's file `<go>`, which holds the instant at
 * which they all start their runtimes; each stops once the table holds every alarm and none is
 * pending, and reports its own deliveries.
 *
 * The alarms of the lateness and drain cases are written before the nodes start, straight into
 * the store's table in one statement (`pgAlarms`), as a backlog or a schedule found at start:
 * these cases measure firing. The set path is the schedule case's (through `set`, one node): on a
 * loaded machine, writing 10,000 alarms through it took longer than the lateness case's lead.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { AlarmClient, alarmSupervisor, type Delivery } from '@vigil/alarm';
import { openPostgresStore, postgresStore } from '@vigil/postgres';
import { createRuntime, type Runtime, reply, worker } from '@vigil/runtime';
import pg from 'pg';
import { fromCallback } from 'xstate';
import { callersRate } from './callers.js';
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

/** Acknowledged `set`s per second with `callers` concurrent callers, `total` in all (one node). */
export async function vigilPgSetRate(url: string, total: number, callers: number): Promise<number> {
  const service = await startService(url, () => {});
  try {
    const far = Date.now() + 3_600_000;
    return await callersRate(total, callers, (i) => service.client.set(far + i, 'Sink', { type: 'job' }));
  } finally {
    await service.stop();
  }
}

/**
 * Writes pending alarms for 'Sink' straight into the store's table: `count` due over `spreadMs`
 * from `leadMs` ahead (a negative lead: already due). The store is opened first, so its tables
 * exist at its current schema. Returns rows/s.
 */
export async function pgAlarms(
  url: string,
  count: number,
  leadMs: number,
  spreadMs: number,
): Promise<number> {
  const store = await openPostgresStore({ connectionString: url });
  await store.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const now = Date.now();
    const dues = dueInstants(count, now + leadMs, spreadMs);
    const t0 = performance.now();
    await client.query(
      `INSERT INTO vigil_alarms (fire_at, scheduled_for, target, message, created_at)
       SELECT d, d, 'Sink', convert_to('{"type":"job"}', 'UTF8'), $2 FROM unnest($1::int8[]) AS d`,
      [dues, now],
    );
    return (count / (performance.now() - t0)) * 1000;
  } finally {
    await client.end();
  }
}

/** What one node reports. */
export interface NodeReport {
  /** Deliveries this node recorded as fired. */
  delivered: number;
  /** Epoch ms of its last `alarm.delivered` (0 if none). */
  lastAt: number;
  /** Lateness at its target of each delivery, ms (when asked for). */
  late: number[];
  /** The common start, epoch ms. */
  goAt: number;
}

/**
 * One node of a several-node case: starts its runtime at the instant in file `go`, and returns
 * once the table holds `expect` alarms and none is pending; with `lateness`, each delivery's.
 */
export async function vigilPgNode(args: {
  url: string;
  node: number;
  go: string;
  expect: number;
  lateness: boolean;
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
      // The count (a scan of the whole table) only once nothing is pending (a look at the
      // pending index): counted every 50 ms by each node, it took a core of the server's two
      // away from the drain it measured.
      const done = async () => {
        const r = await probe.query<{ done: boolean }>(
          `SELECT CASE WHEN EXISTS (SELECT 1 FROM vigil_alarms WHERE status = 'pending') THEN false
             ELSE (SELECT count(*) FROM vigil_alarms) >= $1 END AS done`,
          [args.expect],
        );
        return r.rows[0]!.done;
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
