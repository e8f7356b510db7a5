/**
 * Hot upgrade: new code for a running actor and for workflows in flight, in a live process.
 *
 * Part 1, an actor. A counter receives a steady stream of numbered increments. While the stream
 * runs, it is upgraded twice (`runtime.upgrade`): v1 → v2 renames its context (`count` becomes
 * `total`, with a migration), v2 → v3 also counts the upgrades. Every increment is checked on
 * arrival against the one before it: at the end the counter has every one, once and in order,
 * under the same name and incarnation, and answers as v3.
 *
 * Part 2, a workflow. Three runs of 'greet' v1 wait out a delay; version 2 is deployed in the
 * same process (the Scheduler child is replaced by one that registers v2, which declares
 * `migrate` from v1). At their next step the v1 runs move to v2 (a step renamed) and finish
 * there; a run started after the deploy starts on v2.
 *
 * Run: `pnpm --filter @vigil/examples exec tsx --conditions=@vigil/source src/hot-upgrade.ts --fast`.
 */
import { alarmSupervisor } from '@vigil/alarm';
import { type Clock, createRuntime, reply, systemClock, worker } from '@vigil/runtime';
import {
  defineWorkflow,
  end,
  next,
  schedulerWorker,
  WorkflowClient,
  type WorkflowRun,
} from '@vigil/workflow';
import { assign, setup } from 'xstate';
import { consolePrint, fastMode, isMain, type Print, runAsProgram, tempDatabase, within } from './lib/run.js';
import { bold, dim, green, red } from './lib/style.js';
import { formatTable } from './lib/table.js';

// --- Part 1: the counter, in three versions ----------------------------------------------------

type Inc = { type: 'INC'; seq: number };
type Get = { type: 'GET' };

/** v1 counts in `count`; `gaps` counts increments that arrived out of order (must stay 0). */
const counterV1 = setup({
  types: { context: {} as { count: number; gaps: number }, events: {} as Inc | Get },
}).createMachine({
  id: 'counter',
  version: '1',
  context: { count: 0, gaps: 0 },
  on: {
    INC: {
      actions: assign(({ context, event }) => ({
        count: context.count + 1,
        gaps: context.gaps + (event.seq === context.count + 1 ? 0 : 1),
      })),
    },
    GET: {
      actions: ({ context, event }) =>
        reply(event, { version: '1', total: context.count, gaps: context.gaps }),
    },
  },
});

type V2Context = { total: number; gaps: number };

/** v2 calls it `total`: a state change the migration carries over. */
const counterV2 = setup({
  types: { context: {} as V2Context, events: {} as Inc | Get },
}).createMachine({
  id: 'counter',
  version: '2',
  context: { total: 0, gaps: 0 },
  on: {
    INC: {
      actions: assign(({ context, event }) => ({
        total: context.total + 1,
        gaps: context.gaps + (event.seq === context.total + 1 ? 0 : 1),
      })),
    },
    GET: { actions: ({ context, event }) => reply(event, { version: '2', ...context }) },
  },
});

/** v3 also counts the upgrades it went through. */
const counterV3 = setup({
  types: { context: {} as V2Context & { upgrades: number }, events: {} as Inc | Get },
}).createMachine({
  id: 'counter',
  version: '3',
  context: { total: 0, gaps: 0, upgrades: 0 },
  on: {
    INC: {
      actions: assign(({ context, event }) => ({
        total: context.total + 1,
        gaps: context.gaps + (event.seq === context.total + 1 ? 0 : 1),
      })),
    },
    GET: { actions: ({ context, event }) => reply(event, { version: '3', ...context }) },
  },
});

type Snap = { context: Record<string, number> };

// --- Part 2: the workflow, in two versions -------------------------------------------------------

function greetV1(delay: string) {
  return defineWorkflow<{ name: string }>({
    name: 'greet',
    start: 'hello',
    steps: {
      hello: ({ context }) => next('goodbye', { after: delay, context }),
      goodbye: ({ context }) => end({ result: `v1 says goodbye to ${context.name}` }),
    },
  });
}

function greetV2(delay: string) {
  return defineWorkflow<{ name: string }>({
    name: 'greet',
    version: 2,
    start: 'welcome',
    steps: {
      welcome: ({ context }) => next('farewell', { after: delay, context }),
      farewell: ({ context }) => end({ result: `v2 bids farewell to ${context.name}` }),
    },
    // v1's steps have other names in v2: a v1 run moves at its next step.
    migrate: {
      1: ({ step, context }) => ({
        step: step === 'goodbye' ? 'farewell' : 'welcome',
        context: context as { name: string },
      }),
    },
  });
}

export interface HotUpgradeOptions {
  clock?: Clock;
  print?: Print;
  fast?: boolean;
  db?: string;
}

export interface HotUpgradeResult {
  ok: boolean;
  counter: {
    sent: number;
    total: number;
    gaps: number;
    upgrades: number;
    version: string;
    incarnation: number;
  };
  runs: WorkflowRun[];
}

export async function main(options: HotUpgradeOptions = {}): Promise<HotUpgradeResult> {
  const clock = options.clock ?? systemClock;
  const print = options.print ?? consolePrint;
  const fast = options.fast ?? fastMode();
  const temp = options.db ? undefined : tempDatabase('hot-upgrade');
  const db = options.db ?? temp!.file;
  const messages = fast ? 3000 : 30_000;
  const delay = fast ? '2 seconds' : '1 minute';

  const runtime = createRuntime({ clock });
  try {
    await runtime.start([
      worker('Counter', counterV1),
      alarmSupervisor({ db, zone: 'UTC' }),
      schedulerWorker({ db, workflows: [greetV1(delay)] }),
    ]);

    // --- Part 1 ---
    print(bold(`Hot upgrade of an actor: ${messages} increments, two upgrades while they arrive`));
    runtime.events.on('actor.upgraded', (e) =>
      // The mailbox at this instant: what queued during the upgrade, delivered next to the new code.
      print(
        `  ${dim('upgraded')}  ${e.name} v${e.from} → v${e.to} (incarnation ${e.incarnation}), ${runtime.mailboxDepth(e.name)} messages queued meanwhile`,
      ),
    );
    let sent = 0;
    // The stream: a few increments per event-loop turn, never waiting for the counter.
    const stream = new Promise<void>((resolve) => {
      const pump = () => {
        for (let i = 0; i < 10 && sent < messages; i++) runtime.send('Counter', { type: 'INC', seq: ++sent });
        if (sent < messages) setImmediate(pump);
        else resolve();
      };
      pump();
    });
    const at = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (sent >= n ? resolve() : setImmediate(check));
        check();
      });
    await at(messages / 3);
    await runtime.upgrade('Counter', counterV2, {
      migrate: (s) => {
        const { count, gaps } = (s as Snap).context;
        return { ...(s as Snap), context: { total: count, gaps } };
      },
    });
    await at((2 * messages) / 3);
    await runtime.upgrade('Counter', counterV3, {
      migrate: (s) => ({ ...(s as Snap), context: { ...(s as Snap).context, upgrades: 2 } }),
    });
    await stream;
    const final = await runtime.call<{ version: string; total: number; gaps: number; upgrades: number }>(
      'Counter',
      {
        type: 'GET',
      },
    );
    const incarnation = runtime.tree()?.children?.find((c) => c.name === 'Counter')?.incarnation ?? 0;
    const counter = { sent, ...final, incarnation };
    print(
      `  ${dim('result')}    sent ${sent}, counted ${final.total}, out of order ${final.gaps}, answered by v${final.version}, incarnation ${incarnation}, dead letters ${runtime.deadLetters}`,
    );
    const counterOk =
      final.total === sent &&
      final.gaps === 0 &&
      final.version === '3' &&
      incarnation === 1 &&
      runtime.deadLetters === 0;

    // --- Part 2 ---
    print();
    print(bold(`Deploying workflow 'greet' v2 while three v1 runs wait (${delay})`));
    const workflows = new WorkflowClient(runtime);
    const ended = new Set<string>();
    const allEnded = new Promise<void>((resolve) => {
      runtime.events.on('workflow.ended', (e) => {
        ended.add(e.runId);
        if (ended.size === 4) resolve();
      });
    });
    for (const name of ['ada', 'bob', 'cy'])
      await workflows.start('greet', { name }, { runId: `greet:${name}` });
    // The deploy: the Scheduler child is replaced by one that registers v2. Runs and their
    // alarms are in SQLite; an alarm due while the Scheduler is away is delivered again.
    await runtime.terminateChild('Scheduler');
    await runtime.deleteChild('Scheduler');
    await runtime.startChild(schedulerWorker({ db, workflows: [greetV2(delay)] }));
    print(`  ${dim('deployed')}  Scheduler restarted with greet v2 (migrate from v1)`);
    await new WorkflowClient(runtime).start('greet', { name: 'dee' }, { runId: 'greet:dee' });
    const finished = (await within(clock, fast ? 30_000 : 10 * 60_000, allEnded)) !== false;
    const runs = (
      await Promise.all(['ada', 'bob', 'cy', 'dee'].map((n) => workflows.get(`greet:${n}`)))
    ).filter((r): r is WorkflowRun => r !== null);
    print(
      formatTable(
        [
          { title: 'run' },
          { title: 'started on' },
          { title: 'version now' },
          { title: 'status' },
          { title: 'result' },
        ],
        runs.map((r) => [
          r.id,
          r.history.some((h) => h.outcome === 'migrated') ? 'v1' : `v${r.version}`,
          `v${r.version}`,
          r.status,
          String(r.result),
        ]),
      ),
    );
    const workflowOk =
      finished &&
      runs.length === 4 &&
      runs.every((r) => r.status === 'completed' && r.version === 2 && String(r.result).startsWith('v2'));

    const ok = counterOk && workflowOk;
    print();
    print(
      ok
        ? green(
            `✓ ${sent} increments counted once and in order across 2 upgrades; 3 v1 runs moved to v2 and finished`,
          )
        : red('✗ something was lost or did not finish'),
    );
    return { ok, counter, runs };
  } finally {
    await runtime.stop();
    temp?.cleanup();
  }
}

if (isMain(import.meta.url)) runAsProgram(async () => (await main()).ok);
