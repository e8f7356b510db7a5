/**
 * Supervisor conformance, after OTP's supervisor_SUITE: restart type × exit reason × strategy,
 * escalation through nested supervisors, the intensity window, start rollback, ordered
 * shutdown with a child that will not stop, brutal_kill, backoff and dynamic children.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import {
  AlreadyRunningError,
  createRuntime,
  DuplicateNameError,
  Exit,
  INTENSITY_EXIT,
  InvalidChildSpecError,
  type ManualClock,
  type Runtime,
  supervisor,
  validateChildSpec,
  worker,
} from '../src/index.js';
import {
  exitHandled,
  failsOnStart,
  incarnations,
  manualRuntime,
  probe,
  record,
  startedLog,
} from './helpers.js';

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

const boom = (): never => {
  throw new Error('boom');
};

function setupRuntime(options?: { budget?: number }): { runtime: Runtime; clock: ManualClock } {
  const made = manualRuntime(options);
  current = made.runtime;
  return made;
}

// The restart matrix (restart type × exit reason × strategy), siblings under one_for_all /
// rest_for_one, the intensity window, start rollback and ordered shutdown run in parity.test.ts,
// against in-thread and isolated actors alike. What follows needs in-thread logic (closures,
// readyWhen on a snapshot, nested supervisors' escalation) or is about the supervisor alone.

describe('siblings', () => {
  it('one_for_all restarts a sibling that had stopped normally (as OTP does)', async () => {
    const { runtime } = setupRuntime();
    await runtime.start([worker('A', probe), worker('B', probe, { restart: 'transient' })], {
      strategy: 'one_for_all',
      maxRestarts: 5,
    });
    await exitHandled(runtime, 'B', 'normal');
    expect(runtime.status('B')).toBe('down');
    await exitHandled(runtime, 'A', 'error');
    expect(incarnations(runtime)).toEqual({ A: 2, B: 2 });
    expect(runtime.status('B')).toBe('running');
  });
});

// -----------------------------------------------------------------------------------------
// Escalation.

describe('escalation', () => {
  it('worker → inner exceeds → outer restarts it → outer exceeds → root exceeds → runtime.fatal', async () => {
    const { runtime } = setupRuntime();
    const log = record(runtime, [
      'supervisor.escalated',
      'actor.stopped',
      'runtime.fatal',
      'runtime.stopped',
    ]);
    await runtime.start(
      [
        worker('Bystander', probe),
        supervisor('outer', [supervisor('inner', [worker('W', probe)], { maxRestarts: 1 })], {
          maxRestarts: 1,
        }),
      ],
      { maxRestarts: 0 },
    );
    const started = startedLog(runtime);

    const crashW = async () => {
      // The exit travels up: inner handles it, then outer, then the root.
      await exitHandled(runtime, 'W', 'error', 'inner', 'outer', 'root');
    };
    await crashW(); // inner restarts W (1 of 1)
    expect(started).toEqual(['W@2']);
    await crashW(); // inner exceeds; outer restarts inner (1 of 1)
    expect(started).toEqual(['W@2', 'W@1', 'inner@2']);
    expect(runtime.status('W')).toBe('running');
    await crashW(); // inner#2 restarts W
    await crashW(); // inner#2 exceeds; outer exceeds; root (0 allowed) exceeds

    const reason = await runtime.stopped;
    expect(reason).toEqual(INTENSITY_EXIT);
    expect(log.filter((e) => e.event === 'supervisor.escalated').map((e) => e.name)).toEqual([
      'inner',
      'inner',
      'outer',
      'root',
    ]);
    const fatal = log.findIndex((e) => e.event === 'runtime.fatal');
    expect(fatal).toBeGreaterThan(0);
    expect(log.at(-1)?.event).toBe('runtime.stopped');
    expect(runtime.state).toBe('stopped');
    for (const name of ['Bystander', 'outer', 'inner', 'W', 'root'])
      expect(runtime.status(name)).not.toBe('running');
    // The root stopped its remaining child on the way out.
    expect(log).toContainEqual(expect.objectContaining({ event: 'actor.stopped', name: 'Bystander' }));
  });

  it('a transient supervisor that exceeds its intensity is not restarted (its exit is a shutdown)', async () => {
    const { runtime } = setupRuntime();
    await runtime.start([
      supervisor('sub', [worker('W', probe)], { maxRestarts: 0, restart: 'transient' }),
      worker('Other', probe),
    ]);
    await exitHandled(runtime, 'W', 'error', 'sub', 'root');
    expect(runtime.status('sub')).toBe('down');
    expect(runtime.whichChildren()).toEqual([
      expect.objectContaining({ id: 'sub', status: 'stopped', incarnation: 1 }),
      expect.objectContaining({ id: 'Other', status: 'running', incarnation: 1 }),
    ]);
    expect(runtime.state).toBe('running');
  });
});

// -----------------------------------------------------------------------------------------
// Restart intensity: more than maxRestarts within withinMs (monotonic time).

describe('intensity window', () => {
  it('restarts that do not happen (transient normal exit, temporary) do not count', async () => {
    const { runtime } = setupRuntime();
    await runtime.start(
      [worker('T', probe, { restart: 'transient' }), worker('X', probe, { restart: 'temporary' })],
      { maxRestarts: 0 },
    );
    await exitHandled(runtime, 'T', 'normal');
    await exitHandled(runtime, 'X', 'error');
    expect(runtime.state).toBe('running');
  });
});

// -----------------------------------------------------------------------------------------
// Start: ordered, and rolled back on failure.

describe('start', () => {
  it('starts children in order', async () => {
    const { runtime } = setupRuntime();
    const started = startedLog(runtime);
    await runtime.start([worker('A', probe), supervisor('S', [worker('S1', probe)]), worker('B', probe)]);
    expect(started).toEqual(['A@1', 'S1@1', 'S@1', 'B@1', 'root@1']);
  });

  it('a failure deep in a nested supervisor names the innermost child', async () => {
    const runtime = createRuntime();
    const error = await runtime
      .start([worker('A', probe), supervisor('S', [worker('S1', probe), worker('S2', failsOnStart)])])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'START_FAILED', supervisor: 'S', child: 'S2' });
  });
});

// -----------------------------------------------------------------------------------------
// Shutdown: reverse start order, a time budget per child.

describe('shutdown', () => {
  it('stop is idempotent and resolves `stopped` with shutdown', async () => {
    const { runtime } = setupRuntime();
    await runtime.start([worker('A', probe)]);
    const first = runtime.stop();
    expect(runtime.stop()).toBe(first);
    await first;
    expect(await runtime.stopped).toEqual(Exit.shutdown);
  });

  it('stopping while a restart waits for readyWhen leaves no orphan running', async () => {
    const warmsUp = setup({}).createMachine({
      initial: 'warming',
      states: { warming: { after: { 100: 'ready' } }, ready: { on: { CRASH: { actions: () => boom() } } } },
    });
    const { runtime, clock } = setupRuntime();
    const starting = runtime.start([
      worker('A', warmsUp, { readyWhen: (snapshot) => (snapshot as { value?: unknown }).value === 'ready' }),
    ]);
    await clock.advance(100);
    await starting;
    const restarting = runtime.events.waitFor('actor.started', (e) => e.name === 'A' && e.incarnation === 2);
    runtime.send('A', { type: 'CRASH' });
    await restarting; // A@2 is starting, waiting to be ready
    await runtime.stop();
    await clock.advance(100); // A@2 would become ready now
    expect(runtime.status('A')).not.toBe('running');
    expect(runtime.snapshot('A')).toBeUndefined();
  });
});

// -----------------------------------------------------------------------------------------
// Backoff: minMs * factor^(n-1), capped at maxMs; reset once the child stays up for withinMs.

describe('backoff', () => {
  it('delays consecutive restarts 100, 200, 400, 500 (cap), then resets after a quiet period', async () => {
    const { runtime, clock } = setupRuntime();
    const delays = record(runtime, ['actor.restarted']);
    await runtime.start([worker('A', probe, { backoff: { minMs: 100, maxMs: 500, factor: 2 } })], {
      maxRestarts: 100,
      withinMs: 10_000,
    });
    for (const [i, delay] of [100, 200, 400, 500, 500].entries()) {
      await exitHandled(runtime, 'A', 'error');
      expect(runtime.whichChildren()[0]).toMatchObject({ status: 'restarting', incarnation: i + 1 });
      runtime.send('A', { type: 'INC' }); // a dead letter while restarting
      await clock.advance(delay - 1);
      expect(runtime.status('A')).toBe('down');
      await clock.advance(1);
      expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: i + 2 });
    }
    expect(delays.map((e) => e.delayMs)).toEqual([100, 200, 400, 500, 500]);
    expect(runtime.deadLetters).toBe(5);

    await clock.advance(10_000); // up for withinMs: the failure count resets
    await exitHandled(runtime, 'A', 'error');
    expect(delays.at(-1)).toMatchObject({ delayMs: 100 });
  });

  it.each(['one_for_all', 'rest_for_one'] as const)(
    '%s: the failed child’s backoff delays its whole group, and each restart is announced',
    async (strategy) => {
      const { runtime, clock } = setupRuntime();
      const restarted = record(runtime, ['actor.restarted']);
      await runtime.start(
        [
          supervisor(
            'group',
            [worker('A', probe, { backoff: { minMs: 300, maxMs: 300, factor: 1 } }), worker('B', probe)],
            { strategy, maxRestarts: 10, withinMs: 10_000 },
          ),
        ],
        { maxRestarts: 10, withinMs: 10_000 },
      );
      await exitHandled(runtime, 'A', 'error', 'group');
      expect(restarted.map((e) => [e.name, e.delayMs])).toEqual([
        ['A', 300],
        ['B', 300],
      ]);
      expect([runtime.status('A'), runtime.status('B')]).toEqual(['down', 'down']);
      await clock.advance(299);
      expect(runtime.status('A')).toBe('down');
      await clock.advance(1);
      expect(incarnations(runtime, 'group')).toEqual({ A: 2, B: 2 });
    },
  );

  it('stopping during a backoff delay cancels the restart', async () => {
    const { runtime, clock } = setupRuntime();
    await runtime.start([worker('A', probe, { backoff: { minMs: 100, maxMs: 100, factor: 1 } })]);
    await exitHandled(runtime, 'A', 'error');
    await runtime.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});

// -----------------------------------------------------------------------------------------
// Dynamic children and spec validation.

describe('dynamic children', () => {
  it('startChild / terminateChild / restartChild / deleteChild / whichChildren', async () => {
    const { runtime } = setupRuntime();
    await runtime.start([worker('A', probe), supervisor('S', [])]);
    await runtime.startChild(worker('D', probe));
    await runtime.startChild(worker('E', probe), 'S');
    expect(runtime.whichChildren().map((c) => c.id)).toEqual(['A', 'S', 'D']);
    expect(runtime.whichChildren('S')).toEqual([
      { id: 'E', type: 'worker', restart: 'permanent', status: 'running', incarnation: 1 },
    ]);

    await runtime.terminateChild('D');
    expect(runtime.whichChildren().at(-1)).toMatchObject({ id: 'D', status: 'stopped' });
    expect(runtime.status('D')).toBe('down');

    await runtime.restartChild('D');
    expect(runtime.whichChildren().at(-1)).toMatchObject({ id: 'D', status: 'running', incarnation: 2 });

    // OTP refuses to delete a running child ({error, running}): stop it first.
    await expect(runtime.deleteChild('D')).rejects.toMatchObject({
      code: 'ALREADY_RUNNING',
      child: 'D',
      operation: 'deleteChild',
    });
    await expect(runtime.restartChild('D')).rejects.toBeInstanceOf(AlreadyRunningError);
    expect(runtime.whichChildren().at(-1)).toMatchObject({ id: 'D', status: 'running', incarnation: 2 });
    await runtime.terminateChild('D');
    await runtime.deleteChild('D');
    expect(runtime.whichChildren().map((c) => c.id)).toEqual(['A', 'S']);
    expect(runtime.status('D')).toBe('undeclared');

    // A name freed by deleteChild can be used again.
    await runtime.startChild(worker('D', probe));
    expect(runtime.status('D')).toBe('running');
  });

  it('terminateChild of a temporary child removes its spec', async () => {
    const { runtime } = setupRuntime();
    await runtime.start([worker('T', probe, { restart: 'temporary' })]);
    await runtime.terminateChild('T');
    expect(runtime.whichChildren()).toEqual([]);
  });

  it.each([
    ['duplicate name', () => worker('A', probe), 'root', 'DUPLICATE_NAME'],
    ['under a worker', () => worker('X', probe), 'A', 'NOT_A_SUPERVISOR'],
    ['under an unknown name', () => worker('X', probe), 'nope', 'UNKNOWN_ACTOR'],
    ['start failure', () => worker('X', failsOnStart), 'root', 'START_FAILED'],
    ['invalid raw spec', () => ({ type: 'worker', id: 'X' }) as never, 'root', 'INVALID_CHILD_SPEC'],
  ])('startChild rejects (%s) with %s… and changes nothing', async (_label, spec, under, code) => {
    const { runtime } = setupRuntime();
    await runtime.start([worker('A', probe)]);
    const before = runtime.whichChildren();
    await expect(runtime.startChild(spec(), under)).rejects.toMatchObject({ code });
    expect(runtime.whichChildren()).toEqual(before);
    expect(runtime.status('X')).toBe('undeclared');
  });

  it('unknown child ids are rejected with UNKNOWN_CHILD', async () => {
    const { runtime } = setupRuntime();
    await runtime.start([worker('A', probe)]);
    for (const op of [runtime.terminateChild('Z'), runtime.restartChild('Z'), runtime.deleteChild('Z')]) {
      await expect(op).rejects.toMatchObject({ code: 'UNKNOWN_CHILD', child: 'Z', supervisor: 'root' });
    }
  });

  it('a child spec name already used under another supervisor is a DuplicateNameError', async () => {
    const { runtime } = setupRuntime();
    await runtime.start([supervisor('S', [worker('A', probe)])]);
    await expect(runtime.startChild(worker('A', probe))).rejects.toBeInstanceOf(DuplicateNameError);
  });
});

describe('child spec validation names the child and the field', () => {
  const logic = probe;
  it.each([
    ['A', 'restart', () => worker('A', logic, { restart: 'sometimes' as never })],
    ['A', 'shutdown', () => worker('A', logic, { shutdown: -1 })],
    ['A', 'shutdown', () => worker('A', logic, { shutdown: 'later' as never })],
    ['A', 'logic', () => worker('A', {} as never)],
    ['A', 'trapExit', () => worker('A', logic, { trapExit: 'yes' as never })],
    ['A', 'readyWhen', () => worker('A', logic, { readyWhen: 1 as never })],
    ['A', 'startTimeoutMs', () => worker('A', logic, { startTimeoutMs: Number.NaN })],
    ['A', 'backoff.maxMs', () => worker('A', logic, { backoff: { minMs: 10, maxMs: 5, factor: 2 } })],
    ['A', 'backoff.factor', () => worker('A', logic, { backoff: { minMs: 10, maxMs: 50, factor: 0.5 } })],
    ['', 'id', () => worker('', logic)],
    ['?', 'id', () => worker(42 as never, logic)],
    ['bad\nname', 'id', () => worker('bad\nname', logic)],
    ['B', 'id', () => supervisor('S', [worker('B', logic), worker('B', logic)])],
    ['S', 'children', () => supervisor('S', 'none' as never)],
    ['X', 'type', () => validateChildSpec({ type: 'process', id: 'X', restart: 'permanent', shutdown: 1 })],
  ])('child %s, field %s', (child, field, build) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidChildSpecError);
    expect(error).toMatchObject({ code: 'INVALID_CHILD_SPEC', child, field });
    expect((error as Error).message).toContain(`'${field}'`);
  });

  it.each([
    ['strategy', { strategy: 'one_for_some' as never }],
    ['maxRestarts', { maxRestarts: -1 }],
    ['maxRestarts', { maxRestarts: 1.5 }],
    ['withinMs', { withinMs: 0 }],
  ])('supervisor option %s', (field, options) => {
    expect(() => supervisor('S', [], options)).toThrow(
      expect.objectContaining({ code: 'INVALID_SUPERVISOR_OPTIONS', supervisor: 'S', field }),
    );
  });
});
