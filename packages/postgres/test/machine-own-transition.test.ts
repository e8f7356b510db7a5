/**
 * A machine run's own transitions (an invoked promise settling) on two nodes sharing the run
 * store: they are committed under the run's row lock, like the Scheduler's deliveries and signals.
 *
 * Node A starts the run; its actor invokes `job` and waits. Node B is signalled: it restores the
 * actor from the stored snapshot (which invokes `job` again, on B) and, while B holds the run's
 * lock for that signal, A's `job` settles. A's transition must not be written beside B's signal:
 * A waits for the lock, finds the run moved on past what its actor committed, and stops its actor
 * without writing. B's own `job` settles later and ends the run, from the state that includes the
 * signal. History: one line per seq, in order, nothing lost.
 *
 * Without the lock around A's commit (as before), A writes seq 2 beside B's seq 2 and ends the run
 * from a state without the signal: the history assertion below fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alarmSupervisor } from '@vigil/alarm';
import { createRuntime, type Runtime } from '@vigil/runtime';
import { defineMachineWorkflow, type RunStore, schedulerWorker, WorkflowClient } from '@vigil/workflow';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assign, createMachine, fromPromise } from 'xstate';
import { openPostgresRunStore, postgresRunStore } from '../src/index.js';
import { withCluster } from './with-cluster.js';

const postgres = withCluster('own_transition');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-own-transition-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const machine = createMachine({
  types: {} as { context: { pokes: number; job: string | null } },
  context: { pokes: 0, job: null },
  initial: 'working',
  states: {
    working: {
      invoke: {
        src: 'job',
        onDone: { target: 'finished', actions: assign({ job: ({ event }) => event.output as string }) },
      },
      // Targetless: the state is not left, so the invocation goes on.
      on: { poke: { actions: assign({ pokes: ({ context }) => context.pokes + 1 }) } },
    },
    finished: { type: 'final' },
  },
});

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

interface Node {
  runtime: Runtime;
  workflows: WorkflowClient;
  stores: RunStore[];
}

async function node(name: string, url: string, job: () => Promise<string>): Promise<Node> {
  const runtime = createRuntime({ callTimeoutMs: 30_000 });
  const factory = postgresRunStore({ connectionString: url });
  const stores: RunStore[] = [];
  const workflow = defineMachineWorkflow({
    name: 'own',
    machine: machine.provide({ actors: { job: fromPromise(job) } }),
  });
  await runtime.start([
    alarmSupervisor({ db: join(dir, `${name}.db`) }),
    schedulerWorker({
      store: () => {
        const s = factory();
        stores.push(s);
        return s;
      },
      workflows: [workflow],
    }),
  ]);
  return { runtime, workflows: new WorkflowClient(runtime, { timeoutMs: 30_000 }), stores };
}

it('an invoked promise settling on one node while another signals the run: one line per seq, no transition lost', async () => {
  const url = postgres.database();
  const onA = gate();
  const onB = gate();
  const a = await node('a', url, async () => {
    await onA.promise;
    return 'a';
  });
  // B's job starts when B restores the actor, inside B's signal, under the run's lock: it lets
  // A's job settle at that moment.
  const b = await node('b', url, async () => {
    onA.open();
    await onB.promise;
    return 'b';
  });
  try {
    await a.workflows.start('own', {}, { runId: 'm1' });
    const ended = new Promise((resolve) => b.runtime.events.on('workflow.ended', resolve));
    await b.workflows.signal('m1', 'poke');
    // A's job settled during the signal, so A's commit was queued on A's store then; a later
    // `withRun` on A's store runs after it (call order within a process).
    await a.stores.at(-1)!.withRun('m1', async () => {});
    onB.open();
    expect(await ended).toMatchObject({ runId: 'm1', status: 'completed' });

    const store = await openPostgresRunStore({ connectionString: url, readonly: true });
    try {
      const history = await store.history('m1');
      // A run is inserted at seq 1; its first snapshot is committed as seq 2.
      expect(history.map((h) => [h.seq, h.outcome])).toEqual([
        [2, 'start'],
        [3, 'signal'],
        [4, 'done'],
        [4, 'completed'],
      ]);
      // The run ended from the state with the signal in it, through B's job.
      expect(await store.get('m1')).toMatchObject({ status: 'completed', context: { pokes: 1, job: 'b' } });
    } finally {
      await store.close();
    }
  } finally {
    onA.open();
    onB.open();
    await Promise.all([a.runtime.stop(), b.runtime.stop()]);
  }
});
