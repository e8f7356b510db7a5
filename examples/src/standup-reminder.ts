/**
 * Stand-up reminder: "tomorrow at 9am", as a Pushover notification.
 *
 * The time is plain English, read in your time zone; the alarm is stored in SQLite, and when it
 * comes due the Pushover target posts it. With PUSHOVER_TOKEN and PUSHOVER_USER set, it goes to
 * your phone; without them, to a local fake Pushover server that speaks the same API, so the
 * example runs anywhere. The fake refuses the first request with a 500, as a flaky network might,
 * and the Alarm retries it: the reminder still arrives, once.
 *
 * Run: `pnpm --filter @vigil/examples exec tsx src/standup-reminder.ts --fast` ('in 3 seconds').
 */
import { AlarmClient, alarmSupervisor, formatInstant, parseWhen } from '@vigil/alarm';
import { type Clock, createRuntime, systemClock, worker } from '@vigil/runtime';
import { pushoverTarget } from '@vigil/targets';
import { startFakePushover } from '@vigil/targets/testing';
import { consolePrint, fastMode, isMain, type Print, runAsProgram, tempDatabase, within } from './lib/run.js';
import { bold, dim, green, red, yellow } from './lib/style.js';
import { localZone } from './lib/time.js';

export interface StandupOptions {
  clock?: Clock;
  print?: Print;
  fast?: boolean;
  db?: string;
  zone?: string;
  /** Environment to read PUSHOVER_TOKEN and PUSHOVER_USER from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

export interface StandupResult {
  ok: boolean;
  scheduledFor: number;
  deliveredAt: number | null;
  attempts: number;
  /** Messages the fake server accepted (empty when a real token was used). */
  received: { title?: string; message: string }[];
}

/** When the reminder is for, in words. */
export function reminderWhen(fast: boolean): string {
  return fast ? 'in 3 seconds' : 'tomorrow at 9am';
}

/** The instant `reminderWhen` names, from `now` in `zone`. */
export function reminderInstant(fast: boolean, now: number, zone: string): number {
  return parseWhen(reminderWhen(fast), { now, zone }).at;
}

export async function main(options: StandupOptions = {}): Promise<StandupResult> {
  const clock = options.clock ?? systemClock;
  const print = options.print ?? consolePrint;
  const fast = options.fast ?? fastMode();
  const zone = options.zone ?? localZone();
  const env = options.env ?? process.env;
  const temp = options.db ? undefined : tempDatabase('standup');
  const db = options.db ?? temp!.file;

  // A real Pushover account if configured, else the local fake (failing its first request).
  const real = Boolean(env.PUSHOVER_TOKEN && env.PUSHOVER_USER);
  const fake = real ? null : await startFakePushover();
  fake?.mode('server-error', 1);
  const pushover = fake
    ? pushoverTarget({ baseUrl: fake.baseUrl, token: fake.token, user: fake.user })
    : pushoverTarget({ env });

  const runtime = createRuntime({ clock });
  try {
    await runtime.start([
      worker('Pushover', pushover),
      alarmSupervisor({ db, zone, backoff: { minMs: 1000, maxMs: 60_000, factor: 2 } }),
    ]);
    print(bold('Stand-up reminder'));
    print(
      `  ${dim('sending to')}  ${fake ? `a local fake Pushover server (${fake.baseUrl}); set PUSHOVER_TOKEN and PUSHOVER_USER for the real one` : 'Pushover (PUSHOVER_TOKEN)'}`,
    );

    const when = reminderWhen(fast);
    const alarm = await new AlarmClient(runtime).set(
      when,
      'Pushover',
      { type: 'notify', title: 'Stand-up', message: 'Stand-up in the usual room, 9:00 sharp.' },
      { key: `standup:${new Date(reminderInstant(fast, clock.now(), zone)).toISOString().slice(0, 10)}` },
    );
    print(
      `  ${dim('when')}        '${when}' → ${formatInstant(alarm.scheduledFor, zone)} (alarm #${alarm.id})`,
    );

    runtime.events.on('alarm.retried', (e) =>
      print(
        `  ${yellow('retry')}       attempt ${e.attempt} failed (${e.reason}); trying again in ${Math.round((e.nextAt - e.at) / 1000)} s`,
      ),
    );
    const delivered = runtime.events.waitFor('alarm.delivered', (e) => e.id === alarm.id);
    const waitMs = alarm.scheduledFor - clock.now() + 120_000;
    const result = (await within(clock, waitMs, delivered)) || null;
    const stored = await new AlarmClient(runtime).get(alarm.id);
    const received = (fake?.messages ?? []).map((m) => ({ title: m.title, message: m.message }));
    const ok = result !== null && stored?.status === 'fired' && (real || received.length === 1);
    if (ok && result) {
      print(
        `  ${green('sent')}        "${received[0]?.message ?? 'the reminder'}" after ${stored!.attempts} attempts, ${result.lateMs} ms after its time`,
      );
    } else {
      print(
        `  ${red('not sent')}    status ${stored?.status ?? 'unknown'}${stored?.lastError ? `: ${stored.lastError}` : ''}`,
      );
    }
    return {
      ok,
      scheduledFor: alarm.scheduledFor,
      deliveredAt: result?.at ?? null,
      attempts: stored?.attempts ?? 0,
      received,
    };
  } finally {
    await runtime.stop();
    await fake?.close();
    temp?.cleanup();
  }
}

if (isMain(import.meta.url)) runAsProgram(async () => (await main()).ok);
