/**
 * Workflows with both stores on PostgreSQL, as the README configures them: two nodes, each with
 * `alarmSupervisor({ store: postgresStore(...) })` and `schedulerWorker({ store:
 * postgresRunStore(...) })` on one database. Step alarms are shared rows, claimed by whichever
 * node's Alarm gets them first; that node's Scheduler advances the run under the run's row lock.
 * Every run completes and each step ran once per seq (which node ran a step is not fixed: it is
 * whichever claimed its alarm).
 */
import { alarmSupervisor } from '@vigil/alarm';
import { createRuntime, type Runtime } from '@vigil/runtime';
import { defineWorkflow, end, next, schedulerWorker, WorkflowClient } from '@vigil/workflow';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresRunStore, postgresRunStore, postgresStore } from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

/** Which node ran each step, by run id. */
const ranOn = new Map<string, string[]>();

function chain(node: string) {
  const record = (id: string) => ranOn.set(id, [...(ranOn.get(id) ?? []), node]);
  return defineWorkflow<{ n: number }>({
    name: 'chain',
    start: 'one',
    steps: {
      one: ({ run }) => {
        record(run.id);
        return next('two');
      },
      two: ({ run }) => {
        record(run.id);
        return next('three');
      },
      three: ({ run }) => {
        record(run.id);
        return end({ result: 'done' });
      },
    },
  });
}

async function node(name: string, url: string): Promise<Runtime> {
  const runtime = createRuntime({ callTimeoutMs: 30_000 });
  await runtime.start([
    alarmSupervisor({ store: postgresStore({ connectionString: url, nodeId: name }) }),
    schedulerWorker({ store: postgresRunStore({ connectionString: url }), workflows: [chain(name)] }),
  ]);
  return runtime;
}

it('two nodes on one database complete every run, each step once', async () => {
  cluster.createDatabase('workflow_nodes');
  const url = cluster.url('workflow_nodes');
  const nodes = [await node('a', url), await node('b', url)];
  const RUNS = 20;
  const ended = new Set<string>();
  const allEnded = new Promise<void>((resolve) => {
    for (const runtime of nodes)
      runtime.events.on('workflow.ended', (e) => {
        ended.add(e.runId);
        if (ended.size === RUNS) resolve();
      });
  });
  try {
    // Half the runs started through each node.
    await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        new WorkflowClient(nodes[i % 2]!, { timeoutMs: 30_000 }).start(
          'chain',
          { n: i },
          { runId: `run-${i}` },
        ),
      ),
    );
    await allEnded;
    const store = await openPostgresRunStore({ connectionString: url, readonly: true });
    try {
      for (let i = 0; i < RUNS; i++) {
        const id = `run-${i}`;
        expect(await store.get(id)).toMatchObject({ status: 'completed', result: 'done' });
        const steps = (await store.history(id)).filter((h) => h.outcome === 'next' || h.outcome === 'end');
        expect(steps.map((h) => [h.step, h.seq])).toEqual([
          ['one', 1],
          ['two', 2],
          ['three', 3],
        ]);
        expect(ranOn.get(id)).toHaveLength(3);
      }
    } finally {
      await store.close();
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
