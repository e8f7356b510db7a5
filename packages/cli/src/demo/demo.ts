/**
 * The Vigil demo: an agent hand-off chain on durable alarms, about ten seconds end to end.
 *
 *   Researcher ──in 2 s──▶ Writer ──in 3 s──▶ Reviewer ──in 2 s──▶ Notifier
 *
 * Each agent is a target actor under one supervisor; each hand-off is an alarm stored in SQLite
 * (a temp file). Nobody coordinates: an agent finishes its work and sets the next alarm.
 *
 * Mid-way the demo crashes the Alarm actor on purpose while alarms are pending. Its supervisor
 * restarts it, the new Alarm reads the pending alarms back from SQLite and they still fire on
 * time. The Notifier also fails its first delivery once, and the Alarm retries it.
 *
 * It ends with a table of what fired when. Exit code 0 when every alarm was delivered, 1 if
 * anything was lost.
 *
 * Run: `vigil demo`, or from the repository `pnpm demo` (or `npm run demo`).
 */
import { type Alarm, AlarmClient, alarmSupervisor, type Delivery, formatInstant } from '@vigil/alarm';
import {
  type Clock,
  createRuntime,
  Exit,
  formatTree,
  type Runtime,
  supervisor,
  systemClock,
  worker,
} from '@vigil/runtime';
import { defineTarget } from '@vigil/targets';
import { consolePrint, type Print, tempDatabase } from './output.js';
import { bold, cyan, dim, green, red, yellow } from './style.js';
import { formatTable } from './table.js';
import { clockTime, elapsed, localZone } from './time.js';

/** Options of the demo; tests pass a ManualClock and collect the output. */
export interface DemoOptions {
  clock?: Clock;
  print?: Print;
  /** Database file (default: a fresh temp file, removed at the end). */
  db?: string;
  /** IANA zone natural-language times are read in (default: this machine's). */
  zone?: string;
  /** Give up after this many ms if the chain has not finished (default 15 s). */
  deadlineMs?: number;
}

/** What the demo observed, for tests. */
export interface DemoResult {
  ok: boolean;
  /** One row per alarm, in id order. */
  rows: AlarmRecord[];
  /** Incarnation of the Alarm actor at the end (2 after the crash). */
  alarmIncarnation: number;
  /** Pending alarms the restarted Alarm read back. */
  readBack: number;
}

/** What the demo knows about one alarm. */
export interface AlarmRecord {
  id: number;
  target: string;
  when: string;
  scheduledFor: number;
  firstFiredAt: number | null;
  lateMs: number | null;
  deliveredAt: number | null;
  attempts: number;
  status: string;
}

/** Runs the demo and resolves with what it observed; `ok` is false if any alarm was not delivered. */
export async function main(options: DemoOptions = {}): Promise<DemoResult> {
  const clock = options.clock ?? systemClock;
  const print = options.print ?? consolePrint;
  const zone = options.zone ?? localZone();
  const temp = options.db ? undefined : tempDatabase('demo');
  const db = options.db ?? temp!.file;
  const t0 = clock.now();
  const records = new Map<number, AlarmRecord>();

  const say = (who: string, text: string) =>
    print(`  ${dim(elapsed(clock.now(), t0).padStart(7))}  ${cyan(who.padEnd(10))}  ${text}`);

  // --- The agents. Each finishes its work, then hands off by setting an alarm. ---------------

  /** Sets an alarm and shows how its time parsed. The key makes a redelivery set nothing twice. */
  const handOff = async (
    runtime: Runtime,
    who: string,
    when: string,
    target: string,
    message: Record<string, unknown> & { type: string },
    extra: { key?: string; backoff?: { minMs: number; maxMs: number; factor: number } } = {},
  ): Promise<Alarm> => {
    const alarm = await new AlarmClient(runtime).set(when, target, message, extra);
    records.set(alarm.id, {
      id: alarm.id,
      target,
      when,
      scheduledFor: alarm.scheduledFor,
      firstFiredAt: null,
      lateMs: null,
      deliveredAt: null,
      attempts: 0,
      status: alarm.status,
    });
    say(
      who,
      `set #${alarm.id} ${bold(`'${when}'`)} → ${target}, fires ${formatInstant(alarm.scheduledFor, zone)}`,
    );
    return alarm;
  };

  const retry = { minMs: 1000, maxMs: 1000, factor: 1 };

  const researcher = defineTarget(async (d: Delivery<{ topic: string }>, { runtime, name }) => {
    say(name, `found 3 sources on "${d.topic}"; handing off to the Writer`);
    await handOff(
      runtime,
      name,
      'in 2 seconds',
      'Writer',
      { type: 'draft', topic: d.topic },
      {
        key: `draft:${d.alarm.alarmId}`,
      },
    );
  });

  const writer = defineTarget(async (d: Delivery<{ topic: string }>, { runtime, name }) => {
    say(name, `drafted 1,200 words on "${d.topic}"; asking the Reviewer`);
    await handOff(
      runtime,
      name,
      'in 3 seconds',
      'Reviewer',
      { type: 'review', topic: d.topic },
      {
        key: `review:${d.alarm.alarmId}`,
      },
    );
  });

  const reviewer = defineTarget(async (d: Delivery<{ topic: string }>, { runtime, name }) => {
    say(name, 'approved the draft; scheduling the announcement');
    await handOff(
      runtime,
      name,
      'in 2 seconds',
      'Notifier',
      { type: 'notify', text: `"${d.topic}" is published` },
      { key: `notify:${d.alarm.alarmId}`, backoff: retry },
    );
  });

  // The Notifier's push service is down for its first try at the announcement.
  let outageLeft = 1;
  const notifier = defineTarget(async (d: Delivery<{ text: string }>, { name }) => {
    if (d.type === 'notify' && outageLeft > 0) {
      outageLeft--;
      throw new Error('push service unavailable (simulated)');
    }
    say(name, `${green('sent')} ${d.text}`);
  });

  // --- The tree. ------------------------------------------------------------------------------

  const runtime = createRuntime({ clock });
  const alarms = new AlarmClient(runtime);
  let readBack = 0;
  let finished: (ok: boolean) => void = () => {};
  const done = new Promise<boolean>((resolve) => {
    finished = resolve;
  });

  runtime.events.on('alarm.fired', (e) => {
    const r = records.get(e.id);
    if (r && r.firstFiredAt === null) {
      r.firstFiredAt = e.at;
      r.lateMs = e.lateMs;
    }
  });
  runtime.events.on('alarm.retried', (e) => {
    const wait = ((e.nextAt - e.at) / 1000).toFixed(1);
    say(e.target, `${yellow('✗')} attempt ${e.attempt} of #${e.id} failed: ${e.reason}; retry in ${wait} s`);
  });
  runtime.events.on('alarm.failed', (e) => {
    say(e.target, `${red('✗')} #${e.id} failed for good: ${e.reason}`);
    finished(false);
  });
  runtime.events.on('alarm.delivered', (e) => {
    const r = records.get(e.id);
    if (r) {
      r.deliveredAt = e.at;
      r.attempts = e.attempt;
      r.status = 'fired';
    }
    if ([...records.values()].every((x) => x.deliveredAt !== null) && records.size >= 5) finished(true);
  });
  runtime.events.on('actor.crashed', (e) => {
    const why = e.reason.kind === 'error' ? e.reason.error.message : e.reason.kind;
    say('alarms', `${red('Alarm crashed')}: ${why}`);
  });
  runtime.events.on('actor.started', (e) => {
    if (e.name !== 'Alarm' || e.incarnation < 2) return;
    void alarms.list({ status: 'pending' }).then((pending) => {
      readBack = pending.length;
      say(
        'alarms',
        `${green(`Alarm restarted (#${e.incarnation})`)}, read back ${pending.length} pending from SQLite:`,
      );
      for (const a of pending) {
        say('', `  #${a.id} → ${a.target.padEnd(9)} fires ${clockTime(a.fireAt, zone)}`);
      }
    });
  });

  print(bold('Vigil demo: an agent hand-off chain on durable alarms'));
  print(`  ${dim('database')}  ${db}`);
  print(`  ${dim('zone    ')}  ${zone}`);
  print();

  try {
    await runtime.start([
      alarmSupervisor({ db, zone }),
      supervisor(
        'agents',
        [
          worker('Researcher', researcher),
          worker('Writer', writer),
          worker('Reviewer', reviewer),
          worker('Notifier', notifier),
        ],
        { strategy: 'one_for_one', maxRestarts: 3, withinMs: 5000 },
      ),
    ]);
    print(bold('Supervision tree'));
    print(indent(formatTree(runtime.tree()!)));
    print();
    print(bold('Timeline'));

    // Kick off the chain, and one unrelated reminder that will be pending during the crash.
    await handOff(runtime, 'demo', 'in 1 second', 'Researcher', {
      type: 'research',
      topic: 'durable timers',
    });
    await handOff(runtime, 'demo', 'in 5 seconds', 'Notifier', {
      type: 'remind',
      text: 'stand-up in 10 minutes',
    });

    // Crash the Alarm a second after the Writer hands off, while the Reviewer's alarm is pending.
    const offSet = runtime.events.on('alarm.set', (e) => {
      if (e.target !== 'Reviewer') return;
      offSet();
      clock.setTimeout(() => {
        void alarms.stats().then((s) => {
          say(
            'demo',
            `${yellow('crashing the Alarm actor on purpose')} (${s.byStatus.pending ?? 0} alarms pending)`,
          );
          runtime.exit('Alarm', Exit.error(new Error('demo: simulated crash')));
        });
      }, 1000);
    });

    const deadline = clock.setTimeout(() => finished(false), options.deadlineMs ?? 15_000);
    const ok = await done;
    clock.clearTimeout(deadline);

    // What the database says, not what the events said.
    const stored = await alarms.list({ limit: 1000 });
    for (const a of stored) {
      const r = records.get(a.id);
      if (r) {
        r.status = a.status;
        r.attempts = a.attempts;
      }
    }
    const rows = [...records.values()].sort((a, b) => a.id - b.id);
    const lost = rows.filter((r) => r.status !== 'fired');
    const alarmIncarnation = runtime
      .tree()!
      .children!.find((c) => c.name === 'alarms')!
      .children!.find((c) => c.name === 'Alarm')!.incarnation;

    print();
    print(bold('Supervision tree at the end'));
    print(indent(formatTree(runtime.tree()!)));
    print();
    print(bold('What fired when'));
    print(
      formatTable(
        [
          { title: 'alarm' },
          { title: 'target' },
          { title: 'when' },
          { title: 'scheduled' },
          { title: 'fired' },
          { title: 'late', align: 'right' },
          { title: 'attempts', align: 'right' },
          { title: 'delivered' },
          { title: 'status' },
        ],
        rows.map((r) => [
          `#${r.id}`,
          r.target,
          `'${r.when}'`,
          clockTime(r.scheduledFor, zone),
          r.firstFiredAt === null ? '-' : clockTime(r.firstFiredAt, zone),
          r.lateMs === null ? '-' : `${r.lateMs} ms`,
          String(r.attempts),
          r.deliveredAt === null ? '-' : clockTime(r.deliveredAt, zone),
          r.status === 'fired' ? green(r.status) : red(r.status),
        ]),
      ),
    );
    print();
    const success = ok && lost.length === 0 && alarmIncarnation >= 2;
    if (success) {
      print(
        green(
          `✓ ${rows.length} alarms set, ${rows.length} delivered, none lost; the Alarm crashed once and ` +
            `read ${readBack} pending alarms back from SQLite.`,
        ),
      );
    } else {
      print(
        red(`✗ ${lost.length} of ${rows.length} alarms not delivered${ok ? '' : ' before the deadline'}.`),
      );
    }
    print(dim(`  finished in ${elapsed(clock.now(), t0)}`));
    return { ok: success, rows, alarmIncarnation, readBack };
  } finally {
    await runtime.stop();
    temp?.cleanup();
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
