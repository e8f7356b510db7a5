/**
 * pg-boss's side of the PostgreSQL rows: its polling default (`pollingIntervalSeconds` 2) and
 * its other defaults, except `batchSize`. A pg-boss worker fetches one batch, runs it, and then
 * waits out the rest of the polling interval, so its default batch of 1 delivers at most one job
 * every 2 s; a batch of 10,000 (every job the lateness case has due in one interval) keeps the
 * batch size out of the figures and leaves the polling. Jobs are `startAfter` jobs.
 */

import PgBoss from 'pg-boss';
import { callersRate } from './callers.js';
import { type Lateness, sleep, summarise, until, wallNow } from './stats.js';

export const PGBOSS_BATCH = 10_000;

async function boss(url: string, queue: string): Promise<PgBoss> {
  const b = new PgBoss({ connectionString: url });
  // Errors reach the bench through the figures (a job never done times the case out).
  b.on('error', () => {});
  await b.start();
  await b.createQueue(queue);
  return b;
}

/** Inserts one job per instant of `dues` with `insert` chunks of `chunk`, `parallel` in flight. */
async function insertAll(
  b: PgBoss,
  queue: string,
  dues: number[],
  chunk: number,
  parallel = 1,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < dues.length) {
      const start = next;
      next += chunk;
      await b.insert(
        dues
          .slice(start, start + chunk)
          .map((due) => ({ name: queue, data: { due }, startAfter: new Date(due) })),
      );
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

/** Lateness at the handler of jobs due at `dues` (epoch ms, all in the future), against `startAfter`. */
export async function bossLateness(url: string, dues: number[]): Promise<Lateness> {
  const b = await boss(url, 'lateness');
  const late: number[] = [];
  try {
    await insertAll(b, 'lateness', dues, 1000);
    if (Date.now() >= dues[0]!) throw new Error('scheduling took longer than the lead time');
    await b.work<{ due: number }>('lateness', { batchSize: PGBOSS_BATCH }, async (jobs) => {
      const now = wallNow();
      for (const job of jobs) late.push(now - job.data.due);
    });
    await until(() => late.length >= dues.length, dues.at(-1)! - Date.now() + 60_000, 'every pg-boss job');
    return summarise(late);
  } finally {
    await b.stop({ graceful: false, wait: true });
  }
}

/** Acknowledged `send`s per second with `callers` concurrent callers, `total` in all. */
export async function bossSendRate(url: string, total: number, callers: number): Promise<number> {
  const b = await boss(url, 'add');
  try {
    const far = new Date(Date.now() + 3_600_000);
    return await callersRate(total, callers, () => b.send('add', { type: 'job' }, { startAfter: far }));
  } finally {
    await b.stop({ graceful: false, wait: true });
  }
}

/**
 * Backlog drain: `total` jobs all due before the worker starts, run by a no-op handler. Timed
 * from `work` to the moment none of its jobs is short of `completed` (pg-boss completes a batch
 * after the handler returns, without waiting); `handlerPerS` to the last handler call.
 */
export async function bossDrain(url: string, total: number): Promise<{ perS: number; handlerPerS: number }> {
  const b = await boss(url, 'drain');
  try {
    const due = Date.now() - 1000;
    await insertAll(
      b,
      'drain',
      Array.from({ length: total }, () => due),
      1000,
      4,
    );
    const left = async () =>
      Number(
        (
          await b
            .getDb()
            .executeSql(
              `SELECT count(*) AS n FROM pgboss.job WHERE name = 'drain' AND state < 'completed'`,
              [],
            )
        ).rows[0].n,
      );
    let handled = 0;
    let lastHandled = 0;
    const t0 = performance.now();
    await b.work('drain', { batchSize: PGBOSS_BATCH }, async (jobs) => {
      handled += jobs.length;
      if (handled >= total) lastHandled = performance.now();
    });
    await until(() => handled >= total, 600_000, 'every pg-boss handler call', 20);
    while ((await left()) > 0) await sleep(20);
    const ms = performance.now() - t0;
    return { perS: (total / ms) * 1000, handlerPerS: (total / (lastHandled - t0)) * 1000 };
  } finally {
    await b.stop({ graceful: false, wait: true });
  }
}
