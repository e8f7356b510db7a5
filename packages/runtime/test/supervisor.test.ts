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
  type RestartType,
  type Runtime,
  StartError,
  type Strategy,
  supervisor,
  validateChildSpec,
  worker,
} from '../src/index.js';
import {
  exitHandled,
  failsOnStart,
  incarnations,
  makeExit,
  manualRuntime,
  probe,
  type ReasonName,
  record,
  startedLog,
  stubborn,
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

// -----------------------------------------------------------------------------------------
// The matrix. Children A, B, C start in that order; B has the restart type under test (A and C
// are permanent) and exits with the reason under test.
//
// restart type  | normal | shutdown | error | killed
// permanent     | yes    | yes      | yes   | yes
// transient     | no     | no       | yes   | yes
// temporary     | no, spec removed (all reasons)
//
// and when B restarts, the strategy says who restarts with it:
// one_for_one: B; one_for_all: A, B, C; rest_for_one: B, C.

const restartTypes: RestartType[] = ['permanent', 'transient', 'temporary'];
const reasons: ReasonName[] = ['normal', 'shutdown', 'error', 'killed'];
const strategies: Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one'];

function restarts(restart: RestartType, reason: ReasonName): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'transient') return reason === 'error' || reason === 'killed';
  return false;
}

const restartedWithB: Record<Strategy, string[]> = {
  one_for_one: ['B'],
  one_for_all: ['A', 'B', 'C'],
  rest_for_one: ['B', 'C'],
};

interface MatrixCase {
  strategy: Strategy;
  restart: RestartType;
  reason: ReasonName;
  /** Incarnation of each remaining child afterwards; B absent when its spec is removed. */
  expected: Record<string, number>;
  bStatus: 'running' | 'down' | 'undeclared';
}

const matrix: MatrixCase[] = strategies.flatMap((strategy) =>
  restartTypes.flatMap((restart) =>
    reasons.map((reason): MatrixCase => {
      const again = restarts(restart, reason);
      const expected: Record<string, number> = {};
      for (const id of ['A', 'B', 'C']) {
        if (id === 'B' && restart === 'temporary') continue;
        expected[id] = again && restartedWithB[strategy].includes(id) ? 2 : 1;
      }
      const bStatus = again ? 'running' : restart === 'temporary' ? 'undeclared' : 'down';
      return { strategy, restart, reason, expected, bStatus };
    }),
  ),
);

describe('restart type × exit reason × strategy', () => {
  it.each(matrix)(
    '$strategy: $restart child exits $reason → $expected, B $bStatus',
    async ({ strategy, restart, reason, expected, bStatus }) => {
      const { runtime } = setupRuntime();
      await runtime.start([worker('A', probe), worker('B', probe, { restart }), worker('C', probe)], {
        strategy,
      });
      const started = startedLog(runtime);

      await exitHandled(runtime, 'B', reason);

      expect(incarnations(runtime)).toEqual(expected);
      expect(runtime.status('B')).toBe(bStatus);
      // Every child still in the list is running, except B when it was not restarted.
      for (const child of runtime.whichChildren()) {
        expect(child.status).toBe(child.id === 'B' && bStatus !== 'running' ? 'stopped' : 'running');
      }
      // Restarted children start again in start order.
      const restartedIds = Object.entries(expected)
        .filter(([, n]) => n === 2)
        .map(([id]) => `${id}@2`);
      expect(started).toEqual(restartedIds);
    },
  );
});

describe('siblings under one_for_all / rest_for_one', () => {
  it.each([
    ['one_for_all', 'A', ['A', 'B', 'D'], { A: 2, B: 2, D: 2 }],
    ['one_for_all', 'D', ['A', 'B', 'D'], { A: 2, B: 2, D: 2 }],
    ['rest_for_one', 'A', ['A', 'B', 'D'], { A: 2, B: 2, D: 2 }],
    ['rest_for_one', 'B', ['A', 'B', 'D'], { A: 1, B: 2, D: 2 }],
  ] as const)(
    '%s: %s crashes → temporary sibling T removed, others %j',
    async (strategy, crasher, ids, expected) => {
      const { runtime } = setupRuntime();
      // T sits between B and D, so it is stopped by every restart here except rest_for_one from D.
      await runtime.start(
        [
          worker('A', probe),
          worker('B', probe),
          worker('T', probe, { restart: 'temporary' }),
          worker('D', probe),
        ],
        { strategy },
      );
      await exitHandled(runtime, crasher, 'error');
      expect(runtime.whichChildren().map((c) => c.id)).toEqual(ids);
      expect(incarnations(runtime)).toEqual(expected);
      expect(runtime.status('T')).toBe('undeclared');
    },
  );

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

  it('the restarted incarnation answers under the same name, with fresh state', async () => {
    const { runtime } = setupRuntime();
    await runtime.start([worker('A', probe)]);
    runtime.send('A', { type: 'INC' });
    expect(await runtime.call('A', { type: 'GET' })).toBe(1);
    makeExit(runtime, 'A', 'error');
    await runtime.events.waitFor('actor.started', (e) => e.name === 'A' && e.incarnation === 2);
    expect(await runtime.call('A', { type: 'GET' })).toBe(0);
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
  it.each([
    // spacing, crashes, escalates
    // maxRestarts, spacing, crashes, escalates
    [2, 600, 10, false], // the window (1000 ms) never holds more than 2 restarts
    [2, 400, 3, true], // 3 restarts within 1000 ms: more than 2
    [2, 0, 3, true],
    // The boundary, as OTP's add_restart (R >= Now - Period): a restart exactly withinMs old
    // still counts, one a millisecond older does not.
    [1, 1000, 2, true],
    [1, 1001, 10, false],
  ])(
    'maxRestarts %i within 1000 ms, crash every %i ms × %i → escalates: %s',
    async (maxRestarts, spacing, crashes, escalates) => {
      const { runtime, clock } = setupRuntime();
      const fatal = record(runtime, ['runtime.fatal']);
      await runtime.start([worker('A', probe)], { maxRestarts, withinMs: 1000 });
      for (let i = 0; i < crashes; i++) {
        if (i > 0) await clock.advance(spacing);
        await exitHandled(runtime, 'A', 'error');
      }
      expect(fatal.length > 0).toBe(escalates);
      expect(runtime.state).toBe(escalates ? 'stopped' : 'running');
      if (!escalates) expect(incarnations(runtime)).toEqual({ A: crashes + 1 });
    },
  );

  it('reads monotonic time: a wall-clock jump does not slide the window', async () => {
    const { runtime, clock } = setupRuntime();
    await runtime.start([worker('A', probe)], { maxRestarts: 1, withinMs: 1000 });
    await exitHandled(runtime, 'A', 'error');
    clock.jump(60_000);
    makeExit(runtime, 'A', 'error');
    expect(await runtime.stopped).toEqual(INTENSITY_EXIT);
  });

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

  it("a child's start failure stops the started ones in reverse order and rejects with START_FAILED", async () => {
    const runtime = createRuntime();
    const log = record(runtime, ['actor.stopped']);
    const error = await runtime
      .start([worker('First', probe), worker('Second', probe), worker('Third', failsOnStart)])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartError);
    expect(error).toMatchObject({ code: 'START_FAILED', child: 'Third', supervisor: 'root' });
    expect((error as Error).message).toContain('entry failed');
    expect(log.map((e) => e.name)).toEqual(['Second', 'First']);
    expect(runtime.state).toBe('stopped');
    expect(runtime.status('First')).toBe('undeclared');
    expect((await runtime.stopped).kind).toBe('error');
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
  it('stops in reverse order; a trapExit child that never stops is killed after its timeout', async () => {
    const { runtime, clock } = setupRuntime();
    const log = record(runtime, ['actor.stopped', 'actor.crashed']);
    await runtime.start([
      worker('A', probe),
      worker('Hang', stubborn, { trapExit: true, shutdown: 1000 }),
      worker('Graceful', probe, { trapExit: true, shutdown: 1000 }),
      worker('C', probe),
    ]);
    const stopping = runtime.stop();
    await runtime.events.waitFor('actor.stopped', (e) => e.name === 'Graceful');
    // C and Graceful are gone; Hang is waiting out its budget; A waits behind it.
    expect(log.map((e) => e.name)).toEqual(['C', 'Graceful']);
    await clock.advance(999);
    expect(log.map((e) => e.name)).toEqual(['C', 'Graceful']);
    await clock.advance(1);
    await stopping;
    expect(log.map((e) => [e.name, e.reason.kind])).toEqual([
      ['C', 'shutdown'],
      ['Graceful', 'shutdown'],
      ['Hang', 'killed'],
      ['A', 'shutdown'],
      ['root', 'shutdown'],
    ]);
    expect(log.find((e) => e.name === 'Hang')?.event).toBe('actor.crashed');
  });

  it('brutal_kill stops a trapExit child at once, without asking', async () => {
    const { runtime } = setupRuntime();
    const log = record(runtime, ['actor.crashed']);
    await runtime.start([worker('K', stubborn, { trapExit: true, shutdown: 'brutal_kill' })]);
    await runtime.terminateChild('K');
    expect(log.map((e) => [e.name, e.reason.kind])).toEqual([['K', 'killed']]);
    await runtime.stop();
  });

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

  it('a nested supervisor stops its subtree before its older siblings', async () => {
    const { runtime } = setupRuntime();
    const log = record(runtime, ['actor.stopped']);
    await runtime.start([worker('A', probe), supervisor('S', [worker('S1', probe), worker('S2', probe)])]);
    await runtime.stop();
    expect(log.map((e) => e.name)).toEqual(['S2', 'S1', 'S', 'A', 'root']);
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
