/**
 * Crash recovery: `kill -9` the process mid-way, start a new one on the same database, lose
 * nothing.
 *
 * The program runs Vigil in a child process that sets six alarms ('in 1 second' … 'in 6
 * seconds') for a Recorder target, which writes each delivery to a journal file. After two have
 * fired, the parent kills the child with SIGKILL: no shutdown, no flush, no goodbye. Two seconds
 * later (some alarms come due while nothing runs) it starts a second child on the same SQLite
 * file. That child reads the pending alarms back, fires the overdue ones at once and the others
 * on time. The parent then reads the journal and checks that every alarm was delivered and none
 * early. Delivery is at least once: an alarm in flight at the instant of the kill may be
 * delivered twice (the journal shows it), never zero times.
 *
 * Run: `pnpm --filter @vigil/examples exec tsx src/crash-recovery.ts --fast`
 * (without --fast the alarms are 10 seconds apart).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AlarmClient, alarmSupervisor, type Delivery } from '@vigil/alarm';
import { createRuntime, worker } from '@vigil/runtime';
import { defineTarget } from '@vigil/targets';
import { consolePrint, fastMode, isMain, type Print, tempDatabase } from './lib/run.js';
import { bold, dim, green, red, yellow } from './lib/style.js';
import { formatTable } from './lib/table.js';
import { clockTime } from './lib/time.js';

/** One line of the journal: a delivery as the Recorder saw it. */
interface JournalEntry {
  alarmId: number;
  label: string;
  attempt: number;
  scheduledFor: number;
  at: number;
  pid: number;
}

const ALARMS = 6;

// ---------------------------------------------------------------------------------------------
// The child: one life of the application.

/**
 * Runs Vigil on `db`. In the first life it sets the alarms; in every life it delivers what comes
 * due to the Recorder, and exits once nothing is pending.
 */
async function child(db: string, journal: string, firstLife: boolean, stepMs: number): Promise<void> {
  const fd = fs.openSync(journal, 'a');
  const recorder = defineTarget(async (d: Delivery<{ label: string }>) => {
    const entry: JournalEntry = {
      alarmId: d.alarm.alarmId,
      label: d.label,
      attempt: d.alarm.attempt,
      scheduledFor: d.alarm.scheduledFor,
      at: Date.now(),
      pid: process.pid,
    };
    // Written and synced before the delivery is acknowledged: the journal never misses one the
    // database marked fired.
    fs.writeSync(fd, `${JSON.stringify(entry)}\n`);
    fs.fsyncSync(fd);
  });
  const runtime = createRuntime();
  await runtime.start([worker('Recorder', recorder), alarmSupervisor({ db })]);
  const alarms = new AlarmClient(runtime);
  if (firstLife) {
    for (let i = 1; i <= ALARMS; i++) {
      const seconds = (i * stepMs) / 1000;
      const when = `in ${seconds} second${seconds === 1 ? '' : 's'}`;
      const a = await alarms.set(when, 'Recorder', { type: 'record', label: when }, { key: `alarm-${i}` });
      process.stdout.write(`set #${a.id} '${when}'\n`);
    }
  } else {
    const pending = await alarms.list({ status: 'pending' });
    process.stdout.write(`read back ${pending.length} pending alarms from SQLite\n`);
  }
  // Exit when everything is settled.
  for (;;) {
    const stats = await alarms.stats();
    if ((stats.byStatus.pending ?? 0) === 0 && stats.inFlight === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await runtime.stop();
  fs.closeSync(fd);
}

// ---------------------------------------------------------------------------------------------
// The parent: starts a life, kills it, starts another, checks the journal.

export interface CrashRecoveryOptions {
  print?: Print;
  fast?: boolean;
}

export interface CrashRecoveryResult {
  ok: boolean;
  journal: JournalEntry[];
  killedPid: number;
}

export async function main(options: CrashRecoveryOptions = {}): Promise<CrashRecoveryResult> {
  const print = options.print ?? consolePrint;
  const fast = options.fast ?? fastMode();
  const stepMs = fast ? 1000 : 10_000;
  const { file: db, cleanup } = tempDatabase('crash-recovery');
  const journal = path.join(path.dirname(db), 'journal.jsonl');
  fs.writeFileSync(journal, '');
  const readJournal = (): JournalEntry[] =>
    fs
      .readFileSync(journal, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as JournalEntry);
  const t0 = Date.now();
  const say = (text: string) =>
    print(`  ${dim(`${((Date.now() - t0) / 1000).toFixed(2)}s`.padStart(6))}  ${text}`);

  print(bold('Crash recovery: SIGKILL mid-way, nothing lost'));
  print(`  ${dim('database')}  ${db}`);
  try {
    // Life 1: set the alarms, deliver some, then die without warning.
    const first = startLife(db, journal, true, stepMs, (line) => say(`child 1  ${line}`));
    say(`child 1 started (pid ${first.pid})`);
    while (readJournal().length < 2) {
      if (first.exitCode !== null) throw new Error('the first child exited before it was killed');
      await sleep(50);
    }
    first.kill('SIGKILL');
    await exited(first);
    const before = readJournal().length;
    say(yellow(`kill -9 ${first.pid} after ${before} deliveries; nothing runs for ${(2 * stepMs) / 1000} s`));
    await sleep(2 * stepMs);

    // Life 2: same database, no alarms set, just start.
    const second = startLife(db, journal, false, stepMs, (line) => say(`child 2  ${line}`));
    say(`child 2 started (pid ${second.pid}) on the same database`);
    const code = await exited(second, 20 * stepMs);
    if (code !== 0) throw new Error(`the second child exited with ${code}`);
    say('child 2 exited: nothing pending');

    // The verdict, from the journal.
    const entries = readJournal();
    const byAlarm = new Map<number, JournalEntry[]>();
    for (const e of entries) byAlarm.set(e.alarmId, [...(byAlarm.get(e.alarmId) ?? []), e]);
    const ids = [...byAlarm.keys()].sort((a, b) => a - b);
    const rows = ids.map((id) => {
      const list = byAlarm.get(id)!;
      const e = list[0]!;
      const life = e.pid === first.pid ? 'child 1' : 'child 2';
      return [
        `#${id}`,
        `'${e.label}'`,
        clockTime(e.scheduledFor, 'UTC'),
        clockTime(e.at, 'UTC'),
        `${e.at - e.scheduledFor} ms`,
        life,
        list.length > 1 ? yellow(`${list.length} (redelivered)`) : '1',
      ];
    });
    print();
    print(
      formatTable(
        [
          { title: 'alarm' },
          { title: 'when' },
          { title: 'scheduled' },
          { title: 'delivered' },
          { title: 'late', align: 'right' },
          { title: 'by' },
          { title: 'deliveries' },
        ],
        rows,
      ),
    );
    print();
    const missing = Array.from({ length: ALARMS }, (_, i) => i + 1).filter((id) => !byAlarm.has(id));
    const early = entries.filter((e) => e.at < e.scheduledFor);
    const ok = missing.length === 0 && early.length === 0;
    print(
      ok
        ? green(
            `✓ all ${ALARMS} alarms delivered, none early, across a kill -9 (${before} before it, the rest after)`,
          )
        : red(`✗ missing: ${missing.map((id) => `#${id}`).join(', ') || 'none'}; early: ${early.length}`),
    );
    return { ok, journal: entries, killedPid: first.pid ?? -1 };
  } finally {
    cleanup();
  }
}

/** Starts one life of the application in a child process, its output lines passed to `onLine`. */
function startLife(
  db: string,
  journal: string,
  firstLife: boolean,
  stepMs: number,
  onLine: (line: string) => void,
) {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const self = fileURLToPath(import.meta.url);
  const args = ['--import', tsx, self, '--child', db, journal, firstLife ? 'first' : 'next', String(stepMs)];
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let buffered = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line) onLine(line);
  });
  let errors = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  proc.once('exit', (code) => {
    if (code && errors) onLine(red(errors.trim().split('\n')[0] ?? ''));
  });
  return proc;
}

function exited(proc: ChildProcess, timeoutMs = 30_000): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`child ${proc.pid} still running after ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (isMain(import.meta.url)) {
  const argv = process.argv;
  const at = argv.indexOf('--child');
  const run =
    at >= 0
      ? child(argv[at + 1]!, argv[at + 2]!, argv[at + 3] === 'first', Number(argv[at + 4])).then(() => true)
      : main().then((r) => r.ok);
  run.then(
    (ok) => {
      process.exitCode = ok ? 0 : 1;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
