/**
 * The alarm tools: alarm_set, alarm_list, alarm_get, alarm_cancel, alarm_history, time_parse.
 * Targets are checked against the user's policy before anything is stored; `Inbox` means the
 * user's own inbox. Ids are looked up in the user's own database only, so another user's id is
 * `NOT_FOUND`, the same answer as an id that never existed.
 */
import { ALARM_STATUSES, formatInstant, parseWhen, type Recurrence } from '@vigil/alarm';
import { z } from 'zod';
import { ForbiddenError, NotFoundError, QuotaExceededError } from '../errors.js';
import { defineTool, type ToolContext } from './tool.js';
import { alarmView, humanDistance, viewAlarm } from './view.js';

const text = (max: number) => z.string().min(1).max(max);
const alarmId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const view = (ctx: ToolContext, alarm: Parameters<typeof viewAlarm>[0]) =>
  viewAlarm(alarm, { inboxName: ctx.user.inboxName, zone: ctx.user.principal.zone, now: ctx.now() });

/** The target's registered name, if the user may address it. */
function resolveTarget(ctx: ToolContext, target: string): string {
  if (target === 'Inbox') return ctx.user.inboxName;
  if (ctx.user.principal.policy.targets.includes(target)) return target;
  throw new ForbiddenError(
    `target '${target}' is not allowed for this user (allowed: Inbox${ctx.user.principal.policy.targets.map((t) => `, ${t}`).join('')})`,
  );
}

async function findAlarm(ctx: ToolContext, id: number) {
  const alarm = await ctx.user.alarms.get(id);
  if (!alarm) throw new NotFoundError('alarm', id);
  return alarm;
}

export const alarmSet = defineTool({
  name: 'alarm_set',
  title: 'Set an alarm',
  description: [
    'Schedules a message for later, durably (it survives restarts and crashes). When it comes due the',
    "message is delivered to `target`; use target 'Inbox' to have it come back to you: it appears in",
    'inbox_read and connected sessions get a notification on the resource vigil://inbox.',
    '`when` is natural language or ISO-8601, read in your zone (or `zone`): "in 2 hours", "tomorrow at',
    '9am", "next friday 17:30", "2026-03-02T09:00:00Z". Optional: `key` (setting the same key again returns',
    'the first alarm instead of a second one), `every` ("1 day") or `cron` ("0 9 * * 1-5") for a series.',
    'Example: {"when": "in 2 hours", "target": "Inbox", "message": "check the deploy"}.',
    'Errors: INVALID_TIME / PAST_TIME (when does not name a future instant), INVALID_ZONE, INVALID_RECURRENCE,',
    'FORBIDDEN (target not allowed), QUOTA_EXCEEDED (too many pending alarms, sets per minute, or message too',
    'long), UNKNOWN_TARGET, INVALID_INPUT.',
  ].join(' '),
  input: z.strictObject({
    when: text(200).describe('when it fires: "in 2 hours", "tomorrow at 9am", ISO-8601'),
    target: text(128).describe("who receives it: 'Inbox' (yourself) or an allowed target"),
    message: z.string().max(1_000_000).describe('the text delivered'),
    key: text(200).optional().describe('idempotency key: the same key returns the first alarm'),
    every: text(100).optional().describe('repeat interval, e.g. "1 day"; not with cron'),
    cron: text(100).optional().describe('cron pattern, e.g. "0 9 * * 1-5"; not with every'),
    zone: text(64).optional().describe('IANA zone for `when` and `cron` (default: your zone)'),
  }),
  output: z.object({ alarm: alarmView, created: z.boolean() }),
  mutates: true,
  run: async (ctx, args) => {
    const policy = ctx.user.principal.policy;
    const target = resolveTarget(ctx, args.target);
    const bytes = Buffer.byteLength(args.message, 'utf8');
    if (bytes > policy.maxMessageBytes)
      throw new QuotaExceededError(
        'maxMessageBytes',
        `message is ${bytes} bytes, at most ${policy.maxMessageBytes}`,
      );
    if (args.every !== undefined && args.cron !== undefined)
      throw new ForbiddenError('give `every` or `cron`, not both');
    const zone = args.zone ?? ctx.user.principal.zone;
    // Parsed here, in the zone of this call; the Alarm gets an instant.
    const at = parseWhen(args.when, { now: ctx.now(), zone }).at;
    const recurrence: Recurrence | undefined =
      args.every !== undefined
        ? { every: args.every }
        : args.cron !== undefined
          ? { cron: args.cron, zone }
          : undefined;
    return ctx.exclusive(async () => {
      const stats = await ctx.user.alarms.stats();
      const pending = stats.byStatus.pending ?? 0;
      if (args.key !== undefined) {
        // An existing key returns its alarm without counting as a new one.
        const same = (await ctx.user.alarms.list({ limit: 1000 })).find((a) => a.key === args.key);
        if (same)
          return {
            structured: { alarm: view(ctx, same), created: false },
            text: `Alarm #${same.id} already exists for key ${args.key}.`,
          };
      }
      if (pending >= policy.maxPendingAlarms)
        throw new QuotaExceededError(
          'maxPendingAlarms',
          `${pending} alarms are pending, at most ${policy.maxPendingAlarms}`,
        );
      ctx.countSet();
      const before = ctx.now();
      const alarm = await ctx.user.alarms.set(
        at,
        target,
        { type: 'mcp.message', text: args.message },
        {
          ...(args.key !== undefined ? { key: args.key } : {}),
          ...(recurrence ? { recurrence } : {}),
        },
      );
      const v = view(ctx, alarm);
      // A key already used (beyond the first 1000 rows looked at above) returns the older alarm.
      const created = !(args.key !== undefined && alarm.createdAt < before);
      return {
        structured: { alarm: v, created },
        text: `Alarm #${v.id} set for ${v.atLocal} (${v.in}) to ${v.target}.`,
      };
    });
  },
});

export const alarmList = defineTool({
  name: 'alarm_list',
  title: 'List alarms',
  description: [
    'Lists your alarms, oldest id first, optionally by status (pending, fired, failed, cancelled, missed)',
    'and target. Pages with `cursor`: pass the `nextCursor` of the previous answer. Example: {"status":',
    '"pending", "limit": 20}. Errors: INVALID_INPUT.',
  ].join(' '),
  input: z.strictObject({
    status: z.enum(ALARM_STATUSES as unknown as [string, ...string[]]).optional(),
    target: text(128).optional(),
    limit: z.number().int().min(1).max(100).optional().describe('default 20'),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/)
      .optional(),
  }),
  output: z.object({ alarms: z.array(alarmView), nextCursor: z.string().nullable() }),
  mutates: false,
  run: async (ctx, args) => {
    const limit = args.limit ?? 20;
    const target = args.target === 'Inbox' ? ctx.user.inboxName : args.target;
    const rows = await ctx.user.alarms.list({
      ...(args.status ? { status: args.status as (typeof ALARM_STATUSES)[number] } : {}),
      ...(target ? { target } : {}),
      limit,
      ...(args.cursor ? { afterId: Number(args.cursor) } : {}),
    });
    const alarms = rows.map((a) => view(ctx, a));
    const last = rows.at(-1);
    return {
      structured: { alarms, nextCursor: rows.length === limit && last ? String(last.id) : null },
      text:
        alarms.length === 0
          ? 'No alarms.'
          : alarms.map((a) => `#${a.id} ${a.status} ${a.atLocal} (${a.in}) -> ${a.target}`).join('\n'),
    };
  },
});

export const alarmGet = defineTool({
  name: 'alarm_get',
  title: 'Get an alarm',
  description:
    'One of your alarms by id. Example: {"id": 12}. Errors: NOT_FOUND (no alarm of yours has this id), INVALID_INPUT.',
  input: z.strictObject({ id: alarmId }),
  output: z.object({ alarm: alarmView }),
  mutates: false,
  run: async (ctx, args) => {
    const v = view(ctx, await findAlarm(ctx, args.id));
    return {
      structured: { alarm: v },
      text: `Alarm #${v.id} ${v.status}, ${v.atLocal} (${v.in}) -> ${v.target}.`,
    };
  },
});

export const alarmCancel = defineTool({
  name: 'alarm_cancel',
  title: 'Cancel an alarm',
  description: [
    'Cancels one of your pending alarms (a whole series for a recurring one). An alarm that already fired',
    'or failed is returned unchanged with its status. Example: {"id": 12}. Errors: NOT_FOUND, INVALID_INPUT.',
  ].join(' '),
  input: z.strictObject({ id: alarmId }),
  output: z.object({ alarm: alarmView }),
  mutates: true,
  run: async (ctx, args) => {
    await findAlarm(ctx, args.id);
    const alarm = await ctx.user.alarms.cancel(args.id);
    if (!alarm) throw new NotFoundError('alarm', args.id);
    const v = view(ctx, alarm);
    return { structured: { alarm: v }, text: `Alarm #${v.id} is ${v.status}.` };
  },
});

const occurrenceView = z.object({
  occurrenceId: z.string(),
  seq: z.number().int(),
  scheduledFor: z.string(),
  settledAt: z.string(),
  attempts: z.number().int(),
  outcome: z.enum(['delivered', 'failed', 'missed']),
  error: z.string().nullable(),
  inInbox: z.boolean(),
  acknowledged: z.boolean(),
});

export const alarmHistory = defineTool({
  name: 'alarm_history',
  title: 'History of an alarm',
  description: [
    'What happened to one of your alarms: its current state and each settled occurrence, oldest first',
    '(when it was scheduled for, when it settled, delivery attempts, outcome delivered/failed/missed with',
    'the error, whether it reached your inbox and whether you acknowledged it). A recurring alarm has one',
    'occurrence per firing; page with `afterSeq` (the last `seq` you saw) and `limit` (default 100).',
    'Example: {"id": 12}. Errors: NOT_FOUND, INVALID_INPUT.',
  ].join(' '),
  input: z.strictObject({
    id: alarmId,
    limit: z.number().int().min(1).max(1000).optional(),
    afterSeq: z.number().int().min(0).optional(),
  }),
  output: z.object({ alarm: alarmView, occurrences: z.array(occurrenceView) }),
  mutates: false,
  run: async (ctx, args) => {
    const v = view(ctx, await findAlarm(ctx, args.id));
    // The record of what happened is the alarm's own history; the inbox adds what the agent saw.
    const settled =
      (await ctx.user.alarms.history(args.id, { limit: args.limit, afterSeq: args.afterSeq })) ?? [];
    const inbox = new Map(ctx.user.store.byAlarm(args.id).map((i) => [i.occurrenceId, i]));
    const occurrences = settled.map((o) => {
      const occurrenceId = `${o.alarmId}.${o.seq}`;
      const item = inbox.get(occurrenceId);
      return {
        occurrenceId,
        seq: o.seq,
        scheduledFor: new Date(o.scheduledFor).toISOString(),
        settledAt: new Date(o.settledAt).toISOString(),
        attempts: o.attempts,
        outcome: o.outcome,
        error: o.error,
        inInbox: item !== undefined,
        acknowledged: item !== undefined && item.ackedAt !== null,
      };
    });
    return {
      structured: { alarm: v, occurrences },
      text: `Alarm #${v.id} ${v.status}; ${occurrences.length} settled occurrence(s).`,
    };
  },
});

export const timeParse = defineTool({
  name: 'time_parse',
  title: 'Preview a time',
  description: [
    'Shows which instant a time expression means, without storing anything: use it to check "next friday',
    '17:30" before setting an alarm. Read in your zone unless `zone` is given. Example: {"text": "tomorrow',
    'at 9am", "zone": "Europe/Paris"}. Errors: INVALID_TIME (does not parse), PAST_TIME, INVALID_ZONE.',
  ].join(' '),
  input: z.strictObject({ text: text(200), zone: text(64).optional() }),
  output: z.object({ at: z.string(), atLocal: z.string(), zone: z.string(), in: z.string() }),
  mutates: false,
  run: async (ctx, args) => {
    const zone = args.zone ?? ctx.user.principal.zone;
    const now = ctx.now();
    const at = parseWhen(args.text, { now, zone }).at;
    const out = {
      at: new Date(at).toISOString(),
      atLocal: formatInstant(at, zone),
      zone,
      in: humanDistance(at, now),
    };
    return { structured: out, text: `"${args.text}" means ${out.atLocal} (${out.at}), ${out.in}.` };
  },
});
