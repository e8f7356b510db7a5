/**
 * Vigil's side of every comparison, through its public API only: `alarmSupervisor` on a SQLite
 * file with `synchronous: 'FULL'` (the default), `AlarmClient.set` / `setMany`, and a target
 * actor that acknowledges each delivery with `reply`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AlarmBatch,
  AlarmClient,
  type AlarmInput,
  alarmSupervisor,
  type Delivery,
  openSqliteStore,
} from '@vigil/alarm';
import { createRuntime, type Runtime, reply, worker } from '@vigil/runtime';
import { fromCallback } from 'xstate';
import { callersRate } from './callers.js';
import { type Lateness, settledRss, summarise, until, wallNow } from './stats.js';

/** A running alarm service with one target, 'Sink', that calls `onDelivery` and acknowledges. */
interface Service {
  runtime: Runtime;
  client: AlarmClient;
  stop: () => Promise<void>;
}

async function startService(
  file: string,
  onDelivery: (d: Delivery) => void,
  beforeStart?: (runtime: Runtime) => void,
  batch = false,
): Promise<Service> {
  // With `batch`, 'Sink' is a batch target (`batchTargets`): one message per page of its due
  // alarms, answered with one outcome per item.
  const sink = fromCallback(({ receive }) => {
    receive((event) => {
      if (batch) {
        const { alarms } = event as unknown as AlarmBatch;
        for (const d of alarms) onDelivery(d);
        reply(
          event,
          alarms.map(() => true),
        );
        return;
      }
      onDelivery(event as unknown as Delivery);
      reply(event, true);
    });
  });
  const runtime = createRuntime({ callTimeoutMs: 120_000 });
  beforeStart?.(runtime);
  // The target starts before the alarm service, so deliveries of a backlog find it.
  await runtime.start([
    worker('Sink', sink),
    alarmSupervisor({ db: file, synchronous: 'FULL', ...(batch ? { batchTargets: { Sink: {} } } : {}) }),
  ]);
  return { runtime, client: new AlarmClient(runtime, { timeoutMs: 120_000 }), stop: () => runtime.stop() };
}

/** A temp directory for one database; removed by `cleanup`. */
export function tempDb(): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  return { file: path.join(dir, 'alarms.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const item = (when: number): AlarmInput => ({ when, target: 'Sink', message: { type: 'job' } });

/** Sets `dues` in `setMany` chunks of `chunk`, one chunk at a time. */
async function setAll(client: AlarmClient, dues: number[], chunk: number): Promise<void> {
  for (let i = 0; i < dues.length; i += chunk) await client.setMany(dues.slice(i, i + chunk).map(item));
}

/** Lateness at the target of alarms due at `dues` (epoch ms, all in the future). */
export async function vigilLateness(dues: number[]): Promise<Lateness> {
  const db = tempDb();
  const late: number[] = [];
  const service = await startService(db.file, (d) => late.push(wallNow() - d.alarm.scheduledFor));
  try {
    await setAll(service.client, dues, 1000);
    if (Date.now() >= dues[0]!) throw new Error('scheduling took longer than the lead time');
    const last = dues.at(-1)!;
    await until(() => late.length >= dues.length, last - Date.now() + 60_000, 'every Vigil delivery');
    return summarise(late);
  } finally {
    await service.stop();
    db.cleanup();
  }
}

/** Acknowledged `set`s per second with `callers` concurrent callers, `total` in all. */
export async function vigilSetRate(total: number, callers: number): Promise<number> {
  const db = tempDb();
  const service = await startService(db.file, () => {});
  try {
    const far = Date.now() + 3_600_000;
    return await callersRate(total, callers, (i) => service.client.set(far + i, 'Sink', { type: 'job' }));
  } finally {
    await service.stop();
    db.cleanup();
  }
}

/** Acknowledged alarms per second through `setMany` chunks of `chunk`, one chunk at a time. */
export async function vigilSetManyRate(total: number, chunk: number): Promise<number> {
  const db = tempDb();
  const service = await startService(db.file, () => {});
  try {
    const far = Date.now() + 3_600_000;
    const dues = Array.from({ length: total }, (_, i) => far + i);
    const t0 = performance.now();
    await setAll(service.client, dues, chunk);
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    await service.stop();
    db.cleanup();
  }
}

/**
 * Backlog drain: `total` alarms already due when the service starts (written to the store while
 * no service ran, as a process that was down finds them), delivered to a no-op target. Timed from
 * `runtime.start` to the last `alarm.delivered` event, which is emitted after the row is marked
 * fired on disk; `handlerPerS` is timed to the last handler call. With `batch` the target takes
 * its deliveries in batches (`batchTargets`, the row `vigil-batch`); without, one per alarm.
 */
export async function vigilDrain(
  total: number,
  batch = false,
): Promise<{ perS: number; handlerPerS: number }> {
  const db = tempDb();
  try {
    const store = openSqliteStore(db.file, { synchronous: 'FULL' });
    const now = Date.now();
    for (let i = 0; i < total; i += 10_000) {
      const rows = [];
      for (let j = i; j < Math.min(total, i + 10_000); j++) {
        rows.push({ fireAt: now - total + j, target: 'Sink', message: '{"type":"job"}', createdAt: now });
      }
      await store.insert(rows);
    }
    await store.close();
    let handled = 0;
    let lastHandled = 0;
    let delivered = 0;
    const t0 = performance.now();
    const service = await startService(
      db.file,
      () => {
        handled++;
        if (handled === total) lastHandled = performance.now();
      },
      (runtime) =>
        runtime.events.on('alarm.delivered', () => {
          delivered++;
        }),
      batch,
    );
    try {
      await until(() => delivered >= total, 600_000, 'the Vigil backlog to drain', 20);
      const ms = performance.now() - t0;
      return { perS: (total / ms) * 1000, handlerPerS: (total / (lastHandled - t0)) * 1000 };
    } finally {
      await service.stop();
    }
  } finally {
    db.cleanup();
  }
}

/** Writes `total` pending alarms (an hour ahead) into `file` through `setMany`; returns rows/s. */
export async function vigilPopulate(file: string, total: number): Promise<number> {
  const service = await startService(file, () => {});
  try {
    const far = Date.now() + 3_600_000;
    const t0 = performance.now();
    for (let i = 0; i < total; i += 10_000) {
      const n = Math.min(10_000, total - i);
      await service.client.setMany(Array.from({ length: n }, (_, j) => item(far + i + j)));
    }
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    await service.stop();
  }
}

/** RSS (MiB) of this process holding a running alarm service over `file` once it is armed. */
export async function vigilHoldRss(file: string): Promise<{ rssMb: number; pending: number }> {
  let armed = false;
  const service = await startService(
    file,
    () => {},
    (runtime) =>
      runtime.events.on('alarm.armed', () => {
        armed = true;
      }),
  );
  try {
    await until(() => armed, 60_000, 'the Timer to be armed');
    // Measured before `stats`, whose COUNT reads the whole table through SQLite's page cache.
    const rssMb = await settledRss();
    const stats = await service.client.stats();
    return { rssMb, pending: stats.byStatus.pending ?? 0 };
  } finally {
    await service.stop();
  }
}
