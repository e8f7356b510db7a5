/**
 * The outcome reducer as a table: each row is a step's outcome (or thrown error) and the run
 * state and history line it must produce. `decide` is pure: no runtime, no database, no clock.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '../src/decide.js';
import type { RunRecord } from '../src/store/types.js';
import { defineWorkflow, end, fail, next, repeat, waitFor } from '../src/workflow.js';

const NOW = Date.UTC(2026, 0, 5, 10, 0, 0); // a Monday, 10:00 UTC
const STARTED = NOW - 250;
const MIN = 60_000;

const workflow = defineWorkflow({
  name: 'wf',
  start: 'a',
  steps: { a: () => end(), b: () => end(), c: () => end() },
  retry: { maxAttempts: 3, backoff: { minMs: 1000, maxMs: 60_000, factor: 2 } },
});

function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'r1',
    workflow: 'wf',
    kind: 'steps',
    status: 'running',
    step: 'a',
    seq: 4,
    attempt: 1,
    nextAt: STARTED,
    alarmId: 17,
    context: { n: 1 },
    input: { type: 'go' },
    waiting: null,
    snapshot: null,
    timers: null,
    result: null,
    error: null,
    createdAt: 0,
    updatedAt: 0,
    endedAt: null,
    ...overrides,
  };
}

interface Row {
  name: string;
  outcome?: unknown;
  thrown?: Error;
  attempt?: number;
  expect: Partial<RunRecord>;
  line: { outcome: string; detail: string | null } | null;
}

const table: Row[] = [
  {
    name: 'next, at once',
    outcome: next('b'),
    expect: { status: 'running', step: 'b', seq: 5, attempt: 1, nextAt: NOW, alarmId: null, input: null },
    line: { outcome: 'next', detail: 'b' },
  },
  {
    name: 'next after a duration, with a new context',
    outcome: next('c', { after: '5 minutes', context: { n: 2 } }),
    expect: { step: 'c', seq: 5, nextAt: NOW + 5 * MIN, context: { n: 2 } },
    line: { outcome: 'next', detail: 'c' },
  },
  {
    name: 'next at an instant already past runs now',
    outcome: next('b', { at: '2026-01-05T09:00:00Z' }),
    expect: { step: 'b', nextAt: NOW },
    line: { outcome: 'next', detail: 'b' },
  },
  {
    name: 'next at a future instant',
    outcome: next('b', { at: '2026-01-05T11:30:00Z' }),
    expect: { step: 'b', nextAt: NOW + 90 * MIN },
    line: { outcome: 'next', detail: 'b' },
  },
  {
    name: 'repeat keeps the step',
    outcome: repeat({ after: '1 hour' }),
    expect: { step: 'a', seq: 5, nextAt: NOW + 60 * MIN },
    line: { outcome: 'repeat', detail: 'a' },
  },
  {
    name: 'wait with a timeout',
    outcome: waitFor('reply', { onSignal: 'b', timeout: '2 hours', onTimeout: 'c' }),
    expect: {
      status: 'waiting',
      step: 'c',
      seq: 5,
      nextAt: NOW + 120 * MIN,
      waiting: { signal: 'reply', onSignal: 'b', deadline: NOW + 120 * MIN, onTimeout: 'c' },
    },
    line: { outcome: 'wait', detail: 'reply' },
  },
  {
    name: 'wait forever',
    outcome: waitFor('reply', { onSignal: 'b' }),
    expect: {
      status: 'waiting',
      step: 'b',
      nextAt: null,
      waiting: { signal: 'reply', onSignal: 'b', deadline: null, onTimeout: null },
    },
    line: { outcome: 'wait', detail: 'reply' },
  },
  {
    name: 'end with a result keeps the seq',
    outcome: end({ result: { ok: true } }),
    expect: { status: 'completed', seq: 4, result: { ok: true }, nextAt: null, endedAt: NOW },
    line: { outcome: 'end', detail: '{"ok":true}' },
  },
  {
    name: 'end without a result',
    outcome: end(),
    expect: { status: 'completed', result: null },
    line: { outcome: 'end', detail: null },
  },
  {
    name: 'fail',
    outcome: fail('no contact'),
    expect: { status: 'failed', error: 'no contact', seq: 4, nextAt: null, endedAt: NOW },
    line: { outcome: 'fail', detail: 'no contact' },
  },
  {
    name: 'a throw before the last attempt retries with backoff',
    thrown: new Error('flaky'),
    attempt: 2,
    expect: { status: 'running', step: 'a', seq: 5, attempt: 3, nextAt: NOW + 2000, alarmId: null },
    line: { outcome: 'retry', detail: 'flaky' },
  },
  {
    name: 'a throw at the last attempt fails the run',
    thrown: new Error('flaky'),
    attempt: 3,
    expect: { status: 'failed', error: "step 'a' failed after 3 attempt(s): flaky", endedAt: NOW },
    line: { outcome: 'error', detail: "step 'a' failed after 3 attempt(s): flaky" },
  },
  {
    name: 'no outcome fails the run',
    outcome: undefined,
    expect: {
      status: 'failed',
      error: "step 'a' returned no outcome (use next, repeat, waitFor, end or fail)",
    },
    line: {
      outcome: 'fail',
      detail: "step 'a' returned no outcome (use next, repeat, waitFor, end or fail)",
    },
  },
  {
    name: 'next to a step that does not exist fails the run',
    outcome: next('zzz'),
    expect: { status: 'failed', error: "step 'a' returned next('zzz'), which is not a step" },
    line: { outcome: 'fail', detail: "step 'a' returned next('zzz'), which is not a step" },
  },
  {
    name: 'a context that is not JSON fails the run, with one line only',
    outcome: next('b', { context: { when: new Date(0) } }),
    expect: { status: 'failed', seq: 4 },
    line: { outcome: 'fail', detail: expect.stringContaining("step 'a' returned an invalid outcome") },
  },
  {
    name: 'a result that is not JSON fails the run, the end line is dropped',
    outcome: end({ result: { n: Number.NaN } }),
    expect: { status: 'failed', seq: 4, result: null },
    line: { outcome: 'fail', detail: expect.stringContaining("step 'a' returned an invalid outcome") },
  },
  {
    name: 'a bad duration fails the run',
    outcome: next('b', { after: 'soonish' }),
    expect: { status: 'failed' },
    line: { outcome: 'fail', detail: expect.stringContaining("step 'a' returned an invalid outcome") },
  },
];

describe('decide: what a step outcome means for its run', () => {
  it.each(table)('$name', (row) => {
    const before = run({ attempt: row.attempt ?? 1 });
    const frozen = structuredClone(before);
    const { run: after, entries } = decide({
      workflow,
      run: before,
      outcome: row.outcome,
      thrown: row.thrown,
      startedAt: STARTED,
      now: NOW,
      zone: 'UTC',
    });
    expect(after).toMatchObject({ ...row.expect, updatedAt: NOW });
    expect(after.id).toBe('r1');
    expect(entries).toEqual(
      row.line === null
        ? []
        : [{ seq: 4, step: 'a', attempt: before.attempt, startedAt: STARTED, endedAt: NOW, ...row.line }],
    );
    // Pure: the input run is not touched.
    expect(before).toEqual(frozen);
  });
});
