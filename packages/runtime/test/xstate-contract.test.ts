/**
 * The contract with XState's internals that the runtime relies on. XState is pinned exactly;
 * this file fails, loudly and by name, when an upgrade changes it.
 *
 * `processOf` (actor.ts) finds the Vigil actor running an invoked or spawned child by walking the
 * child's `_parent` references up to the root actor Vigil created: `runtimeOf(self)` and
 * `nameOf(self)` inside a promise actor (every target built with `defineTarget` does this) depend
 * on it. `_parent` is not public API.
 */

import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, fromPromise, setup, spawnChild } from 'xstate';
import { createRuntime, nameOf, runtimeOf, worker } from '../src/index.js';

describe('XState contract: _parent links a child to the actor that invoked or spawned it', () => {
  it('an invoked child, a spawned child and their own children point up the tree; the root points nowhere', () => {
    const grandchild = fromPromise(async () => new Promise<never>(() => undefined));
    const child = setup({ actors: { grandchild } }).createMachine({
      invoke: { id: 'grandchild', src: 'grandchild' },
    });
    const root = setup({ actors: { child, spawned: fromCallback(() => undefined) } }).createMachine({
      invoke: { id: 'child', src: 'child' },
      entry: spawnChild('spawned', { id: 'spawned' }),
    });
    const actor = createActor(root).start();
    const parentOf = (ref: unknown) => (ref as { _parent?: unknown })._parent;
    const invoked = actor.getSnapshot().children.child;
    const spawned = actor.getSnapshot().children.spawned;
    expect(invoked).toBeDefined();
    expect(spawned).toBeDefined();
    const deeper = (invoked!.getSnapshot() as { children: Record<string, unknown> }).children.grandchild;
    expect(deeper).toBeDefined();
    expect(parentOf(actor)).toBeUndefined();
    expect(parentOf(invoked)).toBe(actor);
    expect(parentOf(spawned)).toBe(actor);
    expect(parentOf(deeper)).toBe(invoked);
    actor.stop();
  });

  it('runtimeOf and nameOf work from a promise actor invoked by a Vigil actor', async () => {
    let found!: (value: { name: string; sameRuntime: boolean }) => void;
    const result = new Promise<{ name: string; sameRuntime: boolean }>((resolve) => {
      found = resolve;
    });
    const runtime = createRuntime();
    const probe = fromPromise(async ({ self }) => {
      found({ name: nameOf(self), sameRuntime: runtimeOf(self) === runtime });
    });
    const machine = setup({ actors: { probe } }).createMachine({
      invoke: { src: 'probe' },
    });
    await runtime.start([worker('Probe', machine)]);
    try {
      expect(await result).toEqual({ name: 'Probe', sameRuntime: true });
    } finally {
      await runtime.stop();
    }
  });
});
