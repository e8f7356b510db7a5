/**
 * Semantics parity: the runtime's mailbox and supervision behaviours, run against an in-thread
 * actor and against an isolated one (its logic in a pool thread), as one suite. From outside an
 * isolated actor must be indistinguishable: mailbox order, call / reply / replyError and every
 * way a call fails, crashes and restarts under each strategy and restart type, the intensity
 * window, monitors, dead letters, refusal of malformed messages, ordered shutdown and events.
 *
 * Each mode builds its workers from the same exports of fixtures/actors.ts: the in-thread mode
 * imports them, the isolated mode names them by module URL (`isolation: 'thread'`), on a pool
 * shared by the isolated tests so that each test does not pay for starting threads. Tests read
 * an actor's state through calls (never a closure or `runtime.snapshot`, which sees only the
 * proxy of an isolated actor) and wait for events, not for turns of the event loop.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  ActorDownError,
  CalleeExitedError,
  CallTimeoutError,
  createRuntime,
  type Down,
  Exit,
  INTENSITY_EXIT,
  InvalidMessageError,
  ManualClock,
  type RestartType,
  type Runtime,
  type RuntimeOptions,
  StartError,
  type Strategy,
  supervisor,
  threadPool,
  type WorkerOptions,
  type WorkerSpec,
  worker,
} from '../src/index.js';
import {
  callbackThrows,
  exitsWithError,
  failsOnStart,
  holder,
  probe,
  promiseRejects,
  recorder,
  relay,
  stubborn,
  throwInAction,
  throwInAssign,
  throwInGuard,
} from './fixtures/actors.js';
import {
  exitHandled,
  exitOf,
  incarnations,
  makeExit,
  type ReasonName,
  record,
  startedLog,
} from './helpers.js';

const FIXTURES = new URL('./fixtures/actors.ts', import.meta.url);

/** The logics of fixtures/actors.ts, by export name (the name the isolated mode loads). */
const LOGICS = {
  callbackThrows,
  exitsWithError,
  failsOnStart,
  holder,
  probe,
  promiseRejects,
  recorder,
  relay,
  stubborn,
  throwInAction,
  throwInAssign,
  throwInGuard,
};
type Logic = keyof typeof LOGICS;

interface Mode {
  /** A worker running export `logic` of fixtures/actors.ts, in this mode. */
  worker(id: string, logic: Logic, options?: WorkerOptions): WorkerSpec;
  runtime(options?: RuntimeOptions): Runtime;
}

const pool = threadPool({ threads: 2 });
afterAll(() => pool.close());

const modes: [string, Mode][] = [
  [
    'in-thread',
    {
      worker: (id, logic, options) => worker(id, LOGICS[logic], options),
      runtime: (options) => createRuntime(options),
    },
  ],
  [
    'isolated',
    {
      worker: (id, logic, options) =>
        worker(id, { module: FIXTURES, export: logic }, { ...options, isolation: 'thread' }),
      runtime: (options) => createRuntime({ ...options, threadPool: pool }),
    },
  ],
];

// -----------------------------------------------------------------------------------------
// The supervision matrix's cases (used below).

interface MatrixCase {
  strategy: Strategy;
  restart: RestartType;
  reason: ReasonName;
  /** Incarnation of each remaining child afterwards; B absent when its spec is removed. */
  expected: Record<string, number>;
  bStatus: 'running' | 'down' | 'undeclared';
}

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

const strategies: Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one'];
const restartTypes: RestartType[] = ['permanent', 'transient', 'temporary'];
const reasons: ReasonName[] = ['normal', 'shutdown', 'error', 'killed'];

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

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

describe.each(modes)('%s actor', (_mode, mode) => {
  function use(options: RuntimeOptions = {}): Runtime {
    current = mode.runtime(options);
    return current;
  }
  /** A runtime on a ManualClock: call timeouts and restart windows move only when told to. */
  function manual(): { runtime: Runtime; clock: ManualClock } {
    const clock = new ManualClock();
    return { runtime: use({ clock }), clock };
  }
  const w = mode.worker;

  // ---------------------------------------------------------------------------------------
  // Mailbox.

  describe('ordering', () => {
    it('delivers each sender’s messages in arrival order', async () => {
      const runtime = use({ budget: 7 });
      await runtime.start([w('R', 'recorder')]);
      for (let n = 0; n < 1000; n++) runtime.send('R', { type: 'MSG', n });
      // The call is queued behind the 1000 messages: its answer is the record of all of them.
      expect(await runtime.call('R', { type: 'SEEN' })).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    });

    it('a receiver that throws cannot break its sender', async () => {
      const runtime = use();
      await runtime.start([w('R', 'probe')]);
      const restarted = runtime.events.waitFor('actor.started', (e) => e.name === 'R' && e.incarnation === 2);
      expect(() => runtime.send('R', { type: 'CRASH' })).not.toThrow();
      await restarted;
    });

    it('messages an actor sends while handling one are delivered after what was already sent, in order', async () => {
      const runtime = use();
      await runtime.start([w('R', 'recorder'), w('Relay', 'relay')]);
      const relayed = runtime.call('Relay', { type: 'GO' });
      runtime.send('R', { type: 'MSG', n: -1 });
      expect(await relayed).toBe('sent');
      expect(await runtime.call('R', { type: 'SEEN' })).toEqual([-1, 0, 1, 2]);
    });
  });

  describe('crash containment: nothing reaches uncaughtException', () => {
    it.each([
      ['throw in an action', 'throwInAction'],
      ['throw in a guard', 'throwInGuard'],
      ['throw in assign (XState error status)', 'throwInAssign'],
      ['invoked fromPromise rejects, no onError', 'promiseRejects'],
      ['invoked fromCallback throws', 'callbackThrows'],
      ['explicit exit(self, error)', 'exitsWithError'],
    ] as const)('%s: the actor crashes with an error reason and restarts', async (_label, logic) => {
      const uncaught = vi.fn();
      const unhandled = vi.fn();
      process.on('uncaughtException', uncaught);
      process.on('unhandledRejection', unhandled);
      try {
        const runtime = use();
        await runtime.start([w('C', logic)], { maxRestarts: 10 });
        const crashed = runtime.events.waitFor('actor.crashed', (e) => e.name === 'C');
        const restarted = runtime.events.waitFor(
          'actor.started',
          (e) => e.name === 'C' && e.incarnation === 2,
        );
        runtime.send('C', { type: 'GO' });
        expect((await crashed).reason.kind).toBe('error');
        await restarted;
        // XState reports unobserved errors from a setTimeout: give real timers time to run.
        await new Promise((r) => setTimeout(r, 20));
        expect(uncaught).not.toHaveBeenCalled();
        expect(unhandled).not.toHaveBeenCalled();
      } finally {
        process.off('uncaughtException', uncaught);
        process.off('unhandledRejection', unhandled);
      }
    });

    it('throw in an entry action on start: startChild rejects with START_FAILED, nothing uncaught', async () => {
      const uncaught = vi.fn();
      process.on('uncaughtException', uncaught);
      try {
        const runtime = use();
        await runtime.start([]);
        const error = await runtime.startChild(w('E', 'failsOnStart')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StartError);
        expect(error).toMatchObject({ code: 'START_FAILED', child: 'E' });
        expect((error as Error).message).toContain('entry failed');
        await new Promise((r) => setTimeout(r, 20));
        expect(uncaught).not.toHaveBeenCalled();
        expect(runtime.state).toBe('running');
        expect(runtime.status('E')).not.toBe('running');
      } finally {
        process.off('uncaughtException', uncaught);
      }
    });
  });

  // ---------------------------------------------------------------------------------------
  // call / reply.

  describe('call', () => {
    it('returns the reply', async () => {
      const { runtime } = manual();
      await runtime.start([w('H', 'holder')]);
      await expect(runtime.call('H', { type: 'ECHO', value: { ok: 1 } })).resolves.toEqual({ ok: 1 });
    });

    it('a reply given later, from another event, answers the held call', async () => {
      const { runtime } = manual();
      await runtime.start([w('H', 'holder')]);
      const answer = runtime.call('H', { type: 'HOLD' });
      // No wait needed: the mailbox delivers HOLD before what is sent after it.
      runtime.send('H', { type: 'ANSWER', value: 42 });
      await expect(answer).resolves.toBe(42);
    });

    it('rejects with CALL_TIMEOUT when no reply comes in time', async () => {
      const { runtime, clock } = manual();
      await runtime.start([w('H', 'holder')]);
      const answer = runtime.call('H', { type: 'HOLD' }, { timeoutMs: 100 });
      let settled = false;
      answer.catch(() => {}).finally(() => (settled = true));
      await clock.advance(99);
      expect(settled).toBe(false);
      await clock.advance(1);
      const error = await answer.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallTimeoutError);
      expect(error).toMatchObject({ code: 'CALL_TIMEOUT', actor: 'H', timeoutMs: 100, messageType: 'HOLD' });
    });

    it('a late reply is dropped: reply returns false, nothing throws, the callee goes on', async () => {
      const { runtime, clock } = manual();
      await runtime.start([w('H', 'holder')]);
      const answer = expect(runtime.call('H', { type: 'HOLD' }, { timeoutMs: 10 })).rejects.toBeInstanceOf(
        CallTimeoutError,
      );
      await clock.advance(10);
      await answer;
      runtime.send('H', { type: 'ANSWER', value: 'too late' });
      expect(await runtime.call('H', { type: 'LAST' })).toBe(false);
      expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: 1 });
    });

    it('rejects with CALLEE_EXITED when the callee crashes while the call is pending', async () => {
      const { runtime } = manual();
      await runtime.start([w('H', 'holder')]);
      const answer = runtime.call('H', { type: 'HOLD' });
      // No wait needed: the mailbox delivers HOLD before what is sent after it.
      runtime.send('H', { type: 'CRASH' });
      const error = await answer.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CalleeExitedError);
      expect(error).toMatchObject({ code: 'CALLEE_EXITED', actor: 'H', reason: { kind: 'error' } });
      expect(((error as Error).cause as Error).message).toBe('callee crashed');
    });

    it('rejects with CALLEE_EXITED when the callee crashes on an earlier message still queued', async () => {
      const { runtime } = manual();
      await runtime.start([w('H', 'holder')]);
      runtime.send('H', { type: 'CRASH' });
      await expect(runtime.call('H', { type: 'ECHO', value: 1 })).rejects.toMatchObject({
        code: 'CALLEE_EXITED',
      });
    });

    it('replyError rejects the caller with the callee’s own error', async () => {
      const { runtime } = manual();
      await runtime.start([w('H', 'holder')]);
      const answer = runtime.call('H', { type: 'HOLD' });
      // No wait needed: the mailbox delivers HOLD before what is sent after it.
      runtime.send('H', { type: 'FAIL', message: 'permanent failure' });
      const error = await answer.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe('permanent failure');
      expect(runtime.status('H')).toBe('running');
    });

    it('rejects with ACTOR_DOWN for a declared name that is not running', async () => {
      const { runtime } = manual();
      await runtime.start([w('T', 'probe', { restart: 'transient' })]);
      await exitHandled(runtime, 'T', 'normal');
      const error = await runtime.call('T', { type: 'GET' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ActorDownError);
      expect(error).toMatchObject({ code: 'ACTOR_DOWN', actor: 'T' });
    });
  });

  // ---------------------------------------------------------------------------------------
  // Monitors, dead letters, malformed messages, events.

  describe('monitors', () => {
    it('hear the exit of the incarnation they watch, with its reason; the restarted one is not watched', async () => {
      const { runtime } = manual();
      await runtime.start([w('P', 'probe')], { maxRestarts: 5 });
      const downs: Down[] = [];
      runtime.monitor('P', (down) => downs.push(down));
      await exitHandled(runtime, 'P', 'error');
      await exitHandled(runtime, 'P', 'error');
      expect(downs).toHaveLength(1);
      expect(downs[0]).toMatchObject({ name: 'P', incarnation: 1, reason: { kind: 'error' } });
      expect((downs[0]!.reason as { error: Error }).error.message).toBe('boom');
    });

    it('a monitor set by name delivers vigil.down to a watcher actor', async () => {
      const { runtime } = manual();
      await runtime.start([w('P', 'probe', { restart: 'temporary' }), w('Watcher', 'holder')]);
      const letters = record(runtime, ['deadLetter']);
      runtime.monitor('P', 'Watcher');
      await exitHandled(runtime, 'P', 'shutdown');
      // The watcher took the notice (a plain event for it) and lives on: no dead letter.
      expect(await runtime.call('Watcher', { type: 'ECHO', value: 'alive' })).toBe('alive');
      expect(letters).toEqual([]);
    });
  });

  describe('dead letters', () => {
    it('are counted and emitted with the reason: undeclared, down, or dropped by a crash', async () => {
      const { runtime } = manual();
      const letters: { to: string; messageType: string; reason: string }[] = [];
      runtime.events.on('deadLetter', ({ to, messageType, reason }) =>
        letters.push({ to, messageType, reason }),
      );
      await runtime.start([w('T', 'probe', { restart: 'transient' }), w('P', 'probe')]);

      runtime.send('Nobody', { type: 'HELLO' });
      await exitHandled(runtime, 'T', 'normal');
      runtime.send('T', { type: 'INC' });
      // Two messages queued behind a crash are dropped with it.
      const crashed = exitOf(runtime, 'P');
      runtime.send('P', { type: 'CRASH' });
      runtime.send('P', { type: 'INC' });
      runtime.send('P', { type: 'GET' });
      await crashed;

      expect(letters).toEqual([
        { to: 'Nobody', messageType: 'HELLO', reason: 'undeclared' },
        { to: 'T', messageType: 'INC', reason: 'down' },
        { to: 'P', messageType: 'INC', reason: 'down' },
        { to: 'P', messageType: 'GET', reason: 'down' },
      ]);
      expect(runtime.deadLetters).toBe(4);
    });

    it('messages queued behind a kill are dead letters', async () => {
      const { runtime } = manual();
      await runtime.start([w('R', 'recorder', { restart: 'temporary' })]);
      const letters = record(runtime, ['deadLetter']);
      for (let n = 0; n < 50; n++) runtime.send('R', { type: 'MSG', n });
      const seen = runtime.call<number[]>('R', { type: 'SEEN' }).catch((e: unknown) => e);
      runtime.exit('R', Exit.killed);
      expect(await seen).toBeInstanceOf(CalleeExitedError);
      // An isolated actor's thread says which messages it dropped: wait for all 51 records.
      while (letters.length < 51) await runtime.events.waitFor('deadLetter');
      expect(letters.map((l) => l.messageType)).toEqual([...Array(50).fill('MSG'), 'SEEN']);
      expect(runtime.deadLetters).toBe(51);
    });

    it('after stop, sends are dead letters with reason stopped, never throws', async () => {
      const runtime = use();
      await runtime.start([w('P', 'probe')]);
      await runtime.stop();
      const letter = runtime.events.waitFor('deadLetter');
      expect(() => runtime.send('P', { type: 'INC' })).not.toThrow();
      expect(await letter).toMatchObject({ to: 'P', reason: 'stopped' });
    });
  });

  describe('malformed messages are refused and change nothing', () => {
    it.each([
      ['a number', 42],
      ['null', null],
      ['an array', [{ type: 'INC' }]],
      ['{}', {}],
      ['an empty type', { type: '' }],
      ['an xstate.* type', { type: 'xstate.init' }],
      ['a vigil.* type', { type: 'vigil.shutdown' }],
    ])('send of %s throws INVALID_MESSAGE', async (_label, message) => {
      const { runtime } = manual();
      await runtime.start([w('P', 'probe')]);
      const letters = vi.fn();
      runtime.events.on('deadLetter', letters);
      expect(() => runtime.send('P', message as never)).toThrow(InvalidMessageError);
      await expect(runtime.call('P', message as never)).rejects.toBeInstanceOf(InvalidMessageError);
      // The call is queued behind anything a refused send might wrongly have queued.
      expect(await runtime.call('P', { type: 'GET' })).toBe(0);
      expect(letters).not.toHaveBeenCalled();
      expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: 1 });
    });
  });

  describe('events', () => {
    it('started, crashed, restarted, started again, then stopped at shutdown, in that order', async () => {
      const { runtime } = manual();
      const log = record(runtime, ['actor.started', 'actor.crashed', 'actor.restarted', 'actor.stopped']);
      await runtime.start([w('A', 'probe')]);
      await exitHandled(runtime, 'A', 'error');
      await runtime.stop();
      expect(log.map((e) => `${e.event} ${e.name}${e.reason ? ` ${e.reason.kind}` : ''}`)).toEqual([
        'actor.started A',
        'actor.started root',
        'actor.crashed A error',
        'actor.restarted A',
        'actor.started A',
        'actor.stopped A shutdown',
        'actor.stopped root shutdown',
      ]);
    });
  });

  // ---------------------------------------------------------------------------------------
  // Supervision: the conformance matrix. Children A, B, C start in that order; B has the
  // restart type under test (A and C are permanent) and exits with the reason under test.
  //
  // restart type  | normal | shutdown | error | killed
  // permanent     | yes    | yes      | yes   | yes
  // transient     | no     | no       | yes   | yes
  // temporary     | no, spec removed (all reasons)
  //
  // and when B restarts, the strategy says who restarts with it:
  // one_for_one: B; one_for_all: A, B, C; rest_for_one: B, C.

  describe('restart type × exit reason × strategy', () => {
    it.each(matrix)(
      '$strategy: $restart child exits $reason → $expected, B $bStatus',
      async ({ strategy, restart, reason, expected, bStatus }) => {
        const { runtime } = manual();
        await runtime.start([w('A', 'probe'), w('B', 'probe', { restart }), w('C', 'probe')], { strategy });
        const started = startedLog(runtime);

        await exitHandled(runtime, 'B', reason);

        expect(incarnations(runtime)).toEqual(expected);
        expect(runtime.status('B')).toBe(bStatus);
        for (const child of runtime.whichChildren()) {
          expect(child.status).toBe(child.id === 'B' && bStatus !== 'running' ? 'stopped' : 'running');
        }
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
        const { runtime } = manual();
        // T sits between B and D, so it is stopped by every restart here except rest_for_one from D.
        await runtime.start(
          [w('A', 'probe'), w('B', 'probe'), w('T', 'probe', { restart: 'temporary' }), w('D', 'probe')],
          { strategy },
        );
        await exitHandled(runtime, crasher, 'error');
        expect(runtime.whichChildren().map((c) => c.id)).toEqual(ids);
        expect(incarnations(runtime)).toEqual(expected);
        expect(runtime.status('T')).toBe('undeclared');
      },
    );

    it('the restarted incarnation answers under the same name, with fresh state', async () => {
      const { runtime } = manual();
      await runtime.start([w('A', 'probe')]);
      runtime.send('A', { type: 'INC' });
      expect(await runtime.call('A', { type: 'GET' })).toBe(1);
      const restarted = runtime.events.waitFor('actor.started', (e) => e.name === 'A' && e.incarnation === 2);
      makeExit(runtime, 'A', 'error');
      await restarted;
      expect(await runtime.call('A', { type: 'GET' })).toBe(0);
    });
  });

  describe('intensity window', () => {
    it.each([
      // maxRestarts, spacing, crashes, escalates
      [2, 600, 10, false], // the window (1000 ms) never holds more than 2 restarts
      [2, 400, 3, true], // 3 restarts within 1000 ms: more than 2
      [2, 0, 3, true],
      // The boundary, as OTP's add_restart: a restart exactly withinMs old still counts.
      [1, 1000, 2, true],
      [1, 1001, 10, false],
    ])(
      'maxRestarts %i within 1000 ms, crash every %i ms × %i → escalates: %s',
      async (maxRestarts, spacing, crashes, escalates) => {
        const { runtime, clock } = manual();
        const fatal = record(runtime, ['runtime.fatal']);
        await runtime.start([w('A', 'probe')], { maxRestarts, withinMs: 1000 });
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
      const { runtime, clock } = manual();
      await runtime.start([w('A', 'probe')], { maxRestarts: 1, withinMs: 1000 });
      await exitHandled(runtime, 'A', 'error');
      clock.jump(60_000);
      makeExit(runtime, 'A', 'error');
      expect(await runtime.stopped).toEqual(INTENSITY_EXIT);
    });
  });

  describe('start and shutdown', () => {
    it("a child's start failure stops the started ones in reverse order and rejects with START_FAILED", async () => {
      const runtime = use();
      const log = record(runtime, ['actor.stopped']);
      const error = await runtime
        .start([w('First', 'probe'), w('Second', 'probe'), w('Third', 'failsOnStart')])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StartError);
      expect(error).toMatchObject({ code: 'START_FAILED', child: 'Third', supervisor: 'root' });
      expect((error as Error).message).toContain('entry failed');
      expect(log.map((e) => e.name)).toEqual(['Second', 'First']);
      expect(runtime.state).toBe('stopped');
    });

    it('stops in reverse order; a trapExit child that never stops is killed after its timeout', async () => {
      const { runtime, clock } = manual();
      const log = record(runtime, ['actor.stopped', 'actor.crashed']);
      await runtime.start([
        w('A', 'probe'),
        w('Hang', 'stubborn', { trapExit: true, shutdown: 1000 }),
        w('Graceful', 'probe', { trapExit: true, shutdown: 1000 }),
        w('C', 'probe'),
      ]);
      const hangAsked = runtime.events.waitFor('actor.stopped', (e) => e.name === 'Graceful');
      const stopping = runtime.stop();
      await hangAsked;
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
    });

    it('brutal_kill stops a trapExit child at once, without asking', async () => {
      const { runtime } = manual();
      const log = record(runtime, ['actor.crashed']);
      await runtime.start([w('K', 'stubborn', { trapExit: true, shutdown: 'brutal_kill' })]);
      await runtime.terminateChild('K');
      expect(log.map((e) => [e.name, e.reason.kind])).toEqual([['K', 'killed']]);
    });

    it('a nested supervisor stops its subtree before its older siblings', async () => {
      const { runtime } = manual();
      const log = record(runtime, ['actor.stopped']);
      await runtime.start([w('A', 'probe'), supervisor('S', [w('S1', 'probe'), w('S2', 'probe')])]);
      await runtime.stop();
      expect(log.map((e) => e.name)).toEqual(['S2', 'S1', 'S', 'A', 'root']);
    });
  });
});
