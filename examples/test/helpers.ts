/** Shared by the examples' tests: drive a ManualClock until a program finishes, collect output. */
import type { ManualClock } from '@vigil/runtime';
import { plain } from '../src/lib/style.js';

/** 2026-03-02T08:00:00Z, a Monday: every in-process example test starts here. */
export const T0 = Date.UTC(2026, 2, 2, 8);

/**
 * Advances `clock` in steps of `stepMs` until `run` settles; fails if it has not after `maxMs` of
 * simulated time (a program that hangs is a failure, not a test timeout).
 */
export async function drive<T>(
  clock: ManualClock,
  run: Promise<T>,
  stepMs = 100,
  maxMs = 60_000,
): Promise<T> {
  let settled = false;
  const watched = run.finally(() => {
    settled = true;
  });
  for (let t = 0; !settled && t <= maxMs; t += stepMs) await clock.advance(stepMs);
  if (!settled) throw new Error(`still running after ${maxMs} ms of simulated time`);
  return watched;
}

/** A `print` that keeps the lines, colour codes removed. */
export function output(): { print: (line?: string) => void; lines: string[]; text: () => string } {
  const lines: string[] = [];
  return { print: (line = '') => lines.push(plain(line)), lines, text: () => lines.join('\n') };
}
