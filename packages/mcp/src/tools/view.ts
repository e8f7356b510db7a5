/**
 * How alarms and instants are shown to a model: the instant in UTC and in the user's zone, a
 * human distance ("in 2 days 3 hours"), and the target as the user names it (`Inbox`, not the
 * internal `Inbox:<user>`).
 */
import { type Alarm, formatInstant } from '@vigil/alarm';
import { z } from 'zod';

/** Output schema of one alarm. @internal */
export const alarmView = z.object({
  id: z.number().int(),
  status: z.string(),
  target: z.string(),
  message: z.string().nullable(),
  at: z.string().describe('the instant it fires next, ISO-8601 UTC'),
  atLocal: z.string().describe("the same instant in the user's zone"),
  in: z.string().describe('distance from now, e.g. "in 2 days 3 hours" or "5 minutes ago"'),
  key: z.string().nullable(),
  series: z
    .object({ every: z.string().optional(), cron: z.string().optional(), zone: z.string().optional() })
    .nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
});

/** @internal */
export type AlarmView = z.infer<typeof alarmView>;

const UNITS: [string, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

/** "in 2 days 3 hours", "5 minutes ago", "now": the two largest units, rounded down. @internal */
export function humanDistance(at: number, now: number): string {
  let left = Math.abs(at - now);
  const parts: string[] = [];
  for (const [unit, ms] of UNITS) {
    const n = Math.floor(left / ms);
    if (n > 0 && parts.length < 2) {
      parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
      left -= n * ms;
    } else if (parts.length > 0) break;
  }
  if (parts.length === 0) return 'now';
  return at >= now ? `in ${parts.join(' ')}` : `${parts.join(' ')} ago`;
}

/** The alarm as a model sees it. @internal */
export function viewAlarm(alarm: Alarm, ctx: { inboxName: string; zone: string; now: number }): AlarmView {
  const text = alarm.message?.text;
  const r = alarm.recurrence as { every?: unknown; cron?: unknown; zone?: unknown } | null;
  return {
    id: alarm.id,
    status: alarm.status,
    target: alarm.target === ctx.inboxName ? 'Inbox' : alarm.target,
    message: typeof text === 'string' ? text : alarm.message === null ? null : JSON.stringify(alarm.message),
    at: new Date(alarm.fireAt).toISOString(),
    atLocal: formatInstant(alarm.fireAt, ctx.zone),
    in: humanDistance(alarm.fireAt, ctx.now),
    key: alarm.key,
    series: r
      ? {
          ...(r.every !== undefined ? { every: String(r.every) } : {}),
          ...(typeof r.cron === 'string' ? { cron: r.cron } : {}),
          ...(typeof r.zone === 'string' ? { zone: r.zone } : {}),
        }
      : null,
    attempts: alarm.attempts,
    lastError: alarm.lastError,
  };
}
