/**
 * Schemas at the Scheduler's edges, from untyped callers: `defineWorkflow` (INVALID_WORKFLOW),
 * `schedulerWorker` options (INVALID_OPTION), and the `workflow.start` and `workflow.list`
 * requests (INVALID_REQUEST naming the field). A refused request stores nothing and sets no alarm;
 * a list filter is checked before it reaches the store's SQL.
 */
import { ManualClock } from '@vigil/runtime';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineMachineWorkflow } from '../src/durable-machine.js';
import { schedulerWorker } from '../src/scheduler.js';
import { defineWorkflow, end } from '../src/workflow.js';
import { type Booted, boot, quiesce, T0, tempDb } from './scheduler-helpers.js';

const once = defineWorkflow({ name: 'once', start: 'a', steps: { a: () => end() } });

describe('defineWorkflow refuses wrong types', () => {
  const ok = { name: 'w', start: 'a', steps: { a: () => end() } };
  it.each([
    ['definition', null],
    ['name', { ...ok, name: 7 }],
    ['name', { ...ok, name: 'x'.repeat(201) }],
    ['steps', { ...ok, steps: 'a' }],
    ['steps', { ...ok, steps: {} }],
    ['steps.a', { ...ok, steps: { a: 'not a function' } }],
    ['start', { ...ok, start: 1 }],
    ['start', { ...ok, start: 'b' }],
    ['retry', { ...ok, retry: 3 }],
    ['retry.maxAttempts', { ...ok, retry: { maxAttempts: 0 } }],
    ['retry.maxAttempts', { ...ok, retry: { maxAttempts: '3' } }],
    ['retry.backoff', { ...ok, retry: { backoff: { minMs: 10, maxMs: 5, factor: 2 } } }],
    ['retry.backoff.factor', { ...ok, retry: { backoff: { minMs: 1, maxMs: 5, factor: 0.5 } } }],
  ])('%s: %o', (field, definition) => {
    expect(() => defineWorkflow(definition as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_WORKFLOW', message: expect.stringContaining(`: ${field} `) }),
    );
  });

  it('fills the retry defaults', () => {
    expect(defineWorkflow(ok as never).retry).toEqual({
      maxAttempts: 3,
      backoff: { minMs: 1000, maxMs: 3_600_000, factor: 2 },
    });
  });
});

describe('defineMachineWorkflow refuses wrong types', () => {
  it.each([
    ['a machine workflow needs a name', { name: 3, machine: {} }],
    ['a machine workflow needs a name', { name: '', machine: {} }],
    ['machine must be an XState v5 machine', { name: 'm', machine: { root: {} } }],
    ['definition must be an object', null],
  ])('%s: %o', (message, definition) => {
    expect(() => defineMachineWorkflow(definition as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_WORKFLOW', message: expect.stringContaining(message) }),
    );
  });
});

describe('schedulerWorker refuses wrong types', () => {
  it.each([
    ['options', undefined],
    ['db', { workflows: [] }],
    ['db', { db: '', workflows: [] }],
    ['db', { db: '', store: undefined, workflows: [] }],
    ['store', { store: 'runs.db', workflows: [] }],
    ['store', { db: 'x.db', store: {}, workflows: [] }],
    ['workflows', { db: 'x.db', workflows: once }],
    ['workflows.0', { db: 'x.db', workflows: [{ name: 'fake' }] }],
    ['name', { db: 'x.db', workflows: [], name: 5 }],
    ['alarmName', { db: 'x.db', workflows: [], alarmName: '' }],
    ['alarmMaxAttempts', { db: 'x.db', workflows: [], alarmMaxAttempts: 1.5 }],
    ['workflows', { db: 'x.db', workflows: [once, once] }],
  ])('%s: %o', (field, options) => {
    expect(() => schedulerWorker(options as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', field }),
    );
  });
});

describe('requests from untyped callers', () => {
  let db: ReturnType<typeof tempDb>;
  let b: Booted;
  let reader: Database.Database;

  beforeAll(async () => {
    db = tempDb();
    b = await boot(db.db, new ManualClock(T0), [once]);
    await b.workflows.start(once, {}, { runId: 'run-1' });
    await quiesce(); // the run takes its one step: the tables are still from here on
    reader = new Database(db.db, { readonly: true });
  });
  afterAll(async () => {
    reader.close();
    await b.runtime.stop();
    db.cleanup();
  });

  const tables = () =>
    JSON.stringify([
      reader.prepare('SELECT id, status, seq FROM workflow_runs ORDER BY id').all(),
      reader.prepare('SELECT count(*) AS n FROM alarms').get(),
    ]);

  it.each([
    ['workflow', { workflow: 42 }],
    ['workflow', { workflow: '' }],
    ['runId', { workflow: 'once', runId: 7 }],
    ['runId', { workflow: 'once', runId: 'r'.repeat(201) }],
  ])('workflow.start with a bad %s is refused and stores nothing', async (field, request) => {
    const before = tables();
    await expect(b.runtime.call('Scheduler', { type: 'workflow.start', ...request })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      field,
    });
    expect(tables()).toBe(before);
  });

  it.each([
    ['filter', 'running'],
    ['workflow', { workflow: 3 }],
    ['status', { status: 'sleeping' }],
    ['status', { status: ['running', 'asleep'] }],
    ['afterId', { afterId: {} }],
    ['limit', { limit: '10' }],
    ['limit', { limit: Number.NaN }],
  ])('workflow.list with a bad %s is refused', async (field, filter) => {
    await expect(b.runtime.call('Scheduler', { type: 'workflow.list', filter })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      field,
    });
  });

  it('workflow.list with a good filter, or none, answers', async () => {
    expect(await b.workflows.list({ workflow: 'once', status: ['running', 'waiting', 'completed'] })).toEqual(
      [expect.objectContaining({ id: 'run-1' })],
    );
    expect(await b.runtime.call('Scheduler', { type: 'workflow.list' })).toHaveLength(1);
  });
});
