/**
 * The event bus and monitors: a listener can never hurt the runtime; once/off; monitors are
 * one-way, deliver the exit reason, say `noproc` for a dead name, and can notify an actor.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, setup } from 'xstate';
import {
  createRuntime,
  type Down,
  EventBus,
  Exit,
  type Runtime,
  reply,
  supervisor,
  worker,
} from '../src/index.js';
import { drained, exitHandled, makeExit, manualRuntime, probe } from './helpers.js';

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

function start(): Runtime {
  const { runtime } = manualRuntime();
  current = runtime;
  return runtime;
}

describe('listeners cannot hurt the runtime', () => {
  it('a throwing listener does not break emit; others still run; listener.error is emitted', () => {
    const bus = new EventBus();
    const after = vi.fn();
    const errors: { event: string; error: Error }[] = [];
    bus.on('listener.error', (e) => errors.push(e));
    bus.on('actor.started', () => {
      throw new Error('bad listener');
    });
    bus.on('actor.started', after);
    expect(() => bus.emit('actor.started', { name: 'A', incarnation: 1, at: 0 })).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ event: 'actor.started', error: { message: 'bad listener' } });
  });

  it('a listener.error listener that throws is dropped, not reported in a loop', () => {
    const bus = new EventBus();
    const calls = vi.fn(() => {
      throw new Error('also bad');
    });
    bus.on('listener.error', calls);
    bus.on('deadLetter', () => {
      throw 'not even an Error';
    });
    expect(() =>
      bus.emit('deadLetter', { to: 'X', messageType: 'M', reason: 'undeclared', at: 0 }),
    ).not.toThrow();
    expect(calls).toHaveBeenCalledTimes(1);
    const [[payload]] = calls.mock.calls as unknown as [[{ error: Error }]];
    expect(payload.error).toBeInstanceOf(Error);
    expect(payload.error.cause).toBe('not even an Error');
  });

  it('the runtime keeps supervising while its listeners throw on every event', async () => {
    const runtime = start();
    const reported = vi.fn();
    runtime.events.on('listener.error', reported);
    for (const name of ['actor.started', 'actor.crashed', 'actor.restarted', 'actor.stopped'] as const) {
      runtime.events.on(name, () => {
        throw new Error(`listener of ${name}`);
      });
    }
    await runtime.start([worker('A', probe)], { maxRestarts: 5 });
    await exitHandled(runtime, 'A', 'error');
    expect(runtime.whichChildren()[0]).toMatchObject({ status: 'running', incarnation: 2 });
    runtime.send('A', { type: 'INC' });
    expect(await runtime.call('A', { type: 'GET' })).toBe(1);
    expect(reported.mock.calls.map(([e]) => e.event)).toEqual([
      'actor.started', // A@1
      'actor.started', // root
      'actor.crashed',
      'actor.restarted',
      'actor.started', // A@2
    ]);
  });

  it('a throwing monitor callback is reported and does not stop the restart', async () => {
    const runtime = start();
    const reported = runtime.events.waitFor('listener.error', (e) => e.event === 'monitor');
    await runtime.start([worker('A', probe)]);
    runtime.monitor('A', () => {
      throw new Error('bad monitor');
    });
    makeExit(runtime, 'A', 'error');
    expect((await reported).error.message).toBe('bad monitor');
    await drained(runtime);
    expect(runtime.status('A')).toBe('running');
  });
});

describe('on / once / off', () => {
  const started = { name: 'A', incarnation: 1, at: 0 };

  it('once runs at most once', () => {
    const bus = new EventBus();
    const fn = vi.fn();
    bus.once('actor.started', fn);
    bus.emit('actor.started', started);
    bus.emit('actor.started', started);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(bus.has('actor.started')).toBe(false);
  });

  it('off and the returned function both remove a listener', () => {
    const bus = new EventBus();
    const a = vi.fn();
    const b = vi.fn();
    const c = vi.fn();
    const offA = bus.on('actor.started', a);
    bus.on('actor.started', b);
    const offC = bus.once('actor.started', c);
    offA();
    bus.off('actor.started', b);
    offC();
    bus.emit('actor.started', started);
    expect([a, b, c].map((f) => f.mock.calls.length)).toEqual([0, 0, 0]);
    expect(bus.has('actor.started')).toBe(false);
  });

  it('the same function on two events is removed from one only', () => {
    const bus = new EventBus();
    const fn = vi.fn();
    bus.on('actor.started', fn);
    bus.on('actor.stopped', fn);
    bus.off('actor.started', fn);
    bus.emit('actor.started', started);
    bus.emit('actor.stopped', { ...started, reason: Exit.normal });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('waitFor resolves with the first payload that matches, then detaches', async () => {
    const bus = new EventBus();
    const waiting = bus.waitFor('actor.started', (e) => e.incarnation === 2);
    bus.emit('actor.started', started);
    bus.emit('actor.started', { ...started, incarnation: 2 });
    expect(await waiting).toMatchObject({ incarnation: 2 });
    expect(bus.has('actor.started')).toBe(false);
  });
});

// -----------------------------------------------------------------------------------------
// Monitors.

/** Keeps every `vigil.down` it receives; `DOWNS` answers them. */
const watcher = setup({
  types: { context: {} as { downs: unknown[] } },
}).createMachine({
  context: { downs: [] },
  on: {
    'vigil.down': { actions: assign({ downs: ({ context, event }) => [...context.downs, event] }) },
    DOWNS: { actions: ({ context, event }) => reply(event, context.downs) },
  },
});

describe('monitors', () => {
  it.each(['normal', 'shutdown', 'error', 'killed'] as const)(
    'deliver the exit reason (%s)',
    async (reason) => {
      const runtime = start();
      await runtime.start([worker('A', probe, { restart: 'temporary' })]);
      const downs: Down[] = [];
      runtime.monitor('A', (d) => downs.push(d));
      await exitHandled(runtime, 'A', reason);
      expect(downs).toEqual([
        { name: 'A', incarnation: 1, reason: expect.objectContaining({ kind: reason }) },
      ]);
    },
  );

  it('watch one incarnation: the restarted actor is not monitored', async () => {
    const runtime = start();
    await runtime.start([worker('A', probe)], { maxRestarts: 5 });
    const downs: Down[] = [];
    runtime.monitor('A', (d) => downs.push(d));
    await exitHandled(runtime, 'A', 'error');
    await exitHandled(runtime, 'A', 'error');
    expect(downs.map((d) => d.incarnation)).toEqual([1]);
  });

  it('are one-way: the watcher hears of the exit and is not affected by it', async () => {
    const runtime = start();
    await runtime.start([worker('W', watcher), worker('A', probe)]);
    runtime.monitor('A', 'W');
    await exitHandled(runtime, 'A', 'error');
    const downs = await runtime.call<unknown[]>('W', { type: 'DOWNS' });
    expect(downs).toEqual([
      { type: 'vigil.down', name: 'A', incarnation: 1, reason: expect.objectContaining({ kind: 'error' }) },
    ]);
    expect(runtime.whichChildren()).toEqual([
      expect.objectContaining({ id: 'W', incarnation: 1, status: 'running' }),
      expect.objectContaining({ id: 'A', incarnation: 2, status: 'running' }),
    ]);
  });

  it('the watcher exiting does not affect the watched actor', async () => {
    const runtime = start();
    await runtime.start([worker('W', watcher, { restart: 'temporary' }), worker('A', probe)]);
    runtime.monitor('W', () => {});
    runtime.monitor('A', 'W');
    await exitHandled(runtime, 'W', 'killed');
    expect(runtime.whichChildren()).toEqual([expect.objectContaining({ id: 'A', incarnation: 1 })]);
  });

  it.each([
    ['a name never declared', 'Nobody'],
    ['a declared name that is down', 'T'],
  ])('monitoring %s gives an immediate noproc down', async (_label, name) => {
    const runtime = start();
    await runtime.start([worker('T', probe, { restart: 'transient' })]);
    await exitHandled(runtime, 'T', 'normal');
    const down = await new Promise<Down>((resolve) => runtime.monitor(name, resolve));
    expect(down).toEqual({ name, incarnation: 0, reason: Exit.noproc });
  });

  it('the cancel function stops the notice, also a pending noproc', async () => {
    const runtime = start();
    await runtime.start([worker('A', probe)]);
    const heard = vi.fn();
    runtime.monitor('A', heard)();
    runtime.monitor('Nobody', heard)();
    await exitHandled(runtime, 'A', 'error');
    expect(heard).not.toHaveBeenCalled();
  });

  it('monitor a supervisor: down comes when it gives up', async () => {
    const runtime = createRuntime();
    current = runtime;
    await runtime.start([supervisor('S', [worker('A', probe)], { maxRestarts: 0, restart: 'temporary' })]);
    const down = new Promise<Down>((resolve) => runtime.monitor('S', resolve));
    makeExit(runtime, 'A', 'error');
    expect(await down).toMatchObject({
      name: 'S',
      reason: { kind: 'shutdown', detail: 'reached_max_restart_intensity' },
    });
  });
});
