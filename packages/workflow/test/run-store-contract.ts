/**
 * The RunStore contract, shared by every backend (SQLite here, PostgreSQL in @vigil/postgres):
 * what the Scheduler and the CLI rely on, the same calls giving the same records. A backend gives
 * `open()` (a fresh, empty store) and, when several processes may share its data, `openOther()`
 * (a second store on the same data, as another node would open it): then `withRun` must exclude
 * across the two, not only within one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEntry, RunRecord, RunStore } from '../src/store/types.js';

/** How the contract suite opens run stores of one backend. */
export interface RunStoreBackend {
  open(): Promise<RunStore>;
  /** A second store on the data of the last `open()`; only for stores shared between processes. */
  openOther?(): Promise<RunStore>;
  /** With `openOther`: resolves once some store's `withRun` is waiting for a run held by another. */
  lockWaited?(): Promise<void>;
  cleanup?(): Promise<void> | void;
}

/** A run record with every field set, `overrides` applied. */
export function run(id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    workflow: 'wf',
    kind: 'steps',
    version: 1,
    status: 'running',
    step: 'a',
    seq: 1,
    attempt: 1,
    nextAt: 1000,
    alarmId: null,
    context: { n: 1 },
    input: null,
    waiting: null,
    snapshot: null,
    timers: null,
    result: null,
    error: null,
    createdAt: 1,
    updatedAt: 1,
    endedAt: null,
    ...overrides,
  };
}

/** One history line. */
export function line(seq: number, outcome: string, detail: string | null = null): HistoryEntry {
  return { seq, step: 'a', attempt: 1, startedAt: 5, endedAt: 6, outcome, detail };
}

/** A promise and its resolve, to hold a piece of work open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Registers the contract tests for one backend. */
export function runStoreContract(name: string, backend: RunStoreBackend): void {
  describe(`RunStore contract: ${name}`, () => {
    let store: RunStore;
    beforeEach(async () => {
      store = await backend.open();
    });
    afterEach(async () => {
      await store.close();
      await backend.cleanup?.();
    });

    describe('insert, get, save', () => {
      it('inserts a run once: the same id again changes nothing', async () => {
        expect(await store.insert(run('r1'))).toBe(true);
        expect(await store.insert(run('r1', { workflow: 'other' }))).toBe(false);
        expect((await store.get('r1'))?.workflow).toBe('wf');
        expect(await store.get('nope')).toBeUndefined();
      });

      it('gives back every field as it was written', async () => {
        const full = run('full', {
          kind: 'machine',
          version: 3,
          status: 'waiting',
          step: '{"wait":"x"}',
          seq: 7,
          attempt: 2,
          nextAt: Date.UTC(2026, 0, 1),
          alarmId: 2 ** 40,
          context: { nested: { list: [1, 'two', null] }, unicode: 'é\u0000' },
          input: { type: 'go', at: 3 },
          waiting: { signal: 'go', onSignal: 'b', deadline: 99, onTimeout: null },
          snapshot: { value: 'x', context: {} },
          timers: { next: 2, pending: { d1: { n: 1, fireAt: 50, event: { type: 'xstate.after.d1' } } } },
          result: [1, 2],
          error: 'it broke',
          createdAt: 10,
          updatedAt: 20,
          endedAt: 30,
        });
        await store.insert(full);
        expect(await store.get('full')).toEqual(full);
        const saved = { ...full, status: 'completed' as const, result: 'done', context: { n: 2 } };
        await store.save(saved);
        expect(await store.get('full')).toEqual(saved);
      });

      it('keeps free text as given, NUL included (a step may throw any message)', async () => {
        await store.insert(run('r1'));
        await store.save(run('r1', { status: 'failed', error: 'bad\u0000byte ✓' }), [
          line(1, 'fail', 'bad\u0000byte ✓'),
        ]);
        expect((await store.get('r1'))?.error).toBe('bad\u0000byte ✓');
        expect((await store.history('r1'))[0]?.detail).toBe('bad\u0000byte ✓');
      });

      it('saves the run and its history lines together, and lists active runs', async () => {
        await store.insert(run('r1'));
        await store.insert(run('r2'));
        await store.save(run('r1', { seq: 2, step: 'b' }), [line(1, 'next')]);
        await store.save(run('r2', { status: 'completed', endedAt: 9 }), [line(1, 'end')]);
        expect(await store.get('r1')).toMatchObject({ seq: 2, step: 'b', context: { n: 1 } });
        expect(await store.history('r1')).toEqual([line(1, 'next')]);
        expect((await store.active()).map((r) => r.id)).toEqual(['r1']);
        expect((await store.list({ status: 'completed' })).map((r) => r.id)).toEqual(['r2']);
      });

      it('appends history across saves, oldest first', async () => {
        await store.insert(run('r1'));
        await store.save(run('r1', { seq: 2 }), [line(1, 'next'), line(2, 'signal', 'b')]);
        await store.save(run('r1', { seq: 3 }));
        await store.save(run('r1', { seq: 4 }), [line(3, 'next')]);
        expect(await store.history('r1')).toEqual([line(1, 'next'), line(2, 'signal', 'b'), line(3, 'next')]);
        expect(await store.history('other')).toEqual([]);
      });

      it('concurrent saves of one run keep every history line', async () => {
        await store.insert(run('r1'));
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.save(run('r1', { seq: i + 2 }), [line(i + 1, 'next')])),
        );
        const history = await store.history('r1');
        expect(history.map((h) => h.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      });

      it('save of an unknown run creates no run', async () => {
        await store.save(run('ghost', { seq: 2 }));
        expect(await store.get('ghost')).toBeUndefined();
        expect(await store.list()).toEqual([]);
      });

      it('records an alarm id only for the seq it was set for', async () => {
        await store.insert(run('r1', { seq: 3 }));
        await store.setAlarmId('r1', 2, 41);
        expect((await store.get('r1'))?.alarmId).toBeNull();
        await store.setAlarmId('r1', 3, 42);
        expect((await store.get('r1'))?.alarmId).toBe(42);
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        // Byte order: 'B' (0x42) < '_' (0x5f) < 'a' (0x61) < 'b' < 'é' (0xc3 0xa9).
        for (const [id, workflow, status] of [
          ['b', 'x', 'running'],
          ['é', 'y', 'waiting'],
          ['B', 'x', 'failed'],
          ['_', 'y', 'running'],
          ['a', 'x', 'completed'],
        ] as const)
          await store.insert(run(id, { workflow, status }));
      });

      it('lists by id in byte order, a page at a time', async () => {
        expect((await store.list()).map((r) => r.id)).toEqual(['B', '_', 'a', 'b', 'é']);
        expect((await store.list({ limit: 2 })).map((r) => r.id)).toEqual(['B', '_']);
        expect((await store.list({ afterId: '_', limit: 2 })).map((r) => r.id)).toEqual(['a', 'b']);
        expect((await store.list({ afterId: 'b' })).map((r) => r.id)).toEqual(['é']);
      });

      it('filters by workflow and by one or several statuses', async () => {
        expect((await store.list({ workflow: 'x' })).map((r) => r.id)).toEqual(['B', 'a', 'b']);
        expect((await store.list({ status: 'running' })).map((r) => r.id)).toEqual(['_', 'b']);
        expect((await store.list({ status: ['waiting', 'failed'] })).map((r) => r.id)).toEqual(['B', 'é']);
        expect((await store.list({ workflow: 'y', status: ['running'] })).map((r) => r.id)).toEqual(['_']);
        expect((await store.active()).map((r) => r.id)).toEqual(['_', 'b', 'é']);
      });

      it('clamps the limit to 1..1000', async () => {
        expect(await store.list({ limit: 0 })).toHaveLength(1);
        expect(await store.list({ limit: -5 })).toHaveLength(1);
        expect(await store.list({ limit: 2.9 })).toHaveLength(2);
        expect(await store.list({ limit: 1e9 })).toHaveLength(5);
      });
    });

    describe('withRun', () => {
      it('excludes other work on the same run until it settles; other runs go on', async () => {
        const order: string[] = [];
        const held = gate();
        const started = gate();
        const first = store.withRun('r1', async () => {
          order.push('first start');
          started.open();
          await held.promise;
          order.push('first end');
        });
        const second = store.withRun('r1', async () => {
          order.push('second');
        });
        // A store may take its lock asynchronously (PostgreSQL: a transaction on a connection of
        // its own): wait until the first holder runs before asking for another run.
        await started.promise;
        const other = store.withRun('r2', async () => {
          order.push('other run');
        });
        await other;
        expect(order).toEqual(['first start', 'other run']);
        held.open();
        await Promise.all([first, second]);
        expect(order).toEqual(['first start', 'other run', 'first end', 'second']);
      });

      it('resolves with the work result; a failed piece of work does not wedge the run', async () => {
        expect(await store.withRun('r1', async () => 42)).toBe(42);
        const boom = new Error('boom');
        await expect(
          store.withRun('r1', async () => {
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.withRun('r1', async () => 'after')).toBe('after');
      });

      it('writes made inside withRun are committed when they resolve, before the work ends', async () => {
        await store.insert(run('r1'));
        const held = gate();
        let saved!: () => void;
        const savedNow = new Promise<void>((resolve) => {
          saved = resolve;
        });
        const work = store.withRun('r1', async () => {
          await store.save(run('r1', { seq: 2 }), [line(1, 'next')]);
          saved();
          await held.promise;
        });
        await savedNow;
        // Read while the work still holds the run: the outcome is already there for anyone.
        expect((await store.get('r1'))?.seq).toBe(2);
        held.open();
        await work;
      });

      if (backend.openOther && backend.lockWaited) {
        const { openOther, lockWaited } = backend;
        it('excludes across two stores on the same data (two nodes)', async () => {
          const other = await openOther();
          try {
            const order: string[] = [];
            const held = gate();
            const aStarted = gate();
            const first = store.withRun('r1', async () => {
              order.push('A start');
              aStarted.open();
              await held.promise;
              order.push('A end');
            });
            await aStarted.promise;
            const bRan = gate();
            const second = other.withRun('r1', async () => {
              order.push('B');
              bRan.open();
            });
            // Work on another run, on the second node, is not held up by A's lock.
            await other.withRun('r2', async () => {
              order.push('B other run');
            });
            // Either B is seen waiting for the lock, or (exclusion broken) B runs inside A's work.
            await Promise.race([lockWaited(), bRan.promise]);
            expect(order).toEqual(['A start', 'B other run']);
            held.open();
            await Promise.all([first, second]);
            expect(order).toEqual(['A start', 'B other run', 'A end', 'B']);
          } finally {
            await other.close();
          }
        });
      }
    });

    describe('close', () => {
      it('is idempotent, and a closed store refuses work', async () => {
        await store.close();
        await store.close();
        await expect(store.get('r1')).rejects.toThrow();
        await expect(store.insert(run('r1'))).rejects.toThrow();
      });
    });
  });
}
