/**
 * Two Schedulers (two runtimes, as two nodes) on one PostgreSQL run store.
 *
 * Step workflows: both nodes signal the same run at the same moment, round after round. Per-run exclusion comes from the database's row lock
 * (`withRun`), so of two concurrent signals on a waiting run exactly the first is accepted and the
 * second finds the run running (SIGNAL_NOT_AWAITED); no accepted signal is lost and no step's
 * outcome overwrites another's: every accepted signal has its own seq in the history and its own
 * `add` step, and the counter the steps keep equals the number of accepted signals.
 *
 * Machine workflows: signals taken in turn by the two nodes each build on the state the other
 * committed: a node whose live actor is behind the stored run restores it from the store first.
 *
 * Each runtime's Alarm keeps its own SQLite file here: the step a signal schedules runs on the node
 * that accepted the signal, and the test is about the run store alone, not about sharing alarms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alarmSupervisor } from '@vigil/alarm';
import { createRuntime, type Runtime } from '@vigil/runtime';
import {
  defineMachineWorkflow,
  defineWorkflow,
  schedulerWorker,
  WorkflowClient,
  waitFor,
} from '@vigil/workflow';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assign, createMachine } from 'xstate';
import { openPostgresRunStore, postgresRunStore } from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';

let cluster: Cluster;
let dir: string;
beforeAll(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'vigil-two-nodes-'));
}, 60_000);
afterAll(() => {
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const counter = defineWorkflow<{ n: number }>({
  name: 'counter',
  start: 'wait',
  steps: {
    wait: () => waitFor('inc', { onSignal: 'add' }),
    add: ({ context }) => waitFor('inc', { onSignal: 'add', context: { n: context.n + 1 } }),
  },
});

const tally = defineMachineWorkflow({
  name: 'tally',
  machine: createMachine({
    types: {} as { context: { count: number; by: string[] } },
    context: { count: 0, by: [] },
    initial: 'open',
    states: {
      open: {
        on: {
          inc: {
            actions: assign(({ context, event }) => ({
              count: context.count + 1,
              by: [...context.by, (event as unknown as { node: string }).node],
            })),
          },
        },
      },
    },
  }),
});

interface Node {
  runtime: Runtime;
  workflows: WorkflowClient;
}

async function node(name: string, url: string): Promise<Node> {
  const runtime = createRuntime({ callTimeoutMs: 30_000 });
  await runtime.start([
    alarmSupervisor({ db: join(dir, `${name}.db`) }),
    schedulerWorker({ store: postgresRunStore({ connectionString: url }), workflows: [counter, tally] }),
  ]);
  return { runtime, workflows: new WorkflowClient(runtime, { timeoutMs: 30_000 }) };
}

/** Resolves once `count` steps named `step` of run `runId` have committed, over every node. */
function steps(nodes: Node[], runId: string, step: string) {
  let seen = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  for (const { runtime } of nodes)
    runtime.events.on('workflow.stepped', (e) => {
      if (e.runId !== runId || e.step !== step) return;
      seen++;
      for (const w of waiters.filter((w) => w.count <= seen)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  return (count: number) =>
    count <= seen ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve }));
}

it('concurrent signals from two nodes on one run: one accepted at a time, none lost', async () => {
  cluster.createDatabase('two_nodes');
  const url = cluster.url('two_nodes');
  const nodes = [await node('a', url), await node('b', url)];
  const [a, b] = nodes as [Node, Node];
  try {
    const waited = steps(nodes, 'c1', 'wait');
    const added = steps(nodes, 'c1', 'add');
    await a.workflows.start('counter', { n: 0 }, { runId: 'c1' });
    await waited(1);

    const ROUNDS = 20;
    let accepted = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const outcomes = await Promise.allSettled([
        a.workflows.signal('c1', 'inc'),
        b.workflows.signal('c1', 'inc'),
      ]);
      for (const o of outcomes) {
        if (o.status === 'fulfilled') accepted++;
        else expect(o.reason).toMatchObject({ code: 'SIGNAL_NOT_AWAITED' });
      }
      // A second signal may be accepted legitimately if the first's `add` step ran in between;
      // at least one of each pair always is (the run was waiting when both were sent).
      expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
      await added(accepted);
    }

    const store = await openPostgresRunStore({ connectionString: url, readonly: true });
    try {
      const run = await store.get('c1');
      const history = await store.history('c1');
      const signals = history.filter((h) => h.outcome === 'signal');
      const adds = history.filter((h) => h.step === 'add');
      expect(run).toMatchObject({ status: 'waiting', context: { n: accepted } });
      expect(signals).toHaveLength(accepted);
      expect(adds).toHaveLength(accepted);
      // Each signal moved the run on from its own seq: none was applied twice to one state.
      expect(new Set(signals.map((s) => s.seq)).size).toBe(accepted);
      // The history is one line of succession: seqs never go back.
      const seqs = history.map((h) => h.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      // Waiting at seq 2 after the first step; each accepted signal moved it on by exactly two
      // (the signal, then its `add` step): no update was made on a state another had replaced.
      expect(run?.seq).toBe(2 + 2 * accepted);
    } finally {
      await store.close();
    }
  } finally {
    await Promise.all(nodes.map((n) => n.runtime.stop()));
  }
});

it('a machine run signalled in turn by two nodes: each signal builds on the state the other committed', async () => {
  cluster.createDatabase('two_nodes_machine');
  const url = cluster.url('two_nodes_machine');
  const nodes = [await node('ma', url), await node('mb', url)];
  try {
    await nodes[0]!.workflows.start('tally', {}, { runId: 't1' });
    // Each node first takes an event, so that both hold a live actor of the run; from then on,
    // every signal finds the other node's commit ahead of its own actor.
    const order = ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b'];
    for (const who of order) {
      const n = who === 'a' ? nodes[0]! : nodes[1]!;
      await n.workflows.signal('t1', 'inc', { node: who });
    }
    for (const n of nodes) {
      const run = await n.workflows.get('t1');
      expect(run).toMatchObject({ status: 'running', context: { count: order.length, by: order } });
    }
  } finally {
    await Promise.all(nodes.map((n) => n.runtime.stop()));
  }
});
