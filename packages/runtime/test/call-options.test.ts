/**
 * `call`'s options from untyped callers: `null` means "no options" (the default timeout), and a
 * value that is not an object is refused with a typed error, never a TypeError.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { reply, worker } from '../src/index.js';
import { manualRuntime } from './helpers.js';

const echo = setup({}).createMachine({
  on: { PING: { actions: ({ event }) => reply(event, 'pong') } },
});

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('call options from untyped callers', () => {
  it('null options take the defaults', async () => {
    const { runtime } = manualRuntime();
    await runtime.start([worker('Echo', echo)]);
    stop = () => runtime.stop();
    await expect(runtime.call('Echo', { type: 'PING' }, null as never)).resolves.toBe('pong');
  });

  it('options that are not an object are refused with INVALID_MESSAGE', async () => {
    const { runtime } = manualRuntime();
    await runtime.start([worker('Echo', echo)]);
    stop = () => runtime.stop();
    await expect(runtime.call('Echo', { type: 'PING' }, 5 as never)).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
  });
});
