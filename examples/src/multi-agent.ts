/**
 * Multi-agent hand-off with no coordinator.
 *
 * Three agents, each an XState machine (idle → working → idle) run as an actor under one
 * supervisor. When the Planner finishes it schedules a message to the Coder in 30 minutes; the
 * Coder works and schedules the Tester in 2 hours. Nothing else knows the order: each agent only
 * knows who comes after it, and the hand-off is a durable alarm, so it survives a restart of
 * anything in between.
 *
 * An agent acknowledges a delivery only when its work is done (it replies from the machine), so
 * a crash mid-work means the Alarm delivers the task again. A task that arrives while the agent
 * is busy is answered "busy, try later" and the Alarm retries it.
 *
 * Run: `pnpm --filter @vigil/examples exec tsx src/multi-agent.ts --fast` (seconds instead of hours).
 */
import { AlarmClient, alarmSupervisor, type Delivery } from '@vigil/alarm';
import {
  type Clock,
  createRuntime,
  formatTree,
  reply,
  replyError,
  runtimeOf,
  supervisor,
  systemClock,
  VigilError,
  worker,
} from '@vigil/runtime';
import { assign, fromPromise, setup } from 'xstate';
import { consolePrint, fastMode, isMain, type Print, runAsProgram, tempDatabase, within } from './lib/run.js';
import { bold, cyan, dim, green } from './lib/style.js';
import { clockTime } from './lib/time.js';

/** A task handed from one agent to the next. */
type Task = Delivery<{ type: 'task'; goal: string; notes: string[] }>;

/** Who comes next, and after how long. */
interface HandOff {
  to: string;
  when: string;
}

/**
 * One agent: a statechart that takes a task, works on it (an invoked promise), hands off to the
 * next agent by setting an alarm, and only then acknowledges the task.
 */
function agentMachine(
  name: string,
  work: string,
  next: HandOff | null,
  log: (who: string, text: string) => void,
  complete: (notes: string[]) => void = () => {},
) {
  return setup({
    types: {} as { context: { task: Task | null; done: number }; events: Task },
    actors: {
      work: fromPromise(
        async ({ input }: { input: { task: Task; runtime: ReturnType<typeof runtimeOf> } }) => {
          const notes = [...input.task.notes, `${name}: ${work}`];
          log(name, `working: ${work}`);
          if (next) {
            // The key makes a redelivered task (after a crash) hand off once, not twice.
            const alarm = await new AlarmClient(input.runtime).set(
              next.when,
              next.to,
              { type: 'task', goal: input.task.goal, notes },
              { key: `${name}->${next.to}:${input.task.alarm.alarmId}` },
            );
            log(
              name,
              `done; hands off to ${next.to} '${next.when}' (at ${clockTime(alarm.fireAt, 'UTC')} UTC)`,
            );
          } else {
            log(name, `${green('done')}; the chain is complete:`);
            for (const note of notes) log('', `  ${note}`);
            complete(notes);
          }
          return notes;
        },
      ),
    },
  }).createMachine({
    id: name,
    context: { task: null, done: 0 },
    initial: 'idle',
    states: {
      idle: {
        on: { task: { target: 'working', actions: assign({ task: ({ event }) => event }) } },
      },
      working: {
        invoke: {
          src: 'work',
          input: ({ context, self }) => ({ task: context.task!, runtime: runtimeOf(self) }),
          onDone: {
            target: 'idle',
            actions: [
              ({ context, event }) => reply(context.task!, event.output),
              assign({ task: null, done: ({ context }) => context.done + 1 }),
            ],
          },
          onError: {
            target: 'idle',
            actions: [
              ({ context, event }) =>
                replyError(
                  context.task!,
                  event.error instanceof Error ? event.error : new Error(String(event.error)),
                ),
              assign({ task: null }),
            ],
          },
        },
        on: {
          // One task at a time: a second one is refused for now, and the Alarm retries it.
          task: {
            actions: ({ event }) =>
              replyError(
                event,
                Object.assign(new VigilError('BUSY', `${name} is busy`), { retryable: true }),
              ),
          },
        },
      },
    },
  });
}

export interface MultiAgentOptions {
  clock?: Clock;
  print?: Print;
  fast?: boolean;
  db?: string;
}

export interface MultiAgentResult {
  ok: boolean;
  /** Agents in the order they received the task, with when. */
  deliveries: { target: string; at: number; scheduledFor: number }[];
  notes: string[];
}

export async function main(options: MultiAgentOptions = {}): Promise<MultiAgentResult> {
  const clock = options.clock ?? systemClock;
  const print = options.print ?? consolePrint;
  const fast = options.fast ?? fastMode();
  const temp = options.db ? undefined : tempDatabase('multi-agent');
  const db = options.db ?? temp!.file;
  const log = (who: string, text: string) =>
    print(`  ${dim(clockTime(clock.now(), 'UTC'))}  ${cyan(who.padEnd(8))}  ${text}`);

  const toCoder: HandOff = { to: 'Coder', when: fast ? 'in 3 seconds' : 'in 30 minutes' };
  const toTester: HandOff = { to: 'Tester', when: fast ? 'in 2 seconds' : 'in 2 hours' };
  const runtime = createRuntime({ clock });
  const deliveries: MultiAgentResult['deliveries'] = [];
  let notes: string[] = [];
  const scheduledFor = new Map<number, number>();
  runtime.events.on('alarm.fired', (e) => scheduledFor.set(e.id, e.scheduledFor));
  runtime.events.on('alarm.delivered', (e) =>
    deliveries.push({ target: e.target, at: e.at, scheduledFor: scheduledFor.get(e.id) ?? e.at }),
  );

  try {
    await runtime.start([
      alarmSupervisor({ db, zone: 'UTC' }),
      supervisor('agents', [
        worker('Planner', agentMachine('Planner', 'split the feature into 3 steps', toCoder, log)),
        worker('Coder', agentMachine('Coder', 'wrote the code for the 3 steps', toTester, log)),
        worker(
          'Tester',
          agentMachine('Tester', 'ran 42 tests, all green', null, log, (n) => {
            notes = n;
          }),
        ),
      ]),
    ]);
    print(bold('Multi-agent hand-off (no coordinator)'));
    print(formatTree(runtime.tree()!).replace(/^/gm, '  '));
    print();

    const alarms = new AlarmClient(runtime);
    const testerDone = runtime.events.waitFor('alarm.delivered', (e) => e.target === 'Tester');
    await alarms.set(fast ? 'in 1 second' : 'in 1 minute', 'Planner', {
      type: 'task',
      goal: 'add CSV export',
      notes: [],
    });
    log('program', 'gave the Planner a task; from here on the agents hand off by themselves');

    const finished = (await within(clock, fast ? 30_000 : 4 * 3_600_000, testerDone)) !== false;
    const stored = await alarms.list({ limit: 100 });
    const order = deliveries.map((d) => d.target).join(' → ');
    const onTime = deliveries.every((d) => d.at >= d.scheduledFor && d.at - d.scheduledFor < 1000);
    const ok =
      finished && order === 'Planner → Coder → Tester' && onTime && stored.every((a) => a.status === 'fired');
    print();
    print(
      ok
        ? green(`✓ ${order}, each on time, with no coordinator`)
        : `✗ chain incomplete: ${order || 'nothing delivered'}`,
    );
    return { ok, deliveries, notes };
  } finally {
    await runtime.stop();
    temp?.cleanup();
  }
}

if (isMain(import.meta.url)) runAsProgram(async () => (await main()).ok);
