/**
 * Rate-limited API calls: 20 calls spaced 5 seconds apart, surviving a restart without bursting.
 *
 * Each call is an alarm. When the Caller has made call n, it sets the alarm for call n+1
 * 'in 5 seconds' from that moment. So the spacing is measured from the last call actually made,
 * never from a schedule computed up front: after the process has been down, the pending call
 * fires once, late, and the next one waits its full 5 seconds. (Twenty alarms set up front at
 * fixed instants would all be due after a long outage and fire at once: a burst.)
 *
 * Half-way the whole runtime is stopped and, after an outage longer than the spacing, a new one
 * starts on the same database: the pending call is read back and the chain carries on. The
 * program prints every call with the gap before it and checks that no gap is under the spacing.
 *
 * Run: `pnpm --filter @vigil/examples exec tsx src/rate-limited-calls.ts --fast` (0.25 s spacing).
 */
import { AlarmClient, alarmSupervisor, type Delivery } from '@vigil/alarm';
import { type Clock, createRuntime, type Runtime, systemClock, worker } from '@vigil/runtime';
import { defineTarget } from '@vigil/targets';
import { consolePrint, fastMode, isMain, type Print, runAsProgram, tempDatabase, within } from './lib/run.js';
import { bold, cyan, dim, green, red, yellow } from './lib/style.js';
import { formatTable } from './lib/table.js';
import { clockTime } from './lib/time.js';

export interface RateLimitedOptions {
  clock?: Clock;
  print?: Print;
  fast?: boolean;
  db?: string;
  /** Number of calls (default 20). */
  calls?: number;
  /** Restart after this call (default half-way). */
  restartAfter?: number;
}

export interface RateLimitedResult {
  ok: boolean;
  spacingMs: number;
  /** When each call was made, by call number (1-based), duplicates included. */
  calls: { n: number; at: number }[];
  restartedAt: number | null;
}

export async function main(options: RateLimitedOptions = {}): Promise<RateLimitedResult> {
  const clock = options.clock ?? systemClock;
  const print = options.print ?? consolePrint;
  const fast = options.fast ?? fastMode();
  const total = options.calls ?? 20;
  const restartAfter = options.restartAfter ?? Math.floor(total / 2);
  const spacing = fast ? '250ms' : '5 seconds';
  const spacingMs = fast ? 250 : 5000;
  const temp = options.db ? undefined : tempDatabase('rate-limited');
  const db = options.db ?? temp!.file;

  // The "API": it records when each call arrived. Call numbers make a redelivered call harmless.
  const calls: RateLimitedResult['calls'] = [];
  let restartAlarmId = -1;

  const caller = defineTarget(async (d: Delivery<{ n: number }>, { runtime }) => {
    calls.push({ n: d.n, at: clock.now() });
    if (d.n < total) {
      await new AlarmClient(runtime).set(
        `in ${spacing}`,
        'Caller',
        { type: 'call', n: d.n + 1 },
        { key: `call-${d.n + 1}` },
      );
    }
    if (d.n === restartAfter) restartAlarmId = d.alarm.alarmId;
  });

  const boot = async (): Promise<Runtime> => {
    const runtime = createRuntime({ clock });
    await runtime.start([worker('Caller', caller), alarmSupervisor({ db })]);
    return runtime;
  };

  print(
    bold(
      `Rate-limited calls: ${total} calls, at least ${spacing} apart, with a restart after call ${restartAfter}`,
    ),
  );
  let restartedAt: number | null = null;
  let runtime = await boot();
  try {
    // First life: until call `restartAfter` has been made, its successor set, and it is acknowledged.
    const halfway = runtime.events.waitFor('alarm.delivered', (e) => e.id === restartAlarmId);
    await new AlarmClient(runtime).set('in 1 second', 'Caller', { type: 'call', n: 1 }, { key: 'call-1' });
    await halfway;
    await runtime.stop();
    const outageMs = spacingMs * 2 + spacingMs / 2;
    print(
      `  ${dim(clockTime(clock.now(), 'UTC'))}  ${yellow(`runtime stopped after call ${restartAfter}; down for ${outageMs} ms`)}`,
    );
    await new Promise<void>((resolve) => clock.setTimeout(resolve, outageMs));

    // Second life: a new runtime on the same database reads the pending call back.
    restartedAt = clock.now();
    runtime = await boot();
    const pending = await new AlarmClient(runtime).list({ status: 'pending' });
    print(
      `  ${dim(clockTime(clock.now(), 'UTC'))}  ${green('runtime started again')}; read back ${pending.length} pending: ` +
        pending.map((a) => `call ${String(a.message?.n)} (due ${clockTime(a.fireAt, 'UTC')})`).join(', '),
    );
    const last = runtime.events.waitFor('alarm.delivered', () => calls.some((c) => c.n === total));
    await within(clock, spacingMs * total * 2 + 10_000, last);
  } finally {
    await runtime.stop();
    temp?.cleanup();
  }

  // The report: every call, the gap before it, and the verdict.
  const rows = calls.map((c, i) => {
    const gap = i === 0 ? null : c.at - calls[i - 1]!.at;
    const acrossRestart =
      restartedAt !== null && i > 0 && calls[i - 1]!.at < restartedAt && c.at >= restartedAt;
    const gapText = gap === null ? '-' : gap < spacingMs ? red(`${gap} ms`) : `${gap} ms`;
    return [String(c.n), clockTime(c.at, 'UTC'), gapText, acrossRestart ? cyan('← across the restart') : ''];
  });
  print();
  print(
    formatTable(
      [
        { title: 'call', align: 'right' },
        { title: 'made at' },
        { title: 'gap', align: 'right' },
        { title: '' },
      ],
      rows,
    ),
  );
  print();
  const numbers = calls.map((c) => c.n);
  const complete = numbers.length === total && numbers.every((n, i) => n === i + 1);
  const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
  const minGap = gaps.length ? Math.min(...gaps) : 0;
  const ok = complete && minGap >= spacingMs;
  print(
    ok
      ? green(
          `✓ ${total} calls, each once, in order; smallest gap ${minGap} ms ≥ ${spacingMs} ms, restart included`,
        )
      : red(
          `✗ ${complete ? `a gap of ${minGap} ms is under ${spacingMs} ms` : `calls made: ${numbers.join(', ')}`}`,
        ),
  );
  return { ok, spacingMs, calls, restartedAt };
}

if (isMain(import.meta.url)) runAsProgram(async () => (await main()).ok);
