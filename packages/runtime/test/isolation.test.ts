/**
 * Isolated actors (threadPool): the same messaging as any actor, seen from outside, and the two
 * things an in-thread actor cannot have: preemption of a message that runs too long, and a heap
 * limit that ends the actor, not the process.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, expect, it, vi } from 'vitest';
import { fromCallback } from 'xstate';
import {
  CalleeExitedError,
  createRuntime,
  Exit,
  type ExitReason,
  InvalidMessageError,
  type Runtime,
  reply,
  StartError,
  supervisor,
  type ThreadPool,
  type TurnTimeoutError,
  threadPool,
  worker,
} from '../src/index.js';

const FIXTURE = new URL('./fixtures/isolated.ts', import.meta.url);
const counter = (await import('./fixtures/isolated.js')).counter;

let runtime: Runtime | undefined;
const pools: ThreadPool[] = [];
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  for (const p of pools.splice(0)) await p.close();
});

function pool(options?: Parameters<typeof threadPool>[0]): ThreadPool {
  const p = threadPool(options);
  pools.push(p);
  return p;
}

const ping = worker(
  'Ping',
  fromCallback(({ receive }) => receive((e) => reply(e, 'pong'))),
);

/** Resolves with the reason of the next crash of `name`. */
function crashOf(rt: Runtime, name: string): Promise<{ reason: ExitReason; at: number }> {
  return new Promise((resolve) => {
    const off = rt.events.on('actor.crashed', (e) => {
      if (e.name !== name) return;
      off();
      resolve({ reason: e.reason, at: performance.now() });
    });
  });
}

function startedAgain(rt: Runtime, name: string, incarnation: number): Promise<void> {
  return new Promise((resolve) => {
    const off = rt.events.on('actor.started', (e) => {
      if (e.name !== name || e.incarnation !== incarnation) return;
      off();
      resolve();
    });
  });
}

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

const codeOf = (reason: ExitReason) =>
  reason.kind === 'error' ? (reason.error as { code?: string }).code : reason.kind;

it('keeps mailbox order and answers calls, with replyError as a typed rejection', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  await runtime.start([worker('Counter', p.actor(FIXTURE, 'counter'))]);
  for (let n = 0; n < 100; n++) runtime.send('Counter', { type: 'inc', n });
  const state = await runtime.call<{ count: number; seen: number[] }>('Counter', { type: 'get' });
  expect(state.count).toBe(100);
  expect(state.seen).toEqual([...Array(100).keys()]);
  await expect(runtime.call('Counter', { type: 'refuse' })).rejects.toMatchObject({ code: 'NOPE' });
  expect(p.stats()).toMatchObject({ threads: 1, actors: 1 });
});

it('preempts a message that loops forever within maxTurnMs + 50 ms; the main thread keeps answering; the supervisor restarts it', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  await runtime.start([
    ping,
    supervisor('Isolated', [worker('Spinner', p.actor(FIXTURE, 'counter', { maxTurnMs: 1000 }))], {
      maxRestarts: 5,
      withinMs: 10_000,
    }),
  ]);
  runtime.send('Spinner', { type: 'inc' });
  // Loaded and running in its thread before the clock starts (the first load compiles the module).
  expect((await runtime.call<{ count: number }>('Spinner', { type: 'get' })).count).toBe(1);
  const crashed = crashOf(runtime, 'Spinner');
  const restarted = startedAgain(runtime, 'Spinner', 2);
  const sentAt = performance.now();
  runtime.send('Spinner', { type: 'spin' });
  const pending = runtime.call('Spinner', { type: 'get' });
  const refused = expect(pending).rejects.toBeInstanceOf(CalleeExitedError);
  // While it spins, an actor on the main thread answers, again and again: every answer comes
  // before the spinner is preempted (a blocked main thread would answer only after).
  const answeredAt: number[] = [];
  for (let i = 0; i < 5; i++) {
    expect(await runtime.call('Ping', { type: 'ping' })).toBe('pong');
    answeredAt.push(performance.now());
  }
  const { reason, at } = await crashed;
  expect(Math.max(...answeredAt)).toBeLessThan(at);
  expect(codeOf(reason)).toBe('TURN_TIMEOUT');
  expect((reason as { error: Error }).error.message).toContain("'spin'");
  // Preempted within maxTurnMs + 50 ms of the message's start in the thread (the watchdog's own
  // measure), and the exit reported soon after the send (terminating a thread takes a moment).
  const ranMs = reason.kind === 'error' ? (reason.error as TurnTimeoutError).ranMs : Number.NaN;
  // Node's timers keep whole milliseconds: one may fire up to 1 ms before performance.now() says.
  expect(ranMs).toBeGreaterThanOrEqual(1000 - 1);
  expect(ranMs).toBeLessThan(1000 + 50);
  expect(at - sentAt).toBeLessThan(1000 + 1000);
  // The call queued behind the spin was owed by the incarnation that died.
  await refused;
  await restarted;
  expect(await runtime.call('Spinner', { type: 'get' })).toEqual({ count: 0, seen: [] });
  expect(p.stats().restarts).toBe(1);
});

it('an actor sharing the preempted thread exits with THREAD_EXITED and is restarted too', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  // Two exits at once count twice toward the supervisor's intensity (OTP's default, 1 in 5 s,
  // would take the tree down): give it room.
  await runtime.start(
    [worker('A', p.actor(FIXTURE, 'counter', { maxTurnMs: 100 })), worker('B', p.actor(FIXTURE, 'counter'))],
    { maxRestarts: 5, withinMs: 10_000 },
  );
  runtime.send('B', { type: 'inc' });
  expect((await runtime.call<{ count: number }>('B', { type: 'get' })).count).toBe(1);
  const a = crashOf(runtime, 'A');
  const b = crashOf(runtime, 'B');
  const bBack = startedAgain(runtime, 'B', 2);
  runtime.send('A', { type: 'spin' });
  expect(codeOf((await a).reason)).toBe('TURN_TIMEOUT');
  expect(codeOf((await b).reason)).toBe('THREAD_EXITED');
  await bBack;
  expect((await runtime.call<{ count: number }>('B', { type: 'get' })).count).toBe(0);
});

it('an actor that allocates past its heap limit exits with OUT_OF_MEMORY; the process lives', async () => {
  const p = pool({ threads: 1, heapMb: 32 });
  runtime = createRuntime();
  await runtime.start([ping, worker('Hog', p.actor(FIXTURE, 'counter', { maxTurnMs: 'infinity' }))]);
  const crashed = crashOf(runtime, 'Hog');
  runtime.send('Hog', { type: 'hog' });
  expect(codeOf((await crashed).reason)).toBe('OUT_OF_MEMORY');
  expect(await runtime.call('Ping', { type: 'ping' })).toBe('pong');
});

it('a throw in the thread is a crash with its message, restarted by the supervisor', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  await runtime.start([worker('Boom', p.actor(FIXTURE, 'counter'))]);
  const crashed = crashOf(runtime, 'Boom');
  const back = startedAgain(runtime, 'Boom', 2);
  runtime.send('Boom', { type: 'boom' });
  const { reason } = await crashed;
  expect(reason.kind === 'error' && reason.error.message).toContain('boom in a thread');
  await back;
  expect(p.stats().restarts).toBe(0); // the thread itself lived on
});

it('a call with a message that cannot be cloned is INVALID_MESSAGE; the actor carries on', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  await runtime.start([worker('Counter', p.actor(FIXTURE, 'counter'))]);
  await expect(runtime.call('Counter', { type: 'get', fn: () => 1 })).rejects.toMatchObject({
    code: 'INVALID_MESSAGE',
  });
  expect(await runtime.call('Counter', { type: 'get' })).toEqual({ count: 0, seen: [] });
});

it("runtime.stop() leaves no actor on a pool; the pool's close() ends its threads", async () => {
  const p = pool({ threads: 2 });
  runtime = createRuntime();
  await runtime.start([worker('A', p.actor(FIXTURE, 'counter')), worker('B', p.actor(FIXTURE, 'counter'))]);
  expect(p.stats()).toMatchObject({ threads: 2, actors: 2 });
  await runtime.stop();
  runtime = undefined;
  expect(p.stats()).toMatchObject({ threads: 2, actors: 0 });
  await p.close();
  expect(p.stats()).toMatchObject({ threads: 0, actors: 0 });
  await p.close(); // idempotent
});

it("the spec form runs on the runtime's own pool, started on first use and terminated by runtime.stop()", async () => {
  const terminate = vi.spyOn(Worker.prototype, 'terminate');
  try {
    runtime = createRuntime({ threadPool: { threads: 2 } });
    await runtime.start([
      worker('Counter', { module: FIXTURE, export: 'counter' }, { isolation: 'thread', maxTurnMs: 100 }),
    ]);
    runtime.send('Counter', { type: 'inc', n: 7 });
    expect(await runtime.call('Counter', { type: 'get' })).toEqual({ count: 1, seen: [7] });
    const crashed = crashOf(runtime, 'Counter');
    runtime.send('Counter', { type: 'spin' });
    expect(codeOf((await crashed).reason)).toBe('TURN_TIMEOUT');
    terminate.mockClear();
    await runtime.stop();
    runtime = undefined;
    expect(terminate).toHaveBeenCalledTimes(2);
  } finally {
    terminate.mockRestore();
  }
});

it('worker() refuses a { module, export } logic without isolation, and isolation without one', () => {
  expect(() => worker('W', { module: FIXTURE, export: 'counter' })).toThrow(
    expect.objectContaining({ code: 'INVALID_CHILD_SPEC', field: 'isolation' }),
  );
  expect(() => worker('W', counter, { isolation: 'thread' })).toThrow(
    expect.objectContaining({ code: 'INVALID_CHILD_SPEC', field: 'logic' }),
  );
  expect(() => worker('W', counter, { maxTurnMs: 5 })).toThrow(
    expect.objectContaining({ code: 'INVALID_CHILD_SPEC', field: 'maxTurnMs' }),
  );
  expect(() => worker('W', { module: './relative.js', export: 'counter' }, { isolation: 'thread' })).toThrow(
    expect.objectContaining({ code: 'INVALID_CHILD_SPEC', child: 'W', field: 'module' }),
  );
  expect(() => createRuntime({ threadPool: { threads: 0 } })).toThrow(
    expect.objectContaining({ code: 'INVALID_RUNTIME_OPTION', option: 'threadPool' }),
  );
});

it('a send whose message cannot be cloned throws INVALID_MESSAGE at the sender; nothing reaches the actor', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  await runtime.start([worker('Counter', p.actor(FIXTURE, 'counter'))]);
  const letters = vi.fn();
  runtime.events.on('deadLetter', letters);
  expect(() => runtime?.send('Counter', { type: 'inc', n: 1, fn: () => 1 })).toThrow(InvalidMessageError);
  expect(() => runtime?.cast('Counter', { type: 'inc', n: 2, sym: Symbol('x') })).toThrow(
    expect.objectContaining({ code: 'INVALID_MESSAGE' }),
  );
  // What is sent is a copy taken at the send: changing the object afterwards changes nothing.
  const message = { type: 'inc', n: 3 };
  runtime.send('Counter', message);
  message.n = 99;
  expect(await runtime.call('Counter', { type: 'get' })).toEqual({ count: 1, seen: [3] });
  expect(letters).not.toHaveBeenCalled();
  expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: 1 });
});

it('an isolated actor calls a main-thread actor and replies with its answer; it sends with castTo', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  const notes: number[] = [];
  const log = fromCallback(({ receive }) => receive((e) => notes.push((e as unknown as { n: number }).n)));
  const oracle = fromCallback(({ receive }) =>
    receive((e) => reply(e, (e as unknown as { n: number }).n ** 2)),
  );
  await runtime.start([
    worker('Oracle', oracle),
    worker('Log', log),
    worker('Asker', p.actor(FIXTURE, 'asker')),
  ]);
  expect(await runtime.call('Asker', { type: 'ask', n: 12 })).toEqual({ value: 144, from: 'Asker' });
  expect(await runtime.call('Asker', { type: 'askNobody' })).toBe('UNKNOWN_ACTOR');
  // Refused in the thread, at the sender, as on the main thread.
  expect(await runtime.call('Asker', { type: 'sendFunction' })).toBe('INVALID_MESSAGE');
  runtime.send('Asker', { type: 'tell', n: 5 });
  // The Asker's cast reaches Log before the answer to a later call comes back (one channel, in order).
  expect(await runtime.call('Asker', { type: 'ask', n: 2 })).toEqual({ value: 4, from: 'Asker' });
  expect(await runtime.call('Oracle', { type: 'square', n: 3 })).toBe(9);
  expect(notes).toEqual([5]);
});

it.each([
  [
    'a module that does not exist',
    () => new URL('./fixtures/missing.ts', import.meta.url),
    'counter',
    /cannot load/,
  ],
  ['an export that does not exist', () => FIXTURE, 'nothing', /no export 'nothing'/],
])('%s: the start fails with START_FAILED, the runtime lives', async (_label, module, exported, why) => {
  runtime = createRuntime({ threadPool: { threads: 1 } });
  await runtime.start([ping]);
  const error = await runtime
    .startChild(worker('Broken', { module: module(), export: exported }, { isolation: 'thread' }))
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StartError);
  expect(error).toMatchObject({ code: 'START_FAILED', child: 'Broken' });
  expect((error as Error).message).toMatch(why);
  expect(runtime.state).toBe('running');
  expect(await runtime.call('Ping', { type: 'ping' })).toBe('pong');
});

it('messages already passed to the thread when the actor is killed are dropped there and recorded as dead letters', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  await runtime.start([
    worker('Counter', p.actor(FIXTURE, 'counter', { maxTurnMs: 'infinity' }), { restart: 'temporary' }),
    ping,
  ]);
  const gate = new Int32Array(new SharedArrayBuffer(8));
  runtime.send('Counter', { type: 'block', gate: gate.buffer as SharedArrayBuffer });
  // Atomics.waitAsync is in Node 20, not in this project's TypeScript lib (ES2022).
  const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
  const blocking = waitAsync(gate, 1, 0);
  if (blocking.async) await blocking.value; // the thread is inside 'block' now
  for (let n = 0; n < 20; n++) runtime.send('Counter', { type: 'inc', n });
  // The drain loop serves actors in the order they were scheduled: once Ping has answered, the
  // turn that passed Counter's 20 messages to its blocked thread has run.
  expect(await runtime.call('Ping', { type: 'ping' })).toBe('pong');
  expect(runtime.mailboxDepth('Counter')).toBe(0);
  const letters: string[] = [];
  runtime.events.on('deadLetter', (e) => letters.push(e.messageType));
  runtime.exit('Counter', Exit.killed);
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  while (letters.length < 20) await runtime.events.waitFor('deadLetter');
  expect(letters).toEqual(Array(20).fill('inc'));
  expect(runtime.deadLetters).toBe(20);
});

it('an upgrade of an isolated actor is refused with UPGRADE_FAILED and changes nothing', async () => {
  const p = pool({ threads: 1 });
  runtime = createRuntime();
  await runtime.start([worker('Counter', p.actor(FIXTURE, 'counter'))]);
  runtime.send('Counter', { type: 'inc', n: 1 });
  await expect(runtime.upgrade('Counter', p.actor(FIXTURE, 'lean'))).rejects.toMatchObject({
    code: 'UPGRADE_FAILED',
    stage: 'load',
  });
  expect(await runtime.call('Counter', { type: 'get' })).toEqual({ count: 1, seen: [1] });
});

it('refuses a module that is not an absolute URL or path, and a bad maxTurnMs', () => {
  const p = pool();
  expect(() => p.actor('./relative.js', 'x')).toThrow(/absolute file URL/);
  expect(() => p.actor(FIXTURE, 'counter', { maxTurnMs: 0 })).toThrow(/maxTurnMs/);
});
