/**
 * Hot upgrade (`runtime.upgrade`): the logic of a running worker is replaced while messages and
 * calls keep coming. Nothing queued is lost, reordered or delivered twice; calls still queued
 * are answered by the new code; name, monitors and supervisor are unchanged; later restarts
 * start the new logic. A failing migration or a failing start rolls back to the old logic.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import {
  type ChildSpec,
  createRuntime,
  type Down,
  InvalidChildSpecError,
  type Runtime,
  reply,
  supervisor,
  UnknownActorError,
  UpgradeFailedError,
  worker,
} from '../src/index.js';

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

async function started(children: ChildSpec[] = [worker('C', counter('v0'))]): Promise<Runtime> {
  const runtime = createRuntime();
  current = runtime;
  await runtime.start(children);
  return runtime;
}

interface CounterContext {
  count: number;
  /** Messages that arrived out of order (seq not count + 1): must stay 0. */
  gaps: number;
  upgrades: number;
}

type CounterEvent = { type: 'INC'; seq: number } | { type: 'GET' } | { type: 'CRASH' };

/** A counter machine at `version`; GET answers with the count and the version that answered. */
function counter(version: string) {
  return setup({
    types: { context: {} as CounterContext, events: {} as CounterEvent },
  }).createMachine({
    id: 'counter',
    version,
    context: { count: 0, gaps: 0, upgrades: 0 },
    initial: 'counting',
    states: {
      counting: {
        on: {
          INC: {
            actions: assign(({ context, event }) => ({
              count: context.count + 1,
              gaps: context.gaps + (event.seq === context.count + 1 ? 0 : 1),
            })),
          },
          GET: { actions: ({ context, event }) => reply(event, { ...context, version }) },
          CRASH: {
            actions: () => {
              throw new Error('crash on purpose');
            },
          },
        },
      },
    },
  });
}

type Reply = CounterContext & { version: string };

/** A migration that counts upgrades in the context (a real state change carried over). */
const countUpgrade = (snapshot: unknown) => {
  const s = snapshot as { context: CounterContext };
  return { ...s, context: { ...s.context, upgrades: s.context.upgrades + 1 } };
};

describe('upgrade under load', () => {
  it('100 upgrades while messages and calls stream in: each handled once, in order, state kept', async () => {
    const runtime = await started();
    const upgraded: string[] = [];
    runtime.events.on('actor.upgraded', (e) => upgraded.push(`${e.from}->${e.to}@${e.incarnation}`));
    let sent = 0;
    let producing = true;
    // A steady stream from outside the upgrade loop: one INC per event-loop turn.
    const produce = () => {
      if (!producing) return;
      runtime.send('C', { type: 'INC', seq: ++sent });
      setImmediate(produce);
    };
    setImmediate(produce);
    for (let k = 1; k <= 100; k++) {
      for (let i = 0; i < 5; i++) runtime.send('C', { type: 'INC', seq: ++sent });
      // Queued before the upgrade: the new code answers it, after every INC queued before it.
      const answer = runtime.call<Reply>('C', { type: 'GET' });
      const seqBefore = sent;
      const result = await runtime.upgrade('C', counter(`v${k}`), { migrate: countUpgrade });
      expect(result).toEqual({ name: 'C', from: `v${k - 1}`, to: `v${k}` });
      // Awaiting the answer lets the drain loop (and the producer) run between upgrades.
      const replied = await answer;
      expect(replied.version).toBe(`v${k}`);
      expect(replied.upgrades).toBe(k);
      // Every INC sent before the GET (by the loop or the producer), none after it.
      expect(replied.count).toBe(seqBefore);
      expect(replied.gaps).toBe(0);
    }
    producing = false;
    const last = await runtime.call<Reply>('C', { type: 'GET' });
    expect(last).toMatchObject({ count: sent, gaps: 0, upgrades: 100, version: 'v100' });
    expect(upgraded).toHaveLength(100);
    expect(upgraded[99]).toBe('v99->v100@1');
    expect(runtime.whichChildren()).toEqual([expect.objectContaining({ id: 'C', incarnation: 1 })]);
    expect(runtime.deadLetters).toBe(0);
  });
});

describe('what stays the same', () => {
  it('monitors and the supervisor stay; later restarts start the new logic', async () => {
    const runtime = await started();
    runtime.send('C', { type: 'INC', seq: 1 });
    const downs: Down[] = [];
    runtime.monitor('C', (d) => downs.push(d));
    await runtime.upgrade('C', counter('v1'));
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ count: 1, version: 'v1' });
    const restarted = new Promise((resolve) => runtime.events.once('actor.started', resolve));
    runtime.send('C', { type: 'CRASH' });
    await restarted;
    // The monitor set before the upgrade hears the crash of the upgraded incarnation.
    expect(downs).toEqual([expect.objectContaining({ name: 'C', incarnation: 1 })]);
    expect(downs[0]?.reason.kind).toBe('error');
    // The restart starts the new logic, from its initial state.
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ count: 0, version: 'v1' });
  });

  it('a worker under a nested supervisor is upgraded in place', async () => {
    const runtime = await started([supervisor('S', [worker('C', counter('v0'))])]);
    runtime.send('C', { type: 'INC', seq: 1 });
    await runtime.upgrade('C', counter('v1'));
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ count: 1, version: 'v1' });
    expect(runtime.whichChildren('S')).toEqual([expect.objectContaining({ id: 'C', incarnation: 1 })]);
  });
});

describe('rollback', () => {
  it('a migration that throws: UPGRADE_FAILED, the old logic runs on with its state and mailbox', async () => {
    const runtime = await started();
    runtime.send('C', { type: 'INC', seq: 1 });
    const upgraded: unknown[] = [];
    runtime.events.on('actor.upgraded', (e) => upgraded.push(e));
    runtime.send('C', { type: 'INC', seq: 2 });
    const queued = runtime.call<Reply>('C', { type: 'GET' });
    const failure = await runtime
      .upgrade('C', counter('v1'), {
        migrate: () => {
          throw new Error('bad migration');
        },
      })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(UpgradeFailedError);
    expect(failure).toMatchObject({ code: 'UPGRADE_FAILED', stage: 'migrate' });
    expect((failure as Error).message).toContain('bad migration');
    expect(await queued).toMatchObject({ count: 2, gaps: 0, version: 'v0' });
    expect(upgraded).toEqual([]);
    // The child spec was not changed: a restart starts the old logic.
    const restarted = new Promise((resolve) => runtime.events.once('actor.started', resolve));
    runtime.send('C', { type: 'CRASH' });
    await restarted;
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ count: 0, version: 'v0' });
  });

  it('an async migration that rejects rolls back the same way', async () => {
    const runtime = await started();
    runtime.send('C', { type: 'INC', seq: 1 });
    const failure = await runtime
      .upgrade('C', counter('v1'), { migrate: async () => Promise.reject(new Error('later')) })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 'UPGRADE_FAILED', stage: 'migrate' });
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ count: 1, version: 'v0' });
  });

  it('a new logic that fails to start: UPGRADE_FAILED, the old logic runs on', async () => {
    const runtime = await started();
    runtime.send('C', { type: 'INC', seq: 1 });
    const broken = setup({}).createMachine({
      id: 'broken',
      version: 'v1',
      initial: 'a',
      states: { a: {} },
    });
    const queued = runtime.call<Reply>('C', { type: 'GET' });
    // The snapshot names state 'counting', which the new machine does not have.
    const failure = await runtime.upgrade('C', broken).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 'UPGRADE_FAILED', stage: 'start' });
    expect(await queued).toMatchObject({ count: 1, version: 'v0' });
    expect(runtime.status('C')).toBe('running');
  });

  it('a migration that returns what the new logic cannot restore from rolls back', async () => {
    const runtime = await started();
    const failure = await runtime
      .upgrade('C', counter('v1'), { migrate: () => ({ status: 'active', value: 42, context: null }) })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 'UPGRADE_FAILED', stage: 'start' });
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ version: 'v0' });
  });
});

describe('bad input changes nothing', () => {
  it('an unknown name, logic that is not logic, a migrate that is not a function', async () => {
    const runtime = await started();
    await expect(runtime.upgrade('Nobody', counter('v1'))).rejects.toBeInstanceOf(UnknownActorError);
    await expect(runtime.upgrade('C', { not: 'logic' } as never)).rejects.toBeInstanceOf(
      InvalidChildSpecError,
    );
    await expect(runtime.upgrade('C', counter('v1'), { migrate: 42 as never })).rejects.toMatchObject({
      code: 'UPGRADE_FAILED',
    });
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ version: 'v0' });
  });
});

describe('upgradeFrom', () => {
  const fixture = new URL('./fixtures/upgrade-counter.ts', import.meta.url);

  it('loads the module afresh on each call (a new evaluation, not the cached one)', async () => {
    const runtime = await started();
    runtime.send('C', { type: 'INC', seq: 1 });
    const first = await runtime.upgradeFrom('C', fixture, 'counter');
    expect(first).toEqual({ name: 'C', from: 'v0', to: 'from-module' });
    const a = await runtime.call<{ count: number; evaluation: number }>('C', { type: 'GET' });
    await runtime.upgradeFrom('C', fixture.pathname, 'counter');
    const b = await runtime.call<{ count: number; evaluation: number }>('C', { type: 'GET' });
    expect(a.count).toBe(1);
    expect(b.count).toBe(1);
    expect(b.evaluation).toBeGreaterThan(a.evaluation);
  });

  it('a missing export or module: UPGRADE_FAILED at load, the actor untouched', async () => {
    const runtime = await started();
    await expect(runtime.upgradeFrom('C', fixture, 'notLogic')).rejects.toMatchObject({
      code: 'UPGRADE_FAILED',
      stage: 'load',
    });
    await expect(
      runtime.upgradeFrom('C', new URL('./fixtures/nope.ts', import.meta.url)),
    ).rejects.toMatchObject({
      code: 'UPGRADE_FAILED',
      stage: 'load',
    });
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ version: 'v0' });
  });
});

describe('delays pending at the upgrade', () => {
  it('an `after` delay armed by the old logic fires in the new one (re-armed, not lost)', async () => {
    let rang: (version: string) => void = () => {};
    const ringing = new Promise<string>((resolve) => {
      rang = resolve;
    });
    const bell = (version: string) =>
      setup({}).createMachine({
        id: 'bell',
        version,
        initial: 'waiting',
        states: {
          // Long enough that the upgrade surely happens first (it takes microtasks, not timers).
          waiting: { after: { 300: 'rung' } },
          rung: { entry: () => rang(version) },
        },
      });
    const runtime = await started([worker('Bell', bell('v1'))]);
    await runtime.upgrade('Bell', bell('v2'));
    expect(runtime.snapshot('Bell')).toMatchObject({ value: 'waiting' });
    expect(await ringing).toBe('v2');
    expect(runtime.snapshot('Bell')).toMatchObject({ value: 'rung' });
  });
});

describe('an actor killed while its migration runs', () => {
  it('the upgrade fails at stage exited; the supervisor restarts the old logic', async () => {
    const runtime = await started();
    let finishMigration: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finishMigration = resolve;
    });
    let migrationStarted: () => void = () => {};
    const migrating = new Promise<void>((resolve) => {
      migrationStarted = resolve;
    });
    const upgrading = runtime
      .upgrade('C', counter('v1'), {
        migrate: async (s) => {
          migrationStarted();
          await gate;
          return s;
        },
      })
      .catch((err: unknown) => err);
    await migrating;
    const restarted = new Promise((resolve) => runtime.events.once('actor.started', resolve));
    runtime.exit('C');
    finishMigration();
    expect(await upgrading).toMatchObject({ code: 'UPGRADE_FAILED', stage: 'exited' });
    await restarted;
    expect(await runtime.call<Reply>('C', { type: 'GET' })).toMatchObject({ version: 'v0' });
    expect(runtime.whichChildren()).toEqual([expect.objectContaining({ id: 'C', incarnation: 2 })]);
  });
});
