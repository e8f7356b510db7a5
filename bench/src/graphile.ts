/**
 * graphile-worker's side of the PostgreSQL rows, with its defaults (`pollInterval` 2 s for jobs
 * scheduled in the future, LISTEN/NOTIFY for jobs due now, no local queue, a pool of 10) except
 * `concurrency`: 10 instead of 1, the pool's size (its docs advise no more), since one job at a
 * time cannot keep up with 5,000 jobs/s. Jobs are `runAt` jobs, the way it schedules for later.
 */

import { Logger, makeWorkerUtils, type Runner, run, type Task, type WorkerUtils } from 'graphile-worker';
import { callersRate } from './callers.js';
import { type Lateness, sleep, summarise, until, wallNow } from './stats.js';

export const GRAPHILE_CONCURRENCY = 10;

/** No log lines: the bench prints its own. */
const quiet = new Logger(() => () => {});

function runner(url: string, job: Task): Promise<Runner> {
  return run({
    connectionString: url,
    concurrency: GRAPHILE_CONCURRENCY,
    noHandleSignals: true,
    logger: quiet,
    taskList: { job },
  });
}

async function utils(url: string): Promise<WorkerUtils> {
  const u = await makeWorkerUtils({ connectionString: url, logger: quiet });
  await u.migrate();
  return u;
}

/** Adds one job per instant of `dues` with `addJobs` chunks of `chunk`, `parallel` in flight. */
async function addAll(u: WorkerUtils, dues: number[], chunk: number, parallel = 1): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < dues.length) {
      const start = next;
      next += chunk;
      await u.addJobs(
        dues
          .slice(start, start + chunk)
          .map((due) => ({ identifier: 'job', payload: { due }, runAt: new Date(due) })),
      );
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

/** Rows left in its jobs table (completed jobs are deleted). */
async function remaining(u: WorkerUtils): Promise<number> {
  const r = await u.withPgClient((c) =>
    c.query<{ n: string }>('SELECT count(*) AS n FROM graphile_worker._private_jobs'),
  );
  return Number(r.rows[0]!.n);
}

/** Lateness at the task of jobs due at `dues` (epoch ms, all in the future), against `runAt`. */
export async function graphileLateness(url: string, dues: number[]): Promise<Lateness> {
  const u = await utils(url);
  const late: number[] = [];
  const r = await runner(url, async (payload) => {
    late.push(wallNow() - (payload as { due: number }).due);
  });
  try {
    await addAll(u, dues, 1000);
    if (Date.now() >= dues[0]!) throw new Error('scheduling took longer than the lead time');
    await until(
      () => late.length >= dues.length,
      dues.at(-1)! - Date.now() + 60_000,
      'every graphile-worker job',
    );
    return summarise(late);
  } finally {
    await r.stop();
    await u.release();
  }
}

/** Acknowledged `addJob`s per second with `callers` concurrent callers, `total` in all. */
export async function graphileAddRate(url: string, total: number, callers: number): Promise<number> {
  const u = await utils(url);
  try {
    const far = new Date(Date.now() + 3_600_000);
    return await callersRate(total, callers, () => u.addJob('job', { type: 'job' }, { runAt: far }));
  } finally {
    await u.release();
  }
}

/**
 * Backlog drain: `total` jobs all due before the runner starts, run by a no-op task. Timed from
 * `run` to the moment its jobs table is empty (a job's row is deleted when it completes);
 * `handlerPerS` to the last task call.
 */
export async function graphileDrain(
  url: string,
  total: number,
): Promise<{ perS: number; handlerPerS: number }> {
  const u = await utils(url);
  try {
    const due = Date.now() - 1000;
    await addAll(
      u,
      Array.from({ length: total }, () => due),
      1000,
      4,
    );
    let handled = 0;
    let lastHandled = 0;
    const t0 = performance.now();
    const r = await runner(url, async () => {
      handled++;
      if (handled === total) lastHandled = performance.now();
    });
    try {
      await until(() => handled >= total, 600_000, 'every graphile-worker task call', 20);
      while ((await remaining(u)) > 0) await sleep(20);
      const ms = performance.now() - t0;
      return { perS: (total / ms) * 1000, handlerPerS: (total / (lastHandled - t0)) * 1000 };
    } finally {
      await r.stop();
    }
  } finally {
    await u.release();
  }
}
