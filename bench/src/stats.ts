/**
 * Small measuring helpers shared by every case: a high-resolution wall clock, percentiles,
 * and the resident set size of a process.
 */
import { readFileSync } from 'node:fs';

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Due instants are whole epoch
 * milliseconds (what Vigil stores); lateness is this clock at the handler minus the due instant.
 * `performance.timeOrigin + performance.now()` can sit up to about 1 ms away from `Date.now()`,
 * so a system that fires as soon as `Date.now() >= due` may read a few tenths of a ms early here.
 */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** p50 / p99 / max of a sample, in the sample's unit. */
export interface Lateness {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1);
  return sorted[Math.max(0, index)]!;
}

export function summarise(samples: number[]): Lateness {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  return {
    p50: percentile(arr, 50),
    p99: percentile(arr, 99),
    max: arr.at(-1) ?? Number.NaN,
    count: arr.length,
  };
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export function rssOfPid(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** This process's RSS in MiB after a full GC (when `--expose-gc` is on) and a short settle. */
export async function settledRss(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(200);
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `check` is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function until(
  check: () => boolean,
  timeoutMs: number,
  what: string,
  everyMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Whole-millisecond due instants spread evenly over `spreadMs`, starting at `start`. */
export function dueInstants(count: number, start: number, spreadMs: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = start + Math.floor((i * spreadMs) / count);
  return out;
}
