/**
 * The drain loop's time budget: a turn stops handing out messages once it has run `turnMs`, so
 * many quick messages to one actor cannot hold the event loop for `budget` of them; the actors a
 * turn did not reach go first in the next. Each message here busy-waits a fixed time on
 * performance.now(): a loaded machine makes a message longer, never shorter, so the bounds below
 * hold however slow the machine is.
 */
import { afterEach, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import { createRuntime, InvalidRuntimeOptionError, type Runtime, worker } from '../src/index.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

/** Counts event-loop iterations: messages handled in one drain turn see the same tick. */
function ticker() {
  let tick = 0;
  let running = true;
  const step = () => {
    tick++;
    if (running) setImmediate(step);
  };
  setImmediate(step);
  return { now: () => tick, stop: () => (running = false) };
}

/** An actor that records (its name, n, tick) for each message, spinning `ms` on each. */
function spinner(
  name: string,
  ms: number,
  log: { name: string; n: number; tick: number }[],
  tick: () => number,
) {
  return worker(
    name,
    fromCallback(({ receive }) =>
      receive((e) => {
        spin(ms);
        log.push({ name, n: (e as unknown as { n: number }).n, tick: tick() });
      }),
    ),
  );
}

async function handled(log: unknown[], count: number): Promise<void> {
  while (log.length < count) await new Promise((r) => setImmediate(r));
}

it('a turn of 2 ms messages yields after about turnMs (5 ms), not after budget (64) messages', async () => {
  const log: { name: string; n: number; tick: number }[] = [];
  const t = ticker();
  runtime = createRuntime({ budget: 64 });
  await runtime.start([spinner('Busy', 2, log, t.now)]);
  for (let n = 0; n < 30; n++) runtime.send('Busy', { type: 'm', n });
  await handled(log, 30);
  t.stop();
  expect(log.map((l) => l.n)).toEqual([...Array(30).keys()]);
  const perTurn = new Map<number, number>();
  for (const l of log) perTurn.set(l.tick, (perTurn.get(l.tick) ?? 0) + 1);
  // Messages start at 0, 2 and 4 ms at the earliest; the one that would start at 6 waits.
  expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(3);
});

it('the message budget still applies when the time budget is large', async () => {
  const log: { name: string; n: number; tick: number }[] = [];
  const t = ticker();
  runtime = createRuntime({ budget: 10, turnMs: 60_000 });
  await runtime.start([spinner('Quick', 0, log, t.now)]);
  for (let n = 0; n < 35; n++) runtime.send('Quick', { type: 'm', n });
  await handled(log, 35);
  t.stop();
  const perTurn = new Map<number, number>();
  for (const l of log) perTurn.set(l.tick, (perTurn.get(l.tick) ?? 0) + 1);
  expect([...perTurn.values()]).toEqual([10, 10, 10, 5]);
});

it('actors a turn did not reach go first in the next one', async () => {
  const log: { name: string; n: number; tick: number }[] = [];
  const t = ticker();
  runtime = createRuntime({ budget: 64 });
  await runtime.start([
    spinner('A', 3, log, t.now),
    spinner('B', 3, log, t.now),
    spinner('C', 3, log, t.now),
  ]);
  for (let n = 0; n < 4; n++) for (const name of ['A', 'B', 'C']) runtime.send(name, { type: 'm', n });
  await handled(log, 12);
  t.stop();
  const first = (name: string) => log.findIndex((l) => l.name === name);
  const third = (name: string) => log.findIndex((l) => l.name === name && l.n === 2);
  // A's turn ran out of time after at most two messages; B and C had their first before A's third.
  expect(first('B')).toBeLessThan(third('A'));
  expect(first('C')).toBeLessThan(third('A'));
  for (const name of ['A', 'B', 'C'])
    expect(log.filter((l) => l.name === name).map((l) => l.n)).toEqual([0, 1, 2, 3]);
});

it('refuses a turnMs that is not a positive number', () => {
  for (const turnMs of [0, -1, Number.NaN, '5'])
    expect(() => createRuntime({ turnMs } as never)).toThrow(InvalidRuntimeOptionError);
});
