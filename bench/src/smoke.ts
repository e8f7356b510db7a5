/**
 * The CI benchmark smoke run: `pnpm bench:smoke`. A few seconds of small runs of `set`,
 * `setMany`, firing lateness and backlog drain, each beside the bare baseline it is measured
 * against (docs/BENCHMARKS.md), in this process, three interleaved rounds.
 *
 * It guards against a collapse, not a slowdown: a figure fails only when, in every one of the
 * three rounds, its ratio to the baseline of the same round is below its floor, a quarter of
 * the ratio it is held to: a quarter of its goal (`set` under 2.5x the naive insert instead of
 * 10x), or, for the drain, whose goal Vigil does not meet yet, a quarter of the lowest ratio
 * measured on a loaded machine (0.2 at load average 17 on 2 cores). Both sides of a ratio run
 * seconds apart on the same machine, so load moves them together; and a burst of outside load
 * spoils one round, not three. A real collapse (group commit lost, a commit per delivery, a
 * quadratic step, a timer that fires a whole slice late) is low in every round. Exit 1 with one
 * line per collapsed figure; the table is printed either way.
 */
import os from 'node:os';
import { setTimeoutLateness, sqliteBatchedRate, sqliteNaiveRate, storeDrainRate } from './baselines.js';
import { dueInstants } from './stats.js';
import { vigilDrain, vigilLateness, vigilSetManyRate, vigilSetRate } from './vigil.js';

const ROUNDS = 3;

/** One figure: how to measure Vigil and its baseline once, and the ratio it is held to. */
interface Check {
  name: string;
  /** Vigil's figure and the baseline's, same unit; higher is better once `ratio` is applied. */
  measure: () => Promise<{ vigil: number; baseline: number }>;
  /** Vigil relative to the baseline, higher is better. */
  ratio: (m: { vigil: number; baseline: number }) => number;
  /** The ratio the figure is held to (see the file header); a collapse is under a quarter of it. */
  held: number;
  unit: string;
  baselineName: string;
}

const CHECKS: Check[] = [
  {
    name: 'set, 100 callers, FULL',
    unit: '/s',
    baselineName: 'naive 1 insert/txn FULL',
    held: 10, // the goal
    measure: async () => ({ vigil: await vigilSetRate(2000, 100), baseline: sqliteNaiveRate(200) }),
    ratio: (m) => m.vigil / m.baseline,
  },
  {
    name: 'setMany, chunks of 1,000',
    unit: '/s',
    baselineName: 'bare batched insert',
    held: 0.7, // the goal
    measure: async () => ({
      vigil: await vigilSetManyRate(10_000, 1000),
      baseline: sqliteBatchedRate(10_000, 1000),
    }),
    ratio: (m) => m.vigil / m.baseline,
  },
  {
    name: 'firing lateness p99, 500 over 1 s',
    unit: ' ms',
    baselineName: 'bare setTimeout p99',
    held: 1, // the goal: p99 no worse than setTimeout's
    measure: async () => {
      // 500/s, well within what Vigil fires on a loaded machine (2,000/s fell behind at load 17):
      // this is lateness, not throughput, which the drain covers.
      const dues = () => dueInstants(500, Date.now() + 1500, 1000);
      const vigil = (await vigilLateness(dues())).p99;
      const baseline = (await setTimeoutLateness(dues())).p99;
      return { vigil, baseline };
    },
    // Lower is better here. Both p99s are read as at least 25 ms: below that is the scheduler's
    // noise on a shared machine, not a collapse (at load average 17 on 2 cores, setTimeout's p99
    // was 4 to 7 ms and Vigil's, which commits each delivery's outcome with an fsync, about 40);
    // a collapse is 100 ms and more, or a whole timer slice.
    ratio: (m) => Math.max(25, m.baseline) / Math.max(25, m.vigil),
  },
  {
    name: 'backlog drain, 10,000 due',
    unit: '/s',
    baselineName: 'the store alone draining',
    held: 0.2, // measured at load 17 (the goal is 0.9, not met yet: docs/BENCHMARKS.md)
    measure: async () => ({ vigil: (await vigilDrain(10_000)).perS, baseline: await storeDrainRate(10_000) }),
    ratio: (m) => m.vigil / m.baseline,
  },
];

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: n < 100 ? 2 : 0 });

async function main(): Promise<number> {
  const started = performance.now();
  const load = () => os.loadavg()[0]!.toFixed(2);
  console.log(`bench smoke: ${os.cpus().length} cores, load average ${load()}, ${ROUNDS} rounds`);
  // One small untimed pass first: the first round of a fresh process ran Vigil's code cold
  // (setMany at 0.17 of its baseline against 0.4 in the next rounds).
  await vigilSetRate(200, 100);
  await vigilSetManyRate(2000, 1000);
  await vigilDrain(1000);
  const runs = new Map<Check, { vigil: number; baseline: number; ratio: number }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const check of CHECKS) {
      const m = await check.measure();
      runs.set(check, [...(runs.get(check) ?? []), { ...m, ratio: check.ratio(m) }]);
    }
  }
  const collapsed: string[] = [];
  for (const check of CHECKS) {
    const all = runs.get(check)!;
    const ratios = all.map((r) => r.ratio);
    const floor = check.held / 4;
    const best = Math.max(...ratios);
    const mid = all.find((r) => r.ratio === median(ratios))!;
    console.log(
      `  ${check.name}: ${fmt(mid.vigil)}${check.unit} vs ${check.baselineName} ${fmt(mid.baseline)}${check.unit}` +
        ` -> ratio ${median(ratios).toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')};` +
        ` held to ${check.held}, collapse below ${floor.toFixed(3)})`,
    );
    if (best < floor) {
      collapsed.push(
        `COLLAPSE ${check.name}: ratio to ${check.baselineName} ${best.toFixed(3)} at best of ${ROUNDS} rounds, ` +
          `below a quarter of the ${check.held} it is held to (${floor.toFixed(3)})`,
      );
    }
  }
  console.log(`bench smoke: ${((performance.now() - started) / 1000).toFixed(1)} s, load average ${load()}`);
  for (const line of collapsed) console.error(line);
  if (collapsed.length === 0) console.log('bench smoke: no collapse');
  return collapsed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
