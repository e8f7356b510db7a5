/**
 * The workflow tools: workflow_start, workflow_signal, workflow_get, workflow_list. Only workflows
 * given to the server (`createMcpServer({ workflows })`) exist, and a user may start only those
 * their policy names. Runs live in the user's database, so another user's run id is `NOT_FOUND`.
 */
import { RUN_STATUSES, type WorkflowRun } from '@vigil/workflow';
import { z } from 'zod';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { defineTool, type ToolContext } from './tool.js';

const text = (max: number) => z.string().min(1).max(max);
const json = z.record(z.string(), z.unknown());

const runView = z.object({
  runId: z.string(),
  workflow: z.string(),
  status: z.string(),
  step: z.string(),
  nextAt: z.string().nullable(),
  waitingFor: z.unknown().nullable(),
  context: json,
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function viewRun(run: WorkflowRun) {
  return {
    runId: run.id,
    workflow: run.workflow,
    status: run.status,
    step: run.step,
    nextAt: iso(run.nextAt),
    waitingFor: run.waiting ?? null,
    context: run.context,
    result: run.result ?? null,
    error: run.error,
    createdAt: new Date(run.createdAt).toISOString(),
    updatedAt: new Date(run.updatedAt).toISOString(),
  };
}

/** Unknown runs of the Scheduler become NOT_FOUND, as for alarms. */
async function notFoundOnUnknown<T>(runId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if ((err as { code?: unknown }).code === 'UNKNOWN_RUN') throw new NotFoundError('run', runId);
    throw err;
  }
}

function mayStart(ctx: ToolContext, workflow: string): void {
  const allowed = ctx.user.principal.policy.workflows;
  if (!allowed.includes('*') && !allowed.includes(workflow))
    throw new ForbiddenError(`workflow '${workflow}' is not allowed for this user`);
}

export const workflowStart = defineTool({
  name: 'workflow_start',
  title: 'Start a workflow',
  description: [
    'Starts a durable workflow run (steps chained by alarms; it survives restarts) with `input` as its',
    'context. Giving `runId` makes the call idempotent: the same id returns the existing run. Example:',
    '{"workflow": "followUp", "input": {"contact": "ada@example.com"}}. Errors: FORBIDDEN (workflow not',
    'allowed for you), UNKNOWN_WORKFLOW (not configured on this server), RUN_EXISTS, INVALID_CONTEXT,',
    'INVALID_INPUT.',
  ].join(' '),
  input: z.strictObject({ workflow: text(200), input: json.default({}), runId: text(200).optional() }),
  output: z.object({ run: runView }),
  mutates: true,
  run: async (ctx, args) => {
    mayStart(ctx, args.workflow);
    const run = await ctx.user.workflows.start(
      args.workflow,
      args.input,
      args.runId ? { runId: args.runId } : {},
    );
    return { structured: { run: viewRun(run) }, text: `Run ${run.id} of ${run.workflow} is ${run.status}.` };
  },
});

export const workflowSignal = defineTool({
  name: 'workflow_signal',
  title: 'Signal a workflow run',
  description: [
    'Sends a named signal with a JSON payload to one of your runs that waits for it. Example: {"runId":',
    '"r1", "name": "reply", "payload": {"text": "yes"}}. Errors: NOT_FOUND (no run of yours), RUN_ENDED,',
    'SIGNAL_NOT_AWAITED (the run does not wait for this signal now), INVALID_SIGNAL, INVALID_INPUT.',
  ].join(' '),
  input: z.strictObject({ runId: text(200), name: text(200), payload: json.default({}) }),
  output: z.object({ run: runView }),
  mutates: true,
  run: async (ctx, args) => {
    const run = await notFoundOnUnknown(args.runId, () =>
      ctx.user.workflows.signal(args.runId, args.name, args.payload),
    );
    return { structured: { run: viewRun(run) }, text: `Run ${run.id} is ${run.status} at step ${run.step}.` };
  },
});

export const workflowGet = defineTool({
  name: 'workflow_get',
  title: 'Get a workflow run',
  description: 'One of your workflow runs by id. Example: {"runId": "r1"}. Errors: NOT_FOUND, INVALID_INPUT.',
  input: z.strictObject({ runId: text(200) }),
  output: z.object({ run: runView }),
  mutates: false,
  run: async (ctx, args) => {
    const run = await notFoundOnUnknown(args.runId, () => ctx.user.workflows.get(args.runId));
    if (!run) throw new NotFoundError('run', args.runId);
    return {
      structured: { run: viewRun(run) },
      text: `Run ${run.id} of ${run.workflow} is ${run.status} at step ${run.step}.`,
    };
  },
});

export const workflowList = defineTool({
  name: 'workflow_list',
  title: 'List workflow runs',
  description:
    'Your workflow runs, by status and workflow name (at most 100). Example: {"status": "waiting"}. Errors: INVALID_INPUT.',
  input: z.strictObject({
    status: z.enum(RUN_STATUSES as unknown as [string, ...string[]]).optional(),
    workflow: text(200).optional(),
  }),
  output: z.object({ runs: z.array(runView) }),
  mutates: false,
  run: async (ctx, args) => {
    const runs = await ctx.user.workflows.list({
      ...(args.status ? { status: args.status as (typeof RUN_STATUSES)[number] } : {}),
      ...(args.workflow ? { workflow: args.workflow } : {}),
      limit: 100,
    });
    return {
      structured: { runs: runs.map(viewRun) },
      text: runs.length === 0 ? 'No runs.' : runs.map((r) => `${r.id} ${r.workflow} ${r.status}`).join('\n'),
    };
  },
});
