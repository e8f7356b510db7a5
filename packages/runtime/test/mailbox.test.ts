/**
 * Mailboxes and messaging on the main thread: asynchrony, fairness between actors, the call
 * errors that do not depend on the callee, and refusal of malformed messages (also to unknown
 * names, and by `cast`). What an actor does with its mailbox (FIFO, crash containment, call /
 * reply and how calls fail, dead letters) is in parity.test.ts, run in-thread and isolated.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, setup } from 'xstate';
import { createRuntime, InvalidMessageError, type Runtime, UnknownActorError, worker } from '../src/index.js';
import { manualRuntime, probe, quiesce } from './helpers.js';

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
function _recorder() {
  const seen: number[] = [];
  const machine = setup({ types: { events: {} as { type: 'MSG'; n: number } } }).createMachine({
    on: { MSG: { actions: ({ event }) => seen.push(event.n) } },
  });
  return { seen, machine };
}

describe('asynchrony', () => {
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

// -----------------------------------------------------------------------------------------
// call / reply.

describe('call', () => {
  it('rejects with UNKNOWN_ACTOR for a name never declared', async () => {
    const { runtime } = manualRuntime();
    use(runtime);
    await runtime.start([]);
    const error = await runtime.call('Nobody', { type: 'ECHO' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownActorError);
    expect(error).toMatchObject({ code: 'UNKNOWN_ACTOR', actor: 'Nobody' });
  });

  it('never throws synchronously, even for a malformed message', () => {
    const runtime = use(createRuntime());
    expect(() => runtime.call('X', 42 as never).catch(() => {})).not.toThrow();
  });
});

// -----------------------------------------------------------------------------------------
// Dead letters and malformed messages.

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
