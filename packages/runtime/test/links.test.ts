/**
 * Links: nothing outlives what started it. An incarnation that exits, for any reason, takes the
 * actors it invoked or spawned with it; a supervisor that exits (normally, on escalation, or
 * killed on its shutdown timeout) stops its whole subtree before its exit is reported upward;
 * `runtime.stop()` resolves only when nothing is alive. Liveness is counted by the trackers of
 * `LiveActors` (real XState actors), not read from the registry.
 *
 * These tests also pin the XState internal Vigil relies on to stop the children of an actor
 * that ended in `error` (`_stop` on a child ref): an upgrade that changes it fails here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Runtime, supervisor, worker } from '../src/index.js';
import {
  LiveActors,
  makeExit,
  manualRuntime,
  nameInput,
  REASONS,
  type ReasonName,
  record,
} from './helpers.js';

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

function setupRuntime() {
  const made = manualRuntime();
  current = made.runtime;
  return { ...made, live: new LiveActors() };
}

describe('an incarnation that exits stops what it invoked and spawned', () => {
  it.each(REASONS)(
    'exit %s, five times: one incarnation’s actors are alive, not six',
    async (reason: ReasonName) => {
      const { runtime, live } = setupRuntime();
      await runtime.start([worker('A', live.machine(), { input: nameInput })], {
        maxRestarts: 10,
        withinMs: 10_000,
      });
      expect(live.of('A')).toBe(2);
      for (let i = 1; i <= 5; i++) {
        const next = runtime.events.waitFor(
          'actor.started',
          (e) => e.name === 'A' && e.incarnation === i + 1,
        );
        makeExit(runtime, 'A', reason);
        await next;
      }
      expect(live.of('A')).toBe(2);
      await runtime.stop();
      expect(live.total()).toBe(0);
    },
  );

  it('a temporary child that crashes leaves nothing behind', async () => {
    const { runtime, live } = setupRuntime();
    await runtime.start([worker('T', live.machine(), { input: nameInput, restart: 'temporary' })]);
    const gone = runtime.events.waitFor('actor.crashed', (e) => e.name === 'T');
    runtime.send('T', { type: 'CRASH' });
    await gone;
    expect(live.of('T')).toBe(0);
  });
});

describe('a supervisor that exits stops its subtree first', () => {
  it('killed on its shutdown timeout, it does not orphan a trapExit child with shutdown infinity', async () => {
    const { runtime, clock, live } = setupRuntime();
    const log = record(runtime, ['actor.stopped', 'actor.crashed']);
    await runtime.start([
      supervisor(
        'S',
        [
          worker('T', live.machine({ stubborn: true }), {
            input: nameInput,
            trapExit: true,
            shutdown: 'infinity',
          }),
        ],
        { shutdown: 100 },
      ),
    ]);
    const stopping = runtime.stop();
    await clock.advance(100);
    await stopping;
    expect(live.total()).toBe(0);
    expect(runtime.status('T')).toBe('down');
    // T's exit is reported before S's, S's before the root's.
    expect(log.map((e) => [e.name, e.reason.kind])).toEqual([
      ['T', 'killed'],
      ['S', 'killed'],
      ['root', 'shutdown'],
    ]);
  });

  it('escalating, it stops every descendant before its parent hears of it', async () => {
    const { runtime, live } = setupRuntime();
    const order: string[] = [];
    runtime.events.on('actor.stopped', (e) => order.push(`${e.name}:${e.reason.kind}`));
    runtime.events.on('actor.crashed', (e) => order.push(`${e.name}:${e.reason.kind}`));
    await runtime.start([
      supervisor(
        'S',
        [
          worker('W', live.machine(), { input: nameInput }),
          supervisor('Inner', [worker('X', live.machine(), { input: nameInput })]),
        ],
        { maxRestarts: 0, restart: 'transient' },
      ),
    ]);
    const down = runtime.events.waitFor('actor.stopped', (e) => e.name === 'S');
    runtime.send('W', { type: 'CRASH' });
    await down;
    expect(live.total()).toBe(0);
    expect(order.indexOf('S:shutdown')).toBe(order.length - 1);
    expect(order).toEqual(expect.arrayContaining(['X:shutdown', 'Inner:shutdown']));
  });

  it('killed from outside (runtime.exit), it kills its subtree at once', async () => {
    const { runtime, live } = setupRuntime();
    await runtime.start(
      [
        supervisor(
          'S',
          [
            worker('A', live.machine(), { input: nameInput }),
            worker('B', live.machine(), { input: nameInput }),
          ],
          {
            maxRestarts: 5,
          },
        ),
      ],
      { maxRestarts: 5 },
    );
    const restarted = runtime.events.waitFor('actor.started', (e) => e.name === 'S' && e.incarnation === 2);
    runtime.exit('S');
    await restarted;
    expect(live.of('A')).toBe(2);
    expect(live.of('B')).toBe(2);
    await runtime.stop();
    expect(live.total()).toBe(0);
  });
});
