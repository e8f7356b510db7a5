/**
 * `vigil alarms list | get | history | cancel | stats | set`: the alarm table of a database, read
 * through the alarm store. A recurring alarm is one series (one id): `get` shows it, `history`
 * its settled occurrences.
 *
 * `cancel` runs beside a running runtime without seeing what it is delivering. An alarm that is
 * already due may be in flight there: for it, `cancel` records a cancel request (the runtime's
 * own in-flight semantics): the delivery, if any, completes and is recorded, and nothing is
 * delivered after it. An alarm not yet due is cancelled at once.
 *
 * `set` validates exactly as the Alarm actor does (`prepareAlarm`), except that it cannot know which targets a running runtime declares: it checks the name's form only, and the
 * runtime marks an alarm for an undeclared target `failed` with a reason when it comes due.
 */
import {
  type Alarm,
  type AlarmInput,
  type AlarmRow,
  type AlarmStatus,
  InvalidPayloadError,
  type OccurrenceRow,
  prepareAlarm,
  type Recurrence,
  resolveOptions,
  toAlarm,
  toOccurrence,
} from '@vigil/alarm';
import { type Command, Option } from 'commander';
import type { Context } from './context.js';
import { location, openForReading, openForWriting, withStore } from './db.js';
import { CliError } from './errors.js';
import { cell, fields, instant, instantFromNow, json, NONE, table, wallClock } from './format.js';
import { parseId, parseName, parseStatuses, positiveInt } from './options.js';

/** What `--db` takes, in every alarm command's help. */
const DB_HELP = 'alarm database: a SQLite file or a postgres:// URL';

interface DbOptions {
  db: string;
  json?: boolean;
  tz?: string;
}

/** Adds the `alarms` command group to `program`. @internal */
export function registerAlarms(program: Command, ctx: Context): void {
  const alarms = program.command('alarms').description('inspect, set and cancel alarms in a database');

  alarms
    .command('list')
    .description('list alarms in id order, a page at a time')
    .requiredOption('--db <file>', DB_HELP)
    .option(
      '--status <list>',
      'only these statuses, comma-separated (pending,fired,failed,cancelled,missed)',
      parseStatuses,
    )
    .option('--target <name>', 'only alarms for this target', parseName)
    .option('--limit <n>', 'at most this many rows (default 100)', positiveInt(100_000))
    .option('--after <id>', 'only ids above this one (next page)', parseId)
    .option('--tz <zone>', 'show times in this IANA zone (default: the system zone)')
    .option('--json', 'print JSON: an array of alarms')
    .action(
      async (o: DbOptions & { status?: AlarmStatus[]; target?: string; limit?: number; after?: number }) => {
        const zone = ctx.zone(o.tz);
        const limit = o.limit ?? 100;
        const rows = await withStore(openForReading(location(ctx, o.db)), (store) =>
          store.list({ status: o.status, target: o.target, limit, afterId: o.after }),
        );
        if (o.json) return ctx.out(json(rows.map(toAlarm)));
        if (rows.length === 0) return ctx.out('no alarms match');
        ctx.out(
          table(
            ['ID', 'STATUS', `FIRES AT (${zone})`, 'TARGET', 'SERIES', 'ATTEMPTS', 'KEY', 'LAST ERROR'],
            rows.map((r) => [
              String(r.id),
              r.status,
              wallClock(r.fireAt, zone),
              cell(r.target, 40),
              seriesCell(r),
              `${r.attempts}/${r.maxAttempts}`,
              cell(r.key, 24),
              cell(r.lastError, 60),
            ]),
          ),
        );
        // A full page may hide more rows; say how to get the next one.
        if (rows.length === limit)
          ctx.out(`(showing ${limit}; next page: --after ${rows[rows.length - 1]!.id})`);
      },
    );

  alarms
    .command('get')
    .description('show one alarm')
    .argument('<id>', 'alarm id', parseId)
    .requiredOption('--db <file>', DB_HELP)
    .option('--tz <zone>', 'show times in this IANA zone (default: the system zone)')
    .option('--json', 'print the alarm as JSON')
    .action(async (id: number, o: DbOptions) => {
      const zone = ctx.zone(o.tz);
      const row = await withStore(openForReading(location(ctx, o.db)), (store) => store.get(id));
      if (!row) throw notFound(id);
      ctx.out(o.json ? json(toAlarm(row)) : describe(row, zone, ctx.now()));
    });

  alarms
    .command('history')
    .description("show an alarm's settled occurrences (a recurring alarm's series), oldest first")
    .argument('<id>', 'alarm id', parseId)
    .requiredOption('--db <file>', DB_HELP)
    .option('--limit <n>', 'at most this many occurrences (default 100)', positiveInt(100_000))
    .option('--after <seq>', 'only occurrences after this number (next page)', parseId)
    .option('--tz <zone>', 'show times in this IANA zone (default: the system zone)')
    .option('--json', 'print JSON: an array of occurrences')
    .action(async (id: number, o: DbOptions & { limit?: number; after?: number }) => {
      const zone = ctx.zone(o.tz);
      const limit = o.limit ?? 100;
      const found = await withStore(openForReading(location(ctx, o.db)), async (store) => {
        const row = await store.get(id);
        return row ? { row, history: await store.history(id, limit, o.after ?? 0) } : undefined;
      });
      if (!found) throw notFound(id);
      const { row, history } = found;
      if (o.json) return ctx.out(json(history.map(toOccurrence)));
      if (history.length === 0) {
        ctx.out(
          `alarm ${id} has no settled occurrence yet${row.status === 'pending' ? '' : ` (it is ${row.status})`}`,
        );
      } else {
        ctx.out(
          table(
            ['#', `SCHEDULED FOR (${zone})`, 'OUTCOME', 'ATTEMPTS', `SETTLED AT (${zone})`, 'ERROR'],
            history.map((h: OccurrenceRow) => [
              String(h.seq),
              wallClock(h.scheduledFor, zone),
              h.outcome,
              String(h.attempts),
              wallClock(h.settledAt, zone),
              cell(h.error, 60),
            ]),
          ),
        );
        if (history.length === limit)
          ctx.out(`(showing ${limit}; next page: --after ${history.at(-1)!.seq})`);
      }
      if (row.status === 'pending' && row.recurrence !== null) {
        ctx.out(`next: #${row.occurrence} ${instantFromNow(row.fireAt, zone, ctx.now())}`);
      }
    });

  alarms
    .command('cancel')
    .description('cancel a pending alarm (a recurring alarm: the whole series)')
    .argument('<id>', 'alarm id', parseId)
    .requiredOption('--db <file>', DB_HELP)
    .option('--tz <zone>', 'show times in this IANA zone (default: the system zone)')
    .option('--json', 'print the alarm as JSON')
    .action(async (id: number, o: DbOptions) => {
      const zone = ctx.zone(o.tz);
      const now = ctx.now();
      const { before, after } = await withStore(
        openForWriting(location(ctx, o.db), { create: false }),
        async (store) => {
          const before = await store.get(id);
          if (!before) throw notFound(id);
          // Cancelling twice is not an error: the outcome the user asked for holds.
          if (before.status === 'cancelled') return { before, after: before };
          // Due: a running runtime may be delivering it at this moment, and this process cannot
          // see that. Record the request; the runtime settles it (see the file header).
          const due = before.status === 'pending' && before.fireAt <= now;
          // The runtime may fire it between the get and the cancel; the store's answer decides.
          return { before, after: await store.cancel(id, now, due) };
        },
      );
      if (!after) throw notFound(id);
      const requested = after.status === 'pending' && after.cancelRequestedAt !== null;
      if (after.status !== 'cancelled' && !requested) {
        throw new CliError(
          'NOT_PENDING',
          `alarm ${id} is ${after.status}; only a pending alarm can be cancelled`,
        );
      }
      if (o.json) return ctx.out(json(toAlarm(after)));
      if (requested) {
        ctx.out(
          `cancel requested for alarm ${id}: it is due, so a running process may be delivering it now; ` +
            'that delivery is not recalled and its outcome will be recorded, and nothing is delivered after it',
        );
      } else if (before.status === 'cancelled') ctx.out(`alarm ${id} was already cancelled`);
      else ctx.out(`cancelled alarm ${id}${after.recurrence === null ? '' : ' (the whole series)'}`);
      ctx.out(describe(after, zone, now));
    });

  alarms
    .command('stats')
    .description('count alarms by status and show the next one due')
    .requiredOption('--db <file>', DB_HELP)
    .option('--tz <zone>', 'show times in this IANA zone (default: the system zone)')
    .option(
      '--json',
      'print JSON: { byStatus, occurrences, total, nextFireAt } (PostgreSQL adds unrouted, clockSkewMs)',
    )
    .action(async (o: DbOptions) => {
      const zone = ctx.zone(o.tz);
      const stats = await withStore(openForReading(location(ctx, o.db)), (store) => store.stats());
      if (o.json) return ctx.out(json(stats));
      const { delivered, missed, failed } = stats.occurrences;
      ctx.out(
        fields([
          ...Object.entries(stats.byStatus).map(([status, n]) => [status, String(n)] as const),
          ['total', String(stats.total)],
          ['occurrences', `${delivered} delivered, ${missed} missed, ${failed} failed`],
          ['next due', stats.nextFireAt === null ? NONE : instantFromNow(stats.nextFireAt, zone, ctx.now())],
          // Only a store shared by several nodes counts them (PostgreSQL): due alarms that wait
          // for a live node declaring their target.
          ...(stats.unrouted === undefined
            ? []
            : ([
                ['unrouted', `${stats.unrouted} due, waiting for a node that declares the target`],
              ] as const)),
        ]),
      );
    });

  alarms
    .command('set')
    .description('store a new alarm (a running runtime picks it up and fires it when due)')
    .argument('<when>', "'tomorrow at 9am', 'in 5 minutes', '2026-12-01T09:00', ...")
    .requiredOption('--target <name>', 'registered name of the actor that receives the message', parseName)
    .requiredOption('--message <json>', 'the message, a JSON object')
    .requiredOption('--db <file>', `${DB_HELP}; created if absent`)
    .option('--tz <zone>', 'IANA zone WHEN and --cron are read in (default: the system zone)')
    .option('--key <key>', 'idempotency key: setting the same key again returns the first alarm')
    .addOption(new Option('--every <duration>', "repeat at this interval ('1 day', '90m')").conflicts('cron'))
    .addOption(new Option('--cron <pattern>', "repeat on this cron pattern, read in --tz ('0 9 * * 1-5')"))
    .option(
      '--max-attempts <n>',
      'delivery attempts before the alarm is failed (default 10)',
      positiveInt(1_000_000),
    )
    .option('--json', 'print JSON: { created, alarm }')
    .action(
      async (
        when: string,
        o: DbOptions & {
          target: string;
          message: string;
          key?: string;
          every?: string;
          cron?: string;
          maxAttempts?: number;
        },
      ) => {
        const zone = ctx.zone(o.tz);
        const now = ctx.now();
        const where = location(ctx, o.db);
        let message: unknown;
        try {
          message = JSON.parse(o.message);
        } catch (err) {
          throw new InvalidPayloadError('$', `--message is not valid JSON (${(err as Error).message})`);
        }
        const recurrence: Recurrence | undefined =
          o.every !== undefined
            ? { every: o.every }
            : o.cron !== undefined
              ? { cron: o.cron, zone }
              : undefined;
        const input: AlarmInput = {
          when,
          target: o.target,
          message: message as Record<string, unknown>,
          options: {
            ...(o.key !== undefined && { key: o.key }),
            ...(recurrence && { recurrence }),
            ...(o.maxAttempts !== undefined && { maxAttempts: o.maxAttempts }),
          },
        };
        // Validate everything before the database is opened (or created): bad input changes nothing.
        const newAlarm = prepareAlarm(input, now, zone, anyTarget, SET_DEFAULTS);
        const [result] = await withStore(openForWriting(where, { create: true }), (store) =>
          store.insert([newAlarm]),
        );
        const { row, created } = result!;
        if (o.json) return ctx.out(json({ created, alarm: toAlarm(row) }));
        ctx.out(
          created
            ? `set alarm ${row.id}`
            : `an alarm with key ${JSON.stringify(row.key)} already exists; it is unchanged`,
        );
        ctx.out(describe(row, zone, now));
      },
    );
}

/**
 * The CLI has no runtime and cannot know what a running one declares, so it accepts every name
 * (whose form `parseName` has already checked); the Alarm actor fails an alarm for an undeclared
 * target when it comes due.
 */
const anyTarget = () => true;

/**
 * The Alarm actor's defaults (message size limit, attempts), used for the rules `prepareAlarm`
 * applies. Its store opener is never called: the CLI opens its own.
 */
const SET_DEFAULTS = resolveOptions({ db: 'unused' }, () => {
  throw new Error('not used by the CLI');
});

function notFound(id: number): CliError {
  return new CliError('NOT_FOUND', `no alarm with id ${id}`);
}

/** The list's SERIES cell: '-' for a one-shot alarm, else the occurrence number and the rule. */
function seriesCell(row: AlarmRow): string {
  if (row.recurrence === null) return NONE;
  return `#${row.occurrence} ${recurrenceText(row.recurrence, toAlarm(row).recurrence)}`;
}

/** The detail view of one alarm, as `get`, `cancel` and `set` print it. */
function describe(row: AlarmRow, zone: string, now: number): string {
  const alarm: Alarm = toAlarm(row);
  const at = (t: number | null) => (t === null ? NONE : instant(t, zone));
  const entries: [string, string][] = [
    ['id', String(row.id)],
    ['status', row.status],
    ['target', cell(row.target)],
    [
      'fires at',
      row.status === 'pending' ? instantFromNow(row.fireAt, zone, now) : instant(row.fireAt, zone),
    ],
  ];
  if (row.scheduledFor !== row.fireAt) entries.push(['scheduled for', at(row.scheduledFor)]);
  entries.push(
    [
      'message',
      alarm.message === null ? `${cell(row.message, 200)} (cannot be decoded)` : cell(row.message, 200),
    ],
    ['recurrence', recurrenceText(row.recurrence, alarm.recurrence)],
  );
  if (row.recurrence !== null) {
    // A series: which occurrence `fires at` is about, and what became of the ones before it.
    entries.push(
      ['occurrence', `#${row.occurrence}${row.status === 'pending' ? ' (next)' : ' (last)'}`],
      [
        'occurrences',
        `${row.deliveredCount} delivered, ${row.missedCount} missed, ${row.failedCount} failed` +
          ` (vigil alarms history ${row.id})`,
      ],
    );
  }
  entries.push(
    ['key', cell(row.key)],
    ['attempts', `${row.attempts} of ${row.maxAttempts}`],
    ['last error', cell(row.lastError)],
    ['created at', at(row.createdAt)],
    ['fired at', at(row.firedAt)],
  );
  if (row.cancelRequestedAt !== null && row.status !== 'cancelled') {
    entries.push([
      'cancel asked',
      `${at(row.cancelRequestedAt)}${row.status === 'pending' ? ', while a delivery may be in flight' : ', too late: the delivery was in flight'}`,
    ]);
  }
  return fields(entries);
}

function recurrenceText(raw: string | null, r: Recurrence | null): string {
  if (raw === null) return NONE;
  if (r === null) return `${cell(raw, 100)} (invalid)`;
  if ('every' in r) return `every ${cell(String(r.every))}`;
  return `cron ${cell(r.cron)}${r.zone ? ` in ${r.zone}` : ''}`;
}
