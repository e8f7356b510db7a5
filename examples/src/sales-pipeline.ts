/**
 * Sales pipeline: follow up with a contact every week until they reply, through stages.
 *
 * A durable workflow on the Scheduler. Each run introduces itself to a contact, then waits for
 * the signal 'reply' with a one-week deadline; each missed deadline is another follow-up, and
 * after three unanswered follow-ups the lead is lost. A reply moves the run on: qualified, a
 * proposal two days later, then a wait for 'signed'. Every step is an alarm and every run a row
 * in SQLite, so the weeks in between survive any restart.
 *
 * Two contacts: Ada replies after the second follow-up and signs; Bob never answers. The program
 * signals Ada's run the way a webhook handler would, then prints each run's history.
 *
 * Run: `pnpm --filter @vigil/examples exec tsx src/sales-pipeline.ts --fast` (a week is a second).
 */
import { alarmSupervisor } from '@vigil/alarm';
import { type Clock, createRuntime, systemClock } from '@vigil/runtime';
import {
  defineWorkflow,
  end,
  next,
  schedulerWorker,
  WorkflowClient,
  type WorkflowRun,
  waitFor,
} from '@vigil/workflow';
import { consolePrint, fastMode, isMain, type Print, runAsProgram, tempDatabase, within } from './lib/run.js';
import { bold, cyan, dim, green } from './lib/style.js';
import { formatTable } from './lib/table.js';

interface Lead {
  [key: string]: unknown;
  contact: string;
  stage: 'new' | 'contacted' | 'following-up' | 'qualified' | 'proposal' | 'won' | 'lost';
  followUps: number;
}

const MAX_FOLLOW_UPS = 3;

/** The pipeline, with its delays: a week and two days, or a second and a third of one. */
function pipeline(fast: boolean, say: (who: string, text: string) => void) {
  const week = fast ? '1 second' : '1 week';
  const twoDays = fast ? '300ms' : '2 days';
  return defineWorkflow<Lead>({
    name: 'sales-pipeline',
    start: 'introduce',
    steps: {
      introduce: async ({ context }) => {
        say(context.contact, 'intro email sent');
        return waitFor('reply', {
          timeout: week,
          onTimeout: 'followUp',
          onSignal: 'qualify',
          context: { ...context, stage: 'contacted' },
        });
      },
      followUp: async ({ context }) => {
        if (context.followUps >= MAX_FOLLOW_UPS) {
          say(context.contact, `no reply after ${MAX_FOLLOW_UPS} follow-ups: lost`);
          return end({ result: 'lost', context: { ...context, stage: 'lost' } });
        }
        const n = context.followUps + 1;
        say(context.contact, `follow-up #${n} sent`);
        return waitFor('reply', {
          timeout: week,
          onTimeout: 'followUp',
          onSignal: 'qualify',
          context: { ...context, stage: 'following-up', followUps: n },
        });
      },
      qualify: async ({ context, event }) => {
        say(
          context.contact,
          `replied "${String((event as { text?: string } | undefined)?.text ?? '')}": qualified`,
        );
        return next('propose', { after: twoDays, context: { ...context, stage: 'qualified' } });
      },
      propose: async ({ context }) => {
        say(context.contact, 'proposal sent');
        return waitFor('signed', {
          timeout: fast ? '2 seconds' : '2 weeks',
          onTimeout: 'followUp',
          onSignal: 'won',
          context: { ...context, stage: 'proposal' },
        });
      },
      won: async ({ context }) => {
        say(context.contact, green('signed: won'));
        return end({ result: 'won', context: { ...context, stage: 'won' } });
      },
    },
  });
}

export interface SalesPipelineOptions {
  clock?: Clock;
  print?: Print;
  fast?: boolean;
  db?: string;
}

export interface SalesPipelineResult {
  ok: boolean;
  runs: WorkflowRun[];
}

export async function main(options: SalesPipelineOptions = {}): Promise<SalesPipelineResult> {
  const clock = options.clock ?? systemClock;
  const print = options.print ?? consolePrint;
  const fast = options.fast ?? fastMode();
  const temp = options.db ? undefined : tempDatabase('sales');
  const db = options.db ?? temp!.file;
  const t0 = clock.now();
  const dayMs = fast ? 1000 / 7 : 86_400_000;
  const day = (at: number) => `day ${((at - t0) / dayMs).toFixed(1)}`;
  const say = (who: string, text: string) =>
    print(`  ${dim(day(clock.now()).padEnd(9))}  ${cyan(who.padEnd(16))}  ${text}`);

  const workflow = pipeline(fast, say);
  const runtime = createRuntime({ clock });
  try {
    await runtime.start([
      alarmSupervisor({ db, zone: 'UTC' }),
      schedulerWorker({ db, workflows: [workflow] }),
    ]);
    const workflows = new WorkflowClient(runtime);
    print(bold('Sales pipeline: weekly follow-ups until a reply'));

    // Ada answers the second follow-up, and signs the proposal: the program plays her inbox.
    const adaReplies = runtime.events.on('workflow.stepped', (e) => {
      if (e.runId !== 'lead:ada' || e.outcome !== 'wait') return;
      const answer = workflows.get(e.runId).then(async (run) => {
        if (run?.status !== 'waiting') return;
        const lead = run.context as Lead;
        if (lead.stage === 'following-up' && lead.followUps === 2) {
          await workflows.signal(run.id, 'reply', { text: 'Sorry, busy weeks. Yes, interested!' });
        } else if (lead.stage === 'proposal') {
          adaReplies();
          await workflows.signal(run.id, 'signed', {});
        }
      });
      answer.catch((err: unknown) =>
        say('program', `could not signal ${e.runId}: ${(err as Error).message}`),
      );
    });

    const ended = new Set<string>();
    const bothEnded = new Promise<void>((resolve) => {
      runtime.events.on('workflow.ended', (e) => {
        ended.add(e.runId);
        if (ended.has('lead:ada') && ended.has('lead:bob')) resolve();
      });
    });
    const initial = { stage: 'new', followUps: 0 } as const;
    await workflows.start(
      workflow,
      { ...initial, contact: 'ada@example.com' },
      { runId: 'lead:ada', at: 'in 100ms' },
    );
    await workflows.start(
      workflow,
      { ...initial, contact: 'bob@example.com' },
      { runId: 'lead:bob', at: 'in 100ms' },
    );
    const finished = (await within(clock, fast ? 30_000 : 60 * 86_400_000, bothEnded)) !== false;

    const runs = (await Promise.all(['lead:ada', 'lead:bob'].map((id) => workflows.get(id)))).filter(
      (r): r is WorkflowRun => r !== null,
    );
    for (const run of runs) {
      const lead = run.context as Lead;
      print();
      print(bold(`${run.id}  ${lead.contact}  ${run.status}, ${String(run.result)}, stage '${lead.stage}'`));
      print(
        formatTable(
          [
            { title: 'seq', align: 'right' },
            { title: 'step' },
            { title: 'at' },
            { title: 'outcome' },
            { title: 'next' },
          ],
          run.history.map((h) => [String(h.seq), h.step, day(h.startedAt), h.outcome, h.detail ?? '']),
        ),
      );
    }
    const [ada, bob] = runs;
    const ok =
      finished &&
      ada?.status === 'completed' &&
      ada.result === 'won' &&
      bob?.status === 'completed' &&
      bob.result === 'lost' &&
      (bob.context as Lead).followUps === MAX_FOLLOW_UPS;
    print();
    print(
      ok
        ? green('✓ Ada won after 2 follow-ups; Bob lost after 3 unanswered ones')
        : '✗ the pipeline did not end as expected',
    );
    return { ok, runs };
  } finally {
    await runtime.stop();
    temp?.cleanup();
  }
}

if (isMain(import.meta.url)) runAsProgram(async () => (await main()).ok);
