/**
 * The runtime's protocol can't be forged: `vigil.*` types (like `xstate.*`) are refused by
 * `send` and `call` with INVALID_MESSAGE, nothing delivered; the runtime itself still delivers
 * `vigil.shutdown` to trapExit actors and `vigil.down` to watchers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import {
  type Down,
  InvalidMessageError,
  isReservedType,
  type Runtime,
  SHUTDOWN_EVENT,
  worker,
} from '../src/index.js';
import { manualRuntime, probe } from './helpers.js';

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

describe('isReservedType', () => {
  it.each([
    ['vigil.shutdown', true],
    ['vigil.down', true],
    ['vigil.anything', true],
    ['xstate.init', true],
    ['vigil', false],
    ['vigilant', false],
    ['my.vigil.event', false],
    ['INC', false],
  ])('%s → %s', (type, reserved) => {
    expect(isReservedType(type)).toBe(reserved);
  });
});

describe('send and call refuse reserved types', () => {
  it.each([SHUTDOWN_EVENT, 'vigil.down', 'vigil.other'])(
    '%s: INVALID_MESSAGE, the trapExit actor keeps running',
    async (type) => {
      const { runtime } = manualRuntime();
      current = runtime;
      await runtime.start([worker('Trapper', probe, { trapExit: true })]);
      expect(() => runtime.send('Trapper', { type })).toThrow(InvalidMessageError);
      await expect(runtime.call('Trapper', { type })).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
      // Nothing was delivered: the probe reaches its final state on vigil.shutdown if it gets it.
      expect(await runtime.call('Trapper', { type: 'GET' })).toBe(0);
      expect(runtime.status('Trapper')).toBe('running');
      expect(runtime.whichChildren()[0]).toMatchObject({ incarnation: 1 });
    },
  );
});

describe('the runtime still delivers its own protocol messages', () => {
  it('vigil.shutdown reaches a trapExit actor on stop, vigil.down reaches a watcher', async () => {
    const seen: string[] = [];
    const watcher = setup({}).createMachine({
      on: { 'vigil.down': { actions: ({ event }) => seen.push(`down:${(event as unknown as Down).name}`) } },
    });
    const trapper = setup({}).createMachine({
      initial: 'running',
      states: {
        running: { on: { 'vigil.shutdown': { target: 'done', actions: () => seen.push('shutdown') } } },
        done: { type: 'final' },
      },
    });
    const { runtime } = manualRuntime();
    await runtime.start([
      worker('Watcher', watcher),
      worker('Watched', probe, { restart: 'temporary' }),
      worker('Trapper', trapper, { trapExit: true }),
    ]);
    runtime.monitor('Watched', 'Watcher');
    const stopped = runtime.events.waitFor('actor.stopped', (e) => e.name === 'Watched');
    runtime.send('Watched', { type: 'STOP' });
    await stopped;
    const received = runtime.events.waitFor('actor.stopped', (e) => e.name === 'Trapper');
    await runtime.stop();
    await received;
    expect(seen).toEqual(['down:Watched', 'shutdown']);
  });
});
