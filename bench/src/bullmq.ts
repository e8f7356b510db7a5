/**
 * BullMQ's side of every comparison, with its defaults unless a comment says otherwise. Jobs are
 * delayed jobs (`opts.delay`), the way BullMQ schedules work for later. Workers run with
 * `concurrency: 100` (BullMQ's default is 1, which cannot keep up with 5,000 jobs/s; 100 is a
 * common production setting for light handlers).
 */
import { Queue, Worker } from 'bullmq';
import { type Lateness, settledRss, summarise, until, wallNow } from './stats.js';

export const WORKER_CONCURRENCY = 100;

const connection = (port: number) => ({ host: '127.0.0.1', port, maxRetriesPerRequest: null });

/** Delay (ms from now) for a job due at `due`, at least 1 ms (0 would make it a plain job). */
const delayFor = (due: number): number => Math.max(1, due - Date.now());

/** Adds one delayed job per instant of `dues` with `addBulk` chunks of `chunk`, `parallel` in flight. */
async function addAll(queue: Queue, dues: number[], chunk: number, parallel = 1): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < dues.length) {
      const start = next;
      next += chunk;
      const jobs = dues.slice(start, start + chunk).map((due) => ({
        name: 'job',
        data: { type: 'job' },
        opts: { delay: delayFor(due) },
      }));
      await queue.addBulk(jobs);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

/**
 * Lateness at the processor of delayed jobs due at `dues`. Measured against BullMQ's own due
 * instant (`job.timestamp + job.opts.delay`, fixed when the job object is built; `job.delay` itself
 * reads 0 once the job has been promoted), so the time spent
 * building and sending the bulk is not counted against it.
 */
export async function bullLateness(port: number, dues: number[]): Promise<Lateness> {
  const queue = new Queue('lateness', { connection: connection(port) });
  const late: number[] = [];
  const worker = new Worker(
    'lateness',
    async (job) => {
      late.push(wallNow() - (job.timestamp + (job.opts.delay ?? 0)));
    },
    { connection: connection(port), concurrency: WORKER_CONCURRENCY },
  );
  try {
    await worker.waitUntilReady();
    await addAll(queue, dues, 1000);
    if (Date.now() >= dues[0]!) throw new Error('scheduling took longer than the lead time');
    await until(() => late.length >= dues.length, dues.at(-1)! - Date.now() + 60_000, 'every BullMQ job');
    return summarise(late);
  } finally {
    await worker.close();
    await queue.close();
  }
}

/** Acknowledged `add`s per second with `callers` concurrent callers, `total` in all. */
export async function bullAddRate(port: number, total: number, callers: number): Promise<number> {
  const queue = new Queue('add', { connection: connection(port) });
  try {
    await queue.waitUntilReady();
    let next = 0;
    const caller = async (): Promise<void> => {
      while (next < total) {
        next++;
        await queue.add('job', { type: 'job' }, { delay: 3_600_000 });
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: callers }, caller));
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    await queue.close();
  }
}

/** Acknowledged jobs per second through `addBulk` chunks of `chunk`, one chunk at a time. */
export async function bullAddBulkRate(port: number, total: number, chunk: number): Promise<number> {
  const queue = new Queue('bulk', { connection: connection(port) });
  try {
    await queue.waitUntilReady();
    const far = Date.now() + 3_600_000;
    const dues = Array.from({ length: total }, (_, i) => far + i);
    const t0 = performance.now();
    await addAll(queue, dues, chunk);
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    await queue.close();
  }
}

/**
 * Backlog drain: `total` delayed jobs that are all due before any worker runs, processed by a
 * no-op processor. Timed from creating the Worker to its last `completed` event (BullMQ emits it
 * after the job is moved to `completed` in Redis); `handlerPerS` to the last processor call.
 */
export async function bullDrain(port: number, total: number): Promise<{ perS: number; handlerPerS: number }> {
  const queue = new Queue('drain', { connection: connection(port) });
  try {
    const due = Date.now() + 1000;
    await addAll(
      queue,
      Array.from({ length: total }, () => due),
      1000,
      4,
    );
    while (Date.now() <= due + 50) await new Promise((r) => setTimeout(r, 20));
    let handled = 0;
    let lastHandled = 0;
    let completed = 0;
    const t0 = performance.now();
    const worker = new Worker(
      'drain',
      async () => {
        handled++;
        if (handled === total) lastHandled = performance.now();
      },
      { connection: connection(port), concurrency: WORKER_CONCURRENCY },
    );
    worker.on('completed', () => {
      completed++;
    });
    try {
      await until(() => completed >= total, 600_000, 'the BullMQ backlog to drain', 20);
      const ms = performance.now() - t0;
      return { perS: (total / ms) * 1000, handlerPerS: (total / (lastHandled - t0)) * 1000 };
    } finally {
      await worker.close();
    }
  } finally {
    await queue.close();
  }
}

/** Adds `total` delayed jobs (an hour ahead) to queue 'pending'; returns jobs/s. */
export async function bullPopulate(port: number, total: number): Promise<number> {
  const queue = new Queue('pending', { connection: connection(port) });
  try {
    const far = Date.now() + 3_600_000;
    const t0 = performance.now();
    await addAll(
      queue,
      Array.from({ length: total }, (_, i) => far + i),
      5000,
      4,
    );
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    await queue.close();
  }
}

/** RSS (MiB) of this process running a Worker on queue 'pending', once it is ready and idle. */
export async function bullHoldRss(port: number): Promise<{ rssMb: number; pending: number }> {
  const worker = new Worker('pending', async () => {}, {
    connection: connection(port),
    concurrency: WORKER_CONCURRENCY,
  });
  try {
    await worker.waitUntilReady();
    // Let it make its first fetch (it finds only delayed jobs and blocks until the earliest).
    await new Promise((r) => setTimeout(r, 1000));
    const rssMb = await settledRss();
    // Counted after the measurement, so the Queue's own connection is not in it.
    const queue = new Queue('pending', { connection: connection(port) });
    const pending = await queue.getDelayedCount();
    await queue.close();
    return { rssMb, pending };
  } finally {
    await worker.close();
  }
}
