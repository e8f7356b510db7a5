/**
 * Mailboxes and messaging: FIFO, asynchrony, fairness between actors, crash containment,
 * call/reply with every way it can fail, dead letters, and refusal of malformed messages.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, fromCallback, fromPromise, setup } from 'xstate';
import {
  ActorDownError,
  CalleeExitedError,
  CallTimeoutError,
  createRuntime,
  Exit,
  exit,
  InvalidMessageError,
  type Runtime,
  reply,
  replyError,
  UnknownActorError,
  worker,
} from '../src/index.js';
import { exitHandled, exitOf, manualRuntime, probe, quiesce } from './helpers.js';

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

function use(runtime: Runtime): Runtime {
  current = runtime;
  return runtime;
}

/** Records the `n` of every `MSG` it handles, and the stack it handled the first one on. */
function recorder() {
  const seen: number[] = [];
  const machine = setup({ types: { events: {} as { type: 'MSG'; n: number } } }).createMachine({
    on: { MSG: { actions: ({ event }) => seen.push(event.n) } },
  });
  return { seen, machine };
}

describe('ordering and asynchrony', () => {
  it('delivers each sender’s messages in arrival order', async () => {
    const runtime = use(createRuntime({ budget: 7 }));
    const { seen, machine } = recorder();
    await runtime.start([worker('R', machine)]);
    for (let n = 0; n < 1000; n++) runtime.send('R', { type: 'MSG', n });
    while (seen.length < 1000) await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, n) => n));
  });

  it('send returns before the receiver runs: the receiver is never on the sender’s stack', async () => {
    const runtime = use(createRuntime());
    let senderReturned = false;
    let stack = '';
    const machine = setup({}).createMachine({
      on: {
        PING: {
          actions: () => {
            stack = new Error().stack ?? '';
            if (!senderReturned) throw new Error('ran on the sender’s stack');
          },
        },
      },
    });
    await runtime.start([worker('R', machine)]);
    function uniquelyNamedSender() {
      runtime.send('R', { type: 'PING' });
      senderReturned = true;
    }
    uniquelyNamedSender();
    expect(stack).toBe('');
    await quiesce();
    expect(stack).not.toBe('');
    expect(stack).not.toContain('uniquelyNamedSender');
    expect(runtime.status('R')).toBe('running');
  });

  it('a receiver that throws cannot break its sender', async () => {
    const runtime = use(createRuntime());
    await runtime.start([worker('R', probe)]);
    expect(() => runtime.send('R', { type: 'CRASH' })).not.toThrow();
    await runtime.events.waitFor('actor.started', (e) => e.name === 'R' && e.incarnation === 2);
  });

  it('messages an actor sends while handling one are delivered on a later turn, in order', async () => {
    const runtime = use(createRuntime());
    const { seen, machine } = recorder();
    const relay = setup({}).createMachine({
      on: {
        GO: {
          actions: () => {
            for (let n = 0; n < 3; n++) runtime.send('R', { type: 'MSG', n });
          },
        },
      },
    });
    await runtime.start([worker('R', machine), worker('Relay', relay)]);
    runtime.send('Relay', { type: 'GO' });
    runtime.send('R', { type: 'MSG', n: -1 });
    await quiesce();
    expect(seen).toEqual([-1, 0, 1, 2]);
  });
});

describe('fairness', () => {
  it('a flooding actor delays another actor’s 10 ms timer by at most about one budget slice', async () => {
    const budget = 64;
    const runtime = use(createRuntime({ budget }));
    let handled = 0;
    const flood = setup({}).createMachine({
      context: { total: 0 },
      on: {
        WORK: {
          actions: assign({
            total: ({ context }) => {
              // A little real work per message, so a turn is measurable.
              let x = context.total;
              for (let i = 0; i < 200; i++) x = (x * 31 + i) % 1_000_003;
              handled++;
              return x;
            },
          }),
        },
      },
    });
    let fired!: (result: { late: number; handledThen: number }) => void;
    const timerFired = new Promise<{ late: number; handledThen: number }>((resolve) => {
      fired = resolve;
    });
    const sleeper = setup({}).createMachine({
      initial: 'idle',
      states: {
        idle: {
          on: {
            ARM: {
              actions: () => {
                const armedAt = performance.now();
                setTimeout(() => {
                  fired({ late: performance.now() - armedAt - 10, handledThen: handled });
                }, 10);
              },
            },
          },
        },
      },
    });
    await runtime.start([worker('Flood', flood), worker('Sleeper', sleeper)]);

    // Measure one slice: the time to handle `budget` messages, averaged over many turns.
    const probeCount = budget * 50;
    for (let i = 0; i < probeCount; i++) runtime.send('Flood', { type: 'WORK' });
    const t0 = performance.now();
    while (handled < probeCount) await new Promise((r) => setImmediate(r));
    const slice = ((performance.now() - t0) / probeCount) * budget;

    const total = 100_000;
    handled = 0;
    for (let i = 0; i < total; i++) runtime.send('Flood', { type: 'WORK' });
    runtime.send('Sleeper', { type: 'ARM' });
    const { late, handledThen } = await timerFired;

    // The timer fired while the flood was still being worked off. How late it fired (about one
    // slice) is a speed goal, measured by the benchmark (timer lateness under a flood): a
    // wall-clock bound here failed under load, and deterministic tests are never retried.
    expect(handledThen).toBeLessThan(total);
    expect(late).toBeGreaterThanOrEqual(-1);
    expect(slice).toBeGreaterThan(0);
    while (handled < total) await new Promise((r) => setTimeout(r, 5));
  });

  it('a worker’s own budget overrides the runtime’s, and a zero budget is refused', async () => {
    const runtime = use(createRuntime({ budget: 64 }));
    let handled = 0;
    const flood = setup({}).createMachine({ on: { WORK: { actions: () => handled++ } } });
    expect(() => worker('Bad', flood, { budget: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CHILD_SPEC' }),
    );
    await runtime.start([worker('Flood', flood, { budget: 8 })]);
    for (let i = 0; i < 400; i++) runtime.send('Flood', { type: 'WORK' });
    let maxStep = 0;
    let last = 0;
    while (handled < 400) {
      await new Promise((r) => setImmediate(r));
      maxStep = Math.max(maxStep, handled - last);
      last = handled;
    }
    expect(maxStep).toBe(8);
  });

  it('between two turns of the event loop, a flooding actor handles at most one budget', async () => {
    // The same bound without wall-clock noise: an observer that re-queues itself with
    // setImmediate runs once per event-loop turn; the flood may advance by at most `budget`
    // messages between two of its runs.
    const budget = 32;
    const runtime = use(createRuntime({ budget }));
    let handled = 0;
    const flood = setup({}).createMachine({ on: { WORK: { actions: () => handled++ } } });
    await runtime.start([worker('Flood', flood)]);
    const total = 20_000;
    for (let i = 0; i < total; i++) runtime.send('Flood', { type: 'WORK' });
    let maxStep = 0;
    let turns = 0;
    let last = handled;
    while (handled < total) {
      await new Promise((r) => setImmediate(r));
      maxStep = Math.max(maxStep, handled - last);
      last = handled;
      turns++;
    }
    expect(maxStep).toBeLessThanOrEqual(budget);
    expect(turns).toBeGreaterThanOrEqual(total / budget);
  });
});

describe('crash containment: nothing reaches uncaughtException', () => {
  const boom = () => {
    throw new Error('boom');
  };
  const cases = {
    'throw in an action': setup({}).createMachine({ on: { GO: { actions: boom } } }),
    'throw in a guard': setup({}).createMachine({
      on: { GO: { guard: () => boom(), actions: () => {} } },
    }),
    'throw in assign (XState error status)': setup({}).createMachine({
      context: { n: 0 },
      on: { GO: { actions: assign({ n: () => boom() }) } },
    }),
    'invoked fromPromise rejects, no onError': setup({
      actors: { fails: fromPromise(async () => boom()) },
    }).createMachine({
      initial: 'idle',
      states: { idle: { on: { GO: 'working' } }, working: { invoke: { src: 'fails' } } },
    }),
    'invoked fromCallback throws': setup({
      actors: { fails: fromCallback(() => boom()) },
    }).createMachine({
      initial: 'idle',
      states: { idle: { on: { GO: 'working' } }, working: { invoke: { src: 'fails' } } },
    }),
    'explicit exit(self, error)': setup({}).createMachine({
      on: { GO: { actions: ({ self }) => exit(self, Exit.error(new Error('on purpose'))) } },
    }),
  };

  it.each(Object.entries(cases))(
    '%s: the actor crashes with an error reason and restarts',
    async (_label, machine) => {
      const uncaught = vi.fn();
      const unhandled = vi.fn();
      process.on('uncaughtException', uncaught);
      process.on('unhandledRejection', unhandled);
      try {
        const runtime = use(createRuntime());
        await runtime.start([worker('C', machine)], { maxRestarts: 10 });
        const crashed = runtime.events.waitFor('actor.crashed', (e) => e.name === 'C');
        runtime.send('C', { type: 'GO' });
        const event = await crashed;
        expect(event.reason.kind).toBe('error');
        await runtime.events.waitFor('actor.started', (e) => e.name === 'C' && e.incarnation === 2);
        // XState reports unobserved errors from a setTimeout: give real timers time to run.
        await new Promise((r) => setTimeout(r, 20));
        expect(uncaught).not.toHaveBeenCalled();
        expect(unhandled).not.toHaveBeenCalled();
      } finally {
        process.off('uncaughtException', uncaught);
        process.off('unhandledRejection', unhandled);
      }
    },
  );

  it('throw in an entry action on start: startChild rejects, nothing uncaught', async () => {
    const uncaught = vi.fn();
    process.on('uncaughtException', uncaught);
    try {
      const runtime = use(createRuntime());
      await runtime.start([]);
      const machine = setup({}).createMachine({ entry: boom });
      await expect(runtime.startChild(worker('E', machine))).rejects.toMatchObject({ code: 'START_FAILED' });
      await new Promise((r) => setTimeout(r, 20));
      expect(uncaught).not.toHaveBeenCalled();
      expect(runtime.state).toBe('running');
    } finally {
      process.off('uncaughtException', uncaught);
    }
  });
});

// -----------------------------------------------------------------------------------------
// call / reply.

/** Keeps each `HOLD` call unanswered until `ANSWER` / `FAIL` / `CRASH`. */
const holder = setup({
  types: {
    context: {} as { held: object | undefined; lastReply: boolean | undefined },
    events: {} as
      | { type: 'HOLD' }
      | { type: 'ANSWER'; value: unknown }
      | { type: 'FAIL'; message: string }
      | { type: 'ECHO'; value: unknown }
      | { type: 'CRASH' },
  },
}).createMachine({
  context: { held: undefined, lastReply: undefined },
  on: {
    HOLD: { actions: assign({ held: ({ event }) => event }) },
    ANSWER: { actions: assign({ lastReply: ({ context, event }) => reply(context.held!, event.value) }) },
    FAIL: {
      actions: assign({
        lastReply: ({ context, event }) => replyError(context.held!, new TypeError(event.message)),
      }),
    },
    ECHO: { actions: ({ event }) => reply(event, event.value) },
    CRASH: {
      actions: () => {
        throw new Error('callee crashed');
      },
    },
  },
});

describe('call', () => {
  it('returns the reply', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([worker('H', holder)]);
    await expect(runtime.call('H', { type: 'ECHO', value: { ok: 1 } })).resolves.toEqual({ ok: 1 });
  });

  it('a reply given later, from another event, answers the held call', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([worker('H', holder)]);
    const answer = runtime.call('H', { type: 'HOLD' });
    // No wait needed: the mailbox delivers HOLD before what is sent after it.
    runtime.send('H', { type: 'ANSWER', value: 42 });
    await expect(answer).resolves.toBe(42);
  });

  it('rejects with CALL_TIMEOUT when no reply comes in time', async () => {
    const { runtime, clock } = manualRuntime();
    use(runtime);
    await runtime.start([worker('H', holder)]);
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
    const { runtime, clock } = manualRuntime();
    use(runtime);
    await runtime.start([worker('H', holder)]);
    const answer = expect(runtime.call('H', { type: 'HOLD' }, { timeoutMs: 10 })).rejects.toBeInstanceOf(
      CallTimeoutError,
    );
    await clock.advance(10);
    await answer;
    runtime.send('H', { type: 'ANSWER', value: 'too late' });
    await quiesce();
    expect(runtime.snapshot('H')?.status).toBe('active');
    expect((runtime.snapshot('H') as unknown as { context: { lastReply: boolean } }).context.lastReply).toBe(
      false,
    );
    expect(runtime.whichChildren()[0]?.incarnation).toBe(1);
  });

  it('rejects with CALLEE_EXITED when the callee crashes while the call is pending', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([worker('H', holder)]);
    const answer = runtime.call('H', { type: 'HOLD' });
    // No wait needed: the mailbox delivers HOLD before what is sent after it.
    runtime.send('H', { type: 'CRASH' });
    const error = await answer.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CalleeExitedError);
    expect(error).toMatchObject({ code: 'CALLEE_EXITED', actor: 'H', reason: { kind: 'error' } });
    expect(((error as Error).cause as Error).message).toBe('callee crashed');
  });

  it('rejects with CALLEE_EXITED when the callee crashes on an earlier message still queued', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([worker('H', holder)]);
    runtime.send('H', { type: 'CRASH' });
    await expect(runtime.call('H', { type: 'ECHO', value: 1 })).rejects.toMatchObject({
      code: 'CALLEE_EXITED',
    });
  });

  it('replyError rejects the caller with the callee’s own error', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([worker('H', holder)]);
    const answer = runtime.call('H', { type: 'HOLD' });
    // No wait needed: the mailbox delivers HOLD before what is sent after it.
    runtime.send('H', { type: 'FAIL', message: 'permanent failure' });
    const error = await answer.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('permanent failure');
    expect(runtime.status('H')).toBe('running');
  });

  it('rejects with UNKNOWN_ACTOR for a name never declared', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([]);
    const error = await runtime.call('Nobody', { type: 'ECHO' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownActorError);
    expect(error).toMatchObject({ code: 'UNKNOWN_ACTOR', actor: 'Nobody' });
  });

  it('rejects with ACTOR_DOWN for a declared name that is not running', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([worker('T', probe, { restart: 'transient' })]);
    await exitHandled(runtime, 'T', 'normal');
    const error = await runtime.call('T', { type: 'GET' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActorDownError);
    expect(error).toMatchObject({ code: 'ACTOR_DOWN', actor: 'T' });
  });

  it('never throws synchronously, even for a malformed message', () => {
    const runtime = use(createRuntime());
    expect(() => runtime.call('X', 42 as never).catch(() => {})).not.toThrow();
  });
});

// -----------------------------------------------------------------------------------------
// Dead letters and malformed messages.

describe('dead letters', () => {
  it('are counted and emitted with the reason: undeclared, down, or dropped by a crash', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    const letters: { to: string; messageType: string; reason: string }[] = [];
    runtime.events.on('deadLetter', ({ to, messageType, reason }) =>
      letters.push({ to, messageType, reason }),
    );
    await runtime.start([worker('T', probe, { restart: 'transient' }), worker('P', probe)]);

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

  it('after stop, sends are dead letters with reason stopped, never throws', async () => {
    const runtime = createRuntime();
    await runtime.start([worker('P', probe)]);
    await runtime.stop();
    const letter = runtime.events.waitFor('deadLetter');
    expect(() => runtime.send('P', { type: 'INC' })).not.toThrow();
    expect(await letter).toMatchObject({ to: 'P', reason: 'stopped' });
  });
});

describe('malformed messages are refused and change nothing', () => {
  it.each([
    ['a number', 42],
    ['a string', 'INC'],
    ['null', null],
    ['undefined', undefined],
    ['an array', [{ type: 'INC' }]],
    ['{}', {}],
    ['a numeric type', { type: 1 }],
    ['an empty type', { type: '' }],
    ['an xstate.* type', { type: 'xstate.init' }],
  ])('send of %s throws INVALID_MESSAGE', async (_label, message) => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([worker('P', probe)]);
    const letters = vi.fn();
    runtime.events.on('deadLetter', letters);
    for (const to of ['P', 'Nobody']) {
      expect(() => runtime.send(to, message as never)).toThrow(InvalidMessageError);
      expect(() => runtime.cast(to, message as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_MESSAGE' }),
      );
      await expect(runtime.call(to, message as never)).rejects.toBeInstanceOf(InvalidMessageError);
    }
    // The call is queued behind anything a refused send might wrongly have queued.
    expect(await runtime.call('P', { type: 'GET' })).toBe(0);
    expect(runtime.deadLetters).toBe(0);
    expect(letters).not.toHaveBeenCalled();
    expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: 1 });
  });
});
