/**
 * The one target machine behind defineTarget and the HTTP targets: at most `concurrency`
 * deliveries in flight, the rest queued and started in arrival order as slots free; each
 * delivery answered once, with its own value or error.
 */
import { createRuntime, type Runtime, worker } from '@vigil/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { defineTarget, PermanentFailure } from '../src/target.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

/** A handler whose deliveries each wait for their own gate; records starts in order. */
function gated() {
  const started: number[] = [];
  const gates = new Map<number, () => void>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const handler = async (delivery: { type: string; n: number }) => {
    started.push(delivery.n);
    for (const w of waiters.filter((x) => started.length >= x.count)) w.resolve();
    await new Promise<void>((resolve) => gates.set(delivery.n, resolve));
    if (delivery.n === 3) throw new PermanentFailure('three is refused');
    return delivery.n * 10;
  };
  /** Resolves once `count` deliveries have started. */
  const startedCount = (count: number) =>
    new Promise<void>((resolve) => {
      if (started.length >= count) resolve();
      else waiters.push({ count, resolve });
    });
  return { handler, started, gates, startedCount };
}

describe('target machine: bounded concurrency', () => {
  it('runs at most `concurrency` deliveries at once, starts the queued ones in arrival order', async () => {
    const g = gated();
    runtime = createRuntime();
    await runtime.start([worker('Target', defineTarget(g.handler, { concurrency: 2 }))]);
    const rt = runtime;
    const answers = [1, 2, 3, 4].map((n) =>
      rt.call('Target', { type: 'job', n }).then(
        (value) => ({ n, value }),
        (err: { code?: string }) => ({ n, error: err.code }),
      ),
    );
    await g.startedCount(2);
    // Every pending continuation runs before a macrotask: a third start had every chance.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(g.started).toEqual([1, 2]);

    g.gates.get(2)?.();
    await g.startedCount(3);
    expect(g.started).toEqual([1, 2, 3]);
    g.gates.get(1)?.();
    await g.startedCount(4);
    expect(g.started).toEqual([1, 2, 3, 4]);
    g.gates.get(3)?.();
    g.gates.get(4)?.();

    expect(await Promise.all(answers)).toEqual([
      { n: 1, value: 10 },
      { n: 2, value: 20 },
      { n: 3, error: 'PERMANENT_FAILURE' },
      { n: 4, value: 40 },
    ]);
  });
});
