/**
 * Test nodes: a runtime with recording targets and the alarm service on a PostgreSQL store, the
 * way each application server of a cluster would run it. Real clock: the database's is the
 * clock of record, and a ManualClock cannot move the server's.
 */
import { AlarmClient, type AlarmOptions, alarmSupervisor, type Delivery } from '@vigil/alarm';
import { type Clock, createRuntime, type Runtime, reply, worker } from '@vigil/runtime';
import { fromCallback } from 'xstate';
import { type PostgresAlarmStore, type PostgresStoreOptions, postgresStore } from '../src/index.js';

/**
 * A target that records every delivery; `hang` deliveries are not answered, but their answers
 * are kept in `held` for a test to give later.
 */
export interface Recorder {
  deliveries: Delivery[];
  hang: boolean;
  held: (() => void)[];
}

export function recorder(): Recorder {
  return { deliveries: [], hang: false, held: [] };
}

function targetLogic(rec: Recorder) {
  return fromCallback(({ receive }) => {
    receive((event) => {
      rec.deliveries.push(event as unknown as Delivery);
      if (!rec.hang) reply(event, true);
      else rec.held.push(() => reply(event, true));
    });
  });
}

export interface TestNode {
  runtime: Runtime;
  client: AlarmClient;
  /** The stores the Alarm opened, newest last. */
  stores: PostgresAlarmStore[];
  /** Calls the Alarm made to its stores, by method. */
  calls: Record<string, number>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  store: PostgresStoreOptions;
  targets: Record<string, Recorder>;
  alarm?: Partial<AlarmOptions>;
  clock?: Clock;
}

export async function startNode(o: NodeOptions): Promise<TestNode> {
  const runtime = createRuntime(o.clock ? { clock: o.clock } : {});
  const factory = postgresStore(o.store);
  const stores: PostgresAlarmStore[] = [];
  const calls: Record<string, number> = {};
  await runtime.start([
    ...Object.entries(o.targets).map(([name, rec]) => worker(name, targetLogic(rec))),
    alarmSupervisor({
      store: () => {
        const s = factory();
        stores.push(s);
        return new Proxy(s, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver);
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
      },
      backoff: { minMs: 100, maxMs: 1000, factor: 2 },
      ...o.alarm,
    }),
  ]);
  return { runtime, client: new AlarmClient(runtime), stores, calls, stop: () => runtime.stop() };
}

/** Resolves when `n` deliveries of `alarm.delivered` have been seen on these runtimes together. */
export function delivered(runtimes: Runtime[], n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    for (const r of runtimes)
      r.events.on('alarm.delivered', () => {
        if (++seen === n) resolve();
      });
  });
}
