/**
 * A `set` or `cancel` from the CLI while a runtime holds the same database is picked up by that
 * runtime: SQLite allows a second writer in WAL mode, and the Alarm polls `PRAGMA data_version`;
 * on PostgreSQL (`--db postgres://...`, a throwaway cluster) the Alarm's poll of the store's change
 * token sees the CLI's committed write the same way.
 * This test uses the real clock on purpose: it is about two connections and real polling, end
 * to end. It waits for the delivery events themselves, never for a fixed time: a wait that is too
 * short under load would fail, and one long enough would hide a slow pickup.
 */
import { join } from 'node:path';
import { AlarmClient, alarmSupervisor } from '@vigil/alarm';
import { postgresStore } from '@vigil/postgres';
import { createRuntime, type Runtime, reply, worker } from '@vigil/runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { type Cluster, startCluster } from '../../postgres/test/cluster.js';
import { run } from '../src/program.js';
import { tempDir } from './helpers.js';

let runtime: Runtime | undefined;
const deliveredIds = new Set<number>();
const waiters = new Map<number, () => void>();
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

async function cli(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await run(argv, {
    now: () => Date.now(),
    zone: 'UTC',
    stdout: (t) => {
      stdout += t;
    },
    stderr: () => {},
  });
  return { code, stdout };
}

async function startRuntime(db: string) {
  const deliveries: { id: number; at: number }[] = [];
  const sink = createMachine({
    on: {
      '*': {
        actions: ({ event }) => {
          deliveries.push({
            id: (event as unknown as { alarm: { alarmId: number } }).alarm.alarmId,
            at: Date.now(),
          });
          reply(event);
        },
      },
    },
  });
  runtime = createRuntime();
  deliveredIds.clear();
  waiters.clear();
  runtime.events.on('alarm.delivered', (e) => {
    deliveredIds.add(e.id);
    waiters.get(e.id)?.();
  });
  const alarms = db.startsWith('postgres://')
    ? alarmSupervisor({ store: postgresStore({ connectionString: db }) })
    : alarmSupervisor({ db });
  await runtime.start([alarms, worker('Sink', sink)]);
  return { runtime, deliveries };
}

/** Resolves when the running runtime has reported alarm `id` delivered (before or after the call). */
function delivered(id: number): Promise<void> {
  return new Promise((resolve) => {
    if (deliveredIds.has(id)) return resolve();
    waiters.set(id, resolve);
  });
}

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

let databases = 0;
/** A new database of the kind `kind`: a file path, or the URL of an empty PostgreSQL database. */
function database(kind: string, name: string): string {
  if (kind === 'SQLite') return join(tempDir(), `${name}.db`);
  const db = `live_${++databases}`;
  cluster.createDatabase(db);
  return cluster.url(db);
}

describe.each(['SQLite', 'PostgreSQL'])('the CLI and a running runtime share one database (%s)', (kind) => {
  it('a CLI set for now is delivered by the running runtime within 1 s', async () => {
    const db = database(kind, 'live');
    const { deliveries } = await startRuntime(db);
    const at = new Date(Date.now() + 100).toISOString();
    const setAt = Date.now();
    const { code, stdout } = await cli([
      'alarms',
      'set',
      at,
      '--target',
      'Sink',
      '--message',
      '{"type":"hi"}',
      '--db',
      db,
      '--json',
    ]);
    expect(code, stdout).toBe(0);
    const id = (JSON.parse(stdout) as { alarm: { id: number } }).alarm.id;
    // The runtime had nothing pending: only its poll of the database can have found this alarm.
    await delivered(id);
    const delivery = deliveries.find((d) => d.id === id);
    expect(delivery!.at).toBeGreaterThanOrEqual(Date.parse(at));
    // The pickup takes one poll (250 ms) at idle; the bound leaves room for a loaded CI machine
    // while still failing if a CLI write were only noticed by some slower path.
    expect(delivery!.at - setAt).toBeLessThan(5_000);
  });

  it('a CLI cancel stops an alarm the running runtime had armed', async () => {
    const db = database(kind, 'cancel');
    const { runtime: rt, deliveries } = await startRuntime(db);
    const alarms = new AlarmClient(rt);
    const alarm = await alarms.set(Date.now() + 1500, 'Sink', { type: 'hi' });
    // Due after the cancelled one: alarms are delivered in (fire time, id) order, so once this one
    // is delivered, the cancelled one would have been delivered before it.
    const sentinel = await alarms.set(Date.now() + 2000, 'Sink', { type: 'sentinel' });
    const { code } = await cli(['alarms', 'cancel', String(alarm.id), '--db', db]);
    expect(code).toBe(0);
    await delivered(sentinel.id);
    expect(deliveries.map((d) => d.id)).toEqual([sentinel.id]);
    expect((await alarms.get(alarm.id))?.status).toBe('cancelled');
  });
});
