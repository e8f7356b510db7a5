/**
 * Administration while a child restarts. Every supervisor operation runs through one queue in
 * arrival order, so an operation that arrives while a restart waits for `readyWhen` is answered
 * once the restart is done, as OTP's gen_server answers it: never a second incarnation, never an
 * incarnation without a supervisor, never a status that lies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { AlreadyRunningError, type ManualClock, type Runtime, supervisor, worker } from '../src/index.js';
import {
  drained,
  exitHandled,
  isReady,
  LiveActors,
  manualRuntime,
  nameInput,
  probe,
  record,
} from './helpers.js';

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

/** A runtime whose child A becomes ready 100 ms after each start. */
async function slowChild(backoff?: { minMs: number; maxMs: number; factor: number }): Promise<{
  runtime: Runtime;
  clock: ManualClock;
  live: LiveActors;
}> {
  const { runtime, clock } = manualRuntime();
  current = runtime;
  const live = new LiveActors();
  const starting = runtime.start(
    [
      worker('A', live.machine({ readyAfterMs: 100 }), {
        input: nameInput,
        readyWhen: isReady,
        backoff,
      }),
    ],
    { maxRestarts: 10, withinMs: 10_000 },
  );
  await clock.advance(100);
  await starting;
  return { runtime, clock, live };
}

/** Crashes A and resolves once its next incarnation has started (and is not ready yet). */
async function crashAndRestart(runtime: Runtime): Promise<void> {
  const restarted = runtime.events.waitFor('actor.started', (e) => e.name === 'A' && e.incarnation === 2);
  runtime.send('A', { type: 'CRASH' });
  await restarted;
}

describe('an operation that arrives while a restart waits for readyWhen', () => {
  it('deleteChild is answered after the restart: the child runs, so it is refused (ALREADY_RUNNING)', async () => {
    const { runtime, clock, live } = await slowChild();
    await crashAndRestart(runtime);
    const deleting = runtime.deleteChild('A').catch((err: unknown) => err);
    await clock.advance(100);
    expect(await deleting).toMatchObject({ code: 'ALREADY_RUNNING', operation: 'deleteChild' });
    expect(runtime.whichChildren()).toEqual([
      expect.objectContaining({ id: 'A', status: 'running', incarnation: 2 }),
    ]);
    await runtime.stop();
    expect(live.total()).toBe(0);
  });

  it('restartChild is refused with AlreadyRunningError: never two incarnations', async () => {
    const { runtime, clock, live } = await slowChild();
    await crashAndRestart(runtime);
    const restarting = runtime.restartChild('A').catch((err: unknown) => err);
    await clock.advance(100);
    expect(await restarting).toBeInstanceOf(AlreadyRunningError);
    expect(live.incarnationsOf('A')).toBe(1);
    expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: 2 });
  });

  it('terminateChild stops the restarted incarnation: whichChildren says stopped and nothing runs', async () => {
    const { runtime, clock, live } = await slowChild();
    await crashAndRestart(runtime);
    const terminating = runtime.terminateChild('A');
    await clock.advance(100);
    await terminating;
    expect(runtime.whichChildren()[0]).toMatchObject({ status: 'stopped', incarnation: 2 });
    expect(runtime.status('A')).toBe('down');
    expect(live.of('A')).toBe(0);
  });

  it('runtime.stop() abandons the start in progress and leaves nothing alive', async () => {
    const { runtime, live } = await slowChild();
    await crashAndRestart(runtime);
    await runtime.stop();
    expect(live.total()).toBe(0);
    expect(runtime.status('A')).not.toBe('running');
  });
});

describe('an operation that arrives during a backoff delay (the child is restarting, not running)', () => {
  const backoff = { minMs: 500, maxMs: 500, factor: 1 };

  async function crashIntoBackoff(runtime: Runtime): Promise<void> {
    const announced = runtime.events.waitFor('actor.restarted', (e) => e.name === 'A');
    runtime.send('A', { type: 'CRASH' });
    await announced;
    expect(runtime.whichChildren()[0]).toMatchObject({ status: 'restarting', incarnation: 1 });
  }

  it('terminateChild cancels the pending restart; the child stays stopped', async () => {
    const { runtime, clock, live } = await slowChild(backoff);
    await crashIntoBackoff(runtime);
    await runtime.terminateChild('A');
    await clock.advance(1000);
    expect(runtime.whichChildren()[0]).toMatchObject({ status: 'stopped', incarnation: 1 });
    expect(live.of('A')).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('restartChild starts it now, and the delay no longer restarts it a second time', async () => {
    const { runtime, clock, live } = await slowChild(backoff);
    await crashIntoBackoff(runtime);
    const restarting = runtime.restartChild('A');
    await clock.advance(100); // ready
    await restarting;
    await clock.advance(1000); // past the cancelled delay
    expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: 2 });
    expect(live.incarnationsOf('A')).toBe(1);
  });

  it('deleteChild removes it and cancels the restart', async () => {
    const { runtime, clock, live } = await slowChild(backoff);
    await crashIntoBackoff(runtime);
    await runtime.deleteChild('A');
    await clock.advance(1000);
    expect(runtime.whichChildren()).toEqual([]);
    expect(runtime.status('A')).toBe('undeclared');
    expect(live.of('A')).toBe(0);
  });
});

describe('a group waiting out the failed child’s backoff (one_for_all)', () => {
  async function groupInBackoff() {
    const { runtime, clock } = manualRuntime();
    current = runtime;
    await runtime.start(
      [worker('A', probe, { backoff: { minMs: 300, maxMs: 300, factor: 1 } }), worker('B', probe)],
      { strategy: 'one_for_all', maxRestarts: 10, withinMs: 10_000 },
    );
    await exitHandled(runtime, 'A', 'error');
    expect(runtime.whichChildren().map((c) => c.status)).toEqual(['restarting', 'restarting']);
    return { runtime, clock };
  }

  it.each(['terminateChild', 'deleteChild'] as const)(
    '%s of the failed child cancels its restart only: the rest of the group still restarts',
    async (op) => {
      const { runtime, clock } = await groupInBackoff();
      await runtime[op]('A');
      await clock.advance(300);
      expect(runtime.status('B')).toBe('running');
      expect(runtime.status('A')).toBe(op === 'deleteChild' ? 'undeclared' : 'down');
      expect(clock.pendingTimers).toBe(0);
    },
  );

  it('terminateChild of every member cancels the delay', async () => {
    const { runtime, clock } = await groupInBackoff();
    await runtime.terminateChild('B');
    await runtime.terminateChild('A');
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(300);
    expect(runtime.whichChildren().map((c) => c.status)).toEqual(['stopped', 'stopped']);
  });
});

describe('operations queued behind a shutdown', () => {
  it('are refused with ACTOR_DOWN and start nothing', async () => {
    const { runtime, clock } = manualRuntime();
    current = runtime;
    const live = new LiveActors();
    const slow = worker('A', live.machine({ readyAfterMs: 100 }), { input: nameInput, readyWhen: isReady });
    const starting = runtime.start([supervisor('S', [slow], { maxRestarts: 5 })]);
    await clock.advance(100);
    await starting;
    await crashAndRestart(runtime); // S's queue is held by A's restart
    const terminating = runtime.terminateChild('S');
    const late = runtime
      .startChild(worker('B', live.machine(), { input: nameInput }), 'S')
      .catch((err: unknown) => err);
    await terminating;
    expect(await late).toMatchObject({ code: 'ACTOR_DOWN', actor: 'S' });
    expect(live.total()).toBe(0);
    expect(runtime.status('B')).toBe('undeclared');
  });
});

describe('a restart that fails', () => {
  it('is tried again (OTP try_again_restart) and counts against the intensity', async () => {
    const { runtime } = manualRuntime();
    current = runtime;
    const failsSecond = setup({ types: { input: {} as { fail: boolean } } }).createMachine({
      entry: ({ event }) => {
        if ((event as { input?: { fail: boolean } }).input?.fail) throw new Error('cannot start');
      },
      on: {
        CRASH: {
          actions: () => {
            throw new Error('boom');
          },
        },
      },
    });
    const log = record(runtime, ['actor.crashed', 'actor.started']);
    await runtime.start(
      [
        worker('A', failsSecond, {
          input: ({ incarnation }: { incarnation: number }) => ({ fail: incarnation === 2 }),
        }),
      ],
      {
        maxRestarts: 2,
        withinMs: 10_000,
      },
    );
    const third = runtime.events.waitFor('actor.started', (e) => e.name === 'A' && e.incarnation === 3);
    runtime.send('A', { type: 'CRASH' });
    await third;
    await drained(runtime);
    expect(log.map((e) => `${e.event}:${e.name}@${e.incarnation}`)).toEqual([
      'actor.started:A@1',
      'actor.started:root@1',
      'actor.crashed:A@1',
      'actor.crashed:A@2',
      'actor.started:A@3',
    ]);
    expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: 3 });
  });
});

describe('after the runtime stopped', () => {
  it.each(['startChild', 'terminateChild', 'restartChild', 'deleteChild'] as const)(
    '%s is refused with RUNTIME_STOPPED',
    async (op) => {
      const { runtime } = manualRuntime();
      await runtime.start([worker('A', probe)]);
      await runtime.stop();
      const attempt = op === 'startChild' ? runtime.startChild(worker('B', probe)) : runtime[op]('A');
      await expect(attempt).rejects.toMatchObject({ code: 'RUNTIME_STOPPED' });
      expect(runtime.status('B')).toBe('undeclared');
    },
  );
});
