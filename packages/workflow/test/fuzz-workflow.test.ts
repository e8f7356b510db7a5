/**
 * Fuzzed bad input against the Scheduler: `WorkflowClient.start` and `signal`, and raw
 * `runtime.call('Scheduler', ...)` with untyped requests. Every rejection is a `VigilError` with
 * a code from the allowed list and leaves the run and alarm tables as they were; the Scheduler
 * keeps answering; no prototype is polluted.
 */
import { ManualClock, VigilError } from '@vigil/runtime';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorkflow, end, waitFor } from '../src/workflow.js';
import { type Booted, boot, quiesce, T0, tempDb } from './scheduler-helpers.js';

const CODES = new Set([
  'INVALID_CONTEXT',
  'INVALID_OPTION',
  'INVALID_REQUEST',
  'INVALID_SIGNAL',
  'INVALID_WORKFLOW',
  'INVALID_MESSAGE',
  'INVALID_TIME',
  'TIME_IN_PAST',
  'INVALID_ZONE',
  'INVALID_PAYLOAD',
  'PAYLOAD_TOO_LARGE',
  'RUN_ENDED',
  'RUN_EXISTS',
  'SIGNAL_NOT_AWAITED',
  'UNKNOWN_REQUEST',
  'UNKNOWN_RUN',
  'UNKNOWN_WORKFLOW',
]);

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;
let deep: Record<string, unknown> = { leaf: true };
for (let i = 0; i < 10_000; i++) deep = { d: deep };
// fast-check prints counterexamples recursively: give the deep one a short name.
Object.defineProperty(deep, fc.toStringMethod, { value: () => '<10000-deep object>', enumerable: false });
const tenMegabytes = 'x'.repeat(10 * 1024 * 1024);

const special = fc.constantFrom<unknown>(
  undefined,
  null,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  2 ** 53,
  new Date(Number.NaN),
  10n,
  Symbol('s'),
  () => 1,
  [],
  {},
  cyclic,
  deep,
  tenMegabytes,
  JSON.parse('{"__proto__": {"polluted": true}}'),
  { constructor: { prototype: { polluted: true } } },
  Object.create(null),
  new Map(),
  "'; DROP TABLE workflow_runs; --",
  'a\u0000b',
  '__proto__',
  'constructor',
  'wait',
  'reply',
  'run-1',
  '',
  'in 5 minutes',
  { in: -1 },
);
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: special },
  { weight: 2, arbitrary: fc.string() },
  {
    weight: 2,
    arbitrary: fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
    }),
  },
);
const hostileRecord = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      '__proto__',
      'constructor',
      'type',
      'workflow',
      'context',
      'runId',
      'at',
      'name',
      'payload',
      'filter',
    ),
    fc.string(),
  ),
  hostile,
  { maxKeys: 5 },
);

const waiter = defineWorkflow({
  name: 'wait',
  start: 'wait',
  steps: { wait: () => waitFor('reply', { onSignal: 'done' }), done: () => end() },
});

let db: ReturnType<typeof tempDb>;
let b: Booted;
let reader: Database.Database;
let cases = 0;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  db = tempDb();
  b = await boot(db.db, new ManualClock(T0), [waiter]);
  await b.workflows.start(waiter, {}, { runId: 'run-1' });
  await quiesce();
  reader = new Database(db.db, { readonly: true });
});

afterAll(async () => {
  reader.close();
  await b.runtime.stop();
  db.cleanup();
  console.log(`fuzz-workflow: ${cases} hostile cases run`);
});

function snapshot(): string {
  const runs = reader.prepare('SELECT id, status, seq FROM workflow_runs ORDER BY id').all();
  const alarms = reader.prepare('SELECT count(*) AS n, max(id) AS top FROM alarms').get();
  return JSON.stringify([runs, alarms]);
}

async function settleWithin(p: Promise<unknown>): Promise<{ ok: boolean; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer within 1 s')), 1000);
  });
  try {
    await Promise.race([p, hang]);
    return { ok: true };
  } catch (error) {
    if (error instanceof Error && error.message === 'no answer within 1 s') throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

function expectTyped(error: unknown, what: string): void {
  if (!(error instanceof VigilError) || !CODES.has(error.code)) {
    throw new Error(
      `${what}: untyped or unexpected rejection ${String((error as { code?: unknown })?.code)}: ${String(error)}`,
    );
  }
}

async function expectHealthy(): Promise<void> {
  expect(b.runtime.state).toBe('running');
  expect(await b.workflows.get('run-1')).toMatchObject({ status: expect.any(String) });
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
}

describe('fuzz: workflow start and signal', () => {
  it('start: a new run, or a typed rejection that changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostile, fc.constant('wait')),
        fc.oneof(hostile, hostileRecord),
        fc.oneof(
          fc.constant(undefined),
          hostile,
          fc.record({ runId: hostile, at: hostile }, { requiredKeys: [] }),
        ),
        async (workflow, context, options) => {
          cases++;
          await quiesce(); // let runs started by earlier cases take their first step
          const before = snapshot();
          const r = await settleWithin(
            b.workflows.start(workflow as string, context as never, options as never),
          );
          if (!r.ok) {
            expectTyped(r.error, 'start');
            expect(snapshot()).toEqual(before);
          }
        },
      ),
      { numRuns: 800 },
    );
    await expectHealthy();
  });

  it('start(undefined), start(null) and null options reject with a typed error', async () => {
    for (const [workflow, options] of [
      [undefined, undefined],
      [null, undefined],
      ['wait', null],
    ] as const) {
      let p: Promise<unknown> | undefined;
      try {
        p = b.workflows.start(workflow as unknown as string, {}, options as never);
      } catch (err) {
        throw new Error(`start threw synchronously: ${String(err)}`);
      }
      const r = await settleWithin(p);
      if (!r.ok) expectTyped(r.error, 'start');
    }
  });

  it('signal: resumes a waiting run, or a typed rejection that changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostile, fc.constant('run-1')),
        fc.oneof(hostile, fc.constant('other')),
        fc.oneof(fc.constant(undefined), hostile, hostileRecord),
        async (runId, name, payload) => {
          cases++;
          await quiesce(); // let runs started by earlier cases take their first step
          const before = snapshot();
          const r = await settleWithin(b.workflows.signal(runId as string, name as string, payload as never));
          if (!r.ok) {
            expectTyped(r.error, 'signal');
            expect(snapshot()).toEqual(before);
          }
        },
      ),
      { numRuns: 800 },
    );
    await expectHealthy();
  });

  it("raw runtime.call('Scheduler', ...) with untyped requests", async () => {
    const types = fc.constantFrom(
      'workflow.start',
      'workflow.get',
      'workflow.list',
      'workflow.cancel',
      'workflow.signal',
      'workflow.explode',
      '__proto__',
    );
    await fc.assert(
      fc.asyncProperty(fc.tuple(types, hostileRecord), async ([type, rest]) => {
        cases++;
        await quiesce();
        const before = snapshot();
        const r = await settleWithin(b.runtime.call('Scheduler', { ...rest, type }, { timeoutMs: 60_000 }));
        if (!r.ok) {
          expectTyped(r.error, `call ${type}`);
          expect(snapshot()).toEqual(before);
        }
      }),
      { numRuns: 800 },
    );
    await expectHealthy();
  });
});
