/**
 * The public `Runtime` is what users call; the registry, the drain loop and the declaration
 * services are reachable only through the internal host that actors and supervisors get. The
 * `@ts-expect-error` lines are checked by `pnpm typecheck`: each fails to compile if the member
 * becomes public again.
 */
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { createRuntime, runtimeOf, type StartContext, worker } from '../src/index.js';
import { manualRuntime } from './helpers.js';

describe('the public Runtime', () => {
  it('does not expose its internals to the type checker', () => {
    const runtime = createRuntime();
    const internals = [
      // @ts-expect-error the registry is internal
      () => runtime.registry,
      // @ts-expect-error the drain loop is internal
      () => runtime.scheduler,
      // @ts-expect-error declaring names is the supervisors' job
      () => runtime.declare,
      // @ts-expect-error as is undeclaring them
      () => runtime.undeclare,
      // @ts-expect-error dead letters are counted by the runtime itself
      () => runtime.deadLetter,
      // @ts-expect-error listener errors are reported by the runtime itself
      () => runtime.reportListenerError,
    ];
    expect(internals).toHaveLength(6);
    expect(typeof runtime.isDeclared).toBe('function');
    expect(typeof runtime.whenRunning).toBe('function');
  });

  it('runtimeOf(self) and a worker’s input function still reach the runtime', async () => {
    const { runtime } = manualRuntime();
    let fromInput: unknown;
    let fromSelf: unknown;
    const machine = setup({}).createMachine({
      entry: ({ self }) => {
        fromSelf = runtimeOf(self);
      },
    });
    await runtime.start([
      worker('A', machine, {
        input: (ctx: StartContext) => {
          fromInput = ctx.runtime;
          return {};
        },
      }),
    ]);
    expect(fromInput).toBe(runtime);
    expect(fromSelf).toBe(runtime);
    await runtime.stop();
  });
});
