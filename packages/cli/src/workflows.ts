/**
 * `vigil workflows list | show`: workflow runs of the Scheduler, read from the same database as
 * the alarms, a SQLite file or PostgreSQL (see `workflow-db.ts`).
 */

import type { RunRecord } from '@vigil/workflow';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Context } from './context.js';
import { location } from './db.js';
import { CliError } from './errors.js';
import { cell, fields, instant, instantFromNow, json, NONE, table, wallClock } from './format.js';
import { parseName, positiveInt } from './options.js';
import { WorkflowReader } from './workflow-db.js';

const RUN_STATUSES = ['running', 'waiting', 'completed', 'failed', 'cancelled'];

/** Adds the `workflows` command group to `program`. @internal */
export function registerWorkflows(program: Command, ctx: Context): void {
  const workflows = program.command('workflows').description('inspect workflow runs in a database');

  workflows
    .command('list')
    .description('list workflow runs in id order, a page at a time')
    .requiredOption(
      '--db <file>',
      'database shared by the alarms and the Scheduler: a SQLite file or a postgres:// URL',
    )
    .option(
      '--status <list>',
      `only these statuses, comma-separated (${RUN_STATUSES.join(',')})`,
      parseRunStatuses,
    )
    .option('--workflow <name>', 'only runs of this workflow', parseName)
    .option('--limit <n>', 'at most this many rows (default 100)', positiveInt(1000))
    .option('--after <id>', 'only run ids sorting after this one (next page)')
    .option('--tz <zone>', 'show times in this IANA zone (default: the system zone)')
    .option('--json', 'print JSON: an array of runs')
    .action(
      async (o: {
        db: string;
        status?: string[];
        workflow?: string;
        limit?: number;
        after?: string;
        tz?: string;
        json?: boolean;
      }) => {
        const zone = ctx.zone(o.tz);
        const limit = o.limit ?? 100;
        const runs = await read(location(ctx, o.db), (r) =>
          r.list({ status: o.status, workflow: o.workflow, afterId: o.after, limit }),
        );
        if (o.json) return ctx.out(json(runs));
        if (runs.length === 0) return ctx.out('no workflow runs match');
        ctx.out(
          table(
            [
              'ID',
              'WORKFLOW',
              'VERSION',
              'STATUS',
              'STEP',
              `NEXT AT (${zone})`,
              `UPDATED (${zone})`,
              'ERROR',
            ],
            runs.map((r) => [
              cell(r.id, 40),
              cell(r.workflow, 30),
              String(r.version ?? 1),
              r.status,
              cell(r.step, 30),
              r.nextAt === null ? NONE : wallClock(r.nextAt, zone),
              wallClock(r.updatedAt, zone),
              cell(r.error, 60),
            ]),
          ),
        );
        if (runs.length === limit)
          ctx.out(`(showing ${limit}; next page: --after ${JSON.stringify(runs[runs.length - 1]!.id)})`);
      },
    );

  workflows
    .command('show')
    .description('show one workflow run and its history')
    .argument('<id>', 'run id')
    .requiredOption(
      '--db <file>',
      'database shared by the alarms and the Scheduler: a SQLite file or a postgres:// URL',
    )
    .option('--tz <zone>', 'show times in this IANA zone (default: the system zone)')
    .option('--json', 'print JSON: { run, history }')
    .action(async (id: string, o: { db: string; tz?: string; json?: boolean }) => {
      const zone = ctx.zone(o.tz);
      const { run, history } = await read(location(ctx, o.db), async (r) => ({
        run: await r.get(id),
        history: await r.history(id),
      }));
      if (!run) throw new CliError('NOT_FOUND', `no workflow run with id ${JSON.stringify(id)}`);
      if (o.json) return ctx.out(json({ run, history }));
      const now = ctx.now();
      ctx.out(describeRun(run, zone, now));
      ctx.out('');
      if (history.length === 0) return ctx.out('no history yet');
      ctx.out(
        table(
          ['SEQ', 'STEP', 'ATTEMPT', `STARTED (${zone})`, 'TOOK', 'OUTCOME', 'DETAIL'],
          history.map((h) => [
            String(h.seq),
            cell(h.step, 30),
            String(h.attempt),
            wallClock(h.startedAt, zone),
            `${Math.max(0, h.endedAt - h.startedAt)}ms`,
            cell(h.outcome),
            cell(h.detail, 60),
          ]),
        ),
      );
    });
}

async function read<T>(where: string, fn: (reader: WorkflowReader) => Promise<T>): Promise<T> {
  const reader = await WorkflowReader.open(where);
  try {
    return await fn(reader);
  } finally {
    await reader.close();
  }
}

function describeRun(run: RunRecord, zone: string, now: number): string {
  const at = (t: number | null) => (t === null ? NONE : instant(t, zone));
  return fields([
    ['id', cell(run.id)],
    ['workflow', cell(run.workflow)],
    ['version', String(run.version ?? 1)],
    ['kind', run.kind],
    ['status', run.status],
    ['step', `${cell(run.step)} (seq ${run.seq}, attempt ${run.attempt})`],
    ['next at', run.nextAt === null ? NONE : instantFromNow(run.nextAt, zone, now)],
    ['alarm', run.alarmId === null ? NONE : String(run.alarmId)],
    ['waiting for', run.waiting === null ? NONE : cell(JSON.stringify(run.waiting), 200)],
    ['context', cell(JSON.stringify(run.context), 200)],
    ['result', run.result === null ? NONE : cell(JSON.stringify(run.result), 200)],
    ['error', cell(run.error)],
    ['created at', at(run.createdAt)],
    ['updated at', at(run.updatedAt)],
    ['ended at', at(run.endedAt)],
  ]);
}

function parseRunStatuses(value: string): string[] {
  const statuses = value.split(',').map((s) => s.trim());
  for (const s of statuses) {
    if (!RUN_STATUSES.includes(s))
      throw new InvalidArgumentError(`expected statuses among ${RUN_STATUSES.join(', ')}.`);
  }
  return [...new Set(statuses)];
}
