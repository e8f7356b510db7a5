/**
 * `runtime.whenRunning()` and the `runtime.started` event: a service waits for the tree to be up
 * without polling `runtime.state`.
 */
import { describe, expect, it } from 'vitest';
import { RuntimeStoppedError, worker } from '../src/index.js';
import { failsOnStart, isReady, LiveActors, manualRuntime, nameInput, probe } from './helpers.js';

describe('whenRunning', () => {
  it('resolves once the whole tree is up, after runtime.started, not before', async () => {
    const { runtime, clock } = manualRuntime();
    const live = new LiveActors();
    const order: string[] = [];
    runtime.events.on('runtime.started', () => order.push('event'));
    const waiting = runtime.whenRunning().then(() => order.push(`resolved:${runtime.state}`));
    const starting = runtime.start([
      worker('A', probe),
      worker('Slow', live.machine({ readyAfterMs: 50 }), { input: nameInput, readyWhen: isReady }),
    ]);
    await clock.advance(49);
    expect(order).toEqual([]);
    expect(runtime.state).toBe('starting');
    await clock.advance(1);
    await starting;
    await waiting;
    expect(order).toEqual(['event', 'resolved:running']);
    await runtime.whenRunning(); // at once when already running
    await runtime.stop();
  });

  it('rejects with RUNTIME_STOPPED, carrying the start error, when the start fails', async () => {
    const { runtime } = manualRuntime();
    const waiting = runtime.whenRunning().catch((err: unknown) => err);
    await expect(runtime.start([worker('Bad', failsOnStart)])).rejects.toMatchObject({
      code: 'START_FAILED',
    });
    const error = await waiting;
    expect(error).toBeInstanceOf(RuntimeStoppedError);
    expect((error as Error).cause).toMatchObject({ code: 'START_FAILED', child: 'Bad' });
  });

  it('rejects when the runtime is stopped before it started', async () => {
    const { runtime } = manualRuntime();
    await runtime.stop();
    await expect(runtime.whenRunning()).rejects.toMatchObject({ code: 'RUNTIME_STOPPED' });
  });

  it('rejects when stopped while starting; stop resolves with nothing alive', async () => {
    const { runtime, clock } = manualRuntime();
    const live = new LiveActors();
    const starting = runtime
      .start([worker('Slow', live.machine({ readyAfterMs: 50 }), { input: nameInput, readyWhen: isReady })])
      .catch((err: unknown) => err);
    const waiting = runtime.whenRunning().catch((err: unknown) => err);
    await clock.advance(10);
    await runtime.stop();
    expect(await waiting).toMatchObject({ code: 'RUNTIME_STOPPED' });
    expect(await starting).toMatchObject({ code: 'START_FAILED' });
    expect(runtime.state).toBe('stopped');
    expect(live.total()).toBe(0);
  });

  it('a stop issued in the same tick as start leaves nothing alive', async () => {
    const { runtime } = manualRuntime();
    const live = new LiveActors();
    const starting = runtime
      .start([worker('A', live.machine(), { input: nameInput })])
      .catch((err: unknown) => err);
    await runtime.stop();
    await starting;
    expect(live.total()).toBe(0);
    expect(runtime.state).toBe('stopped');
    expect(runtime.status('A')).not.toBe('running');
  });
});
