/**
 * The run row codec shared by the SQL run stores: a run survives the trip to a row and back, and
 * a row written before versions reads as version 1.
 */
import { expect, it } from 'vitest';
import { RUN_COLUMNS, type RunRecord, runFromRow, runToRow } from '../src/index.js';

const run: RunRecord = {
  id: 'r1',
  workflow: 'w',
  kind: 'machine',
  version: 3,
  status: 'waiting',
  step: '"open"',
  seq: 4,
  attempt: 2,
  nextAt: 1_000,
  alarmId: 7,
  context: { n: 1, nested: { list: [1, 'two', null] } },
  input: { payload: true },
  waiting: { signal: 'go', onSignal: 'next', deadline: null, onTimeout: null },
  snapshot: { value: 'open', context: { n: 1 } },
  timers: { next: 2, pending: { a: { n: 1, fireAt: 5_000, event: { type: 'xstate.after.a' } } } },
  result: null,
  error: 'it broke',
  createdAt: 1,
  updatedAt: 2,
  endedAt: null,
};

it('a run goes to a row and back unchanged, and the row has exactly the table columns', () => {
  const row = runToRow(run);
  expect(Object.keys(row).sort()).toEqual([...RUN_COLUMNS].sort());
  expect(row).toMatchObject({ next_at: 1_000, alarm_id: 7, context: JSON.stringify(run.context) });
  expect(runFromRow(row)).toEqual(run);
});

it('absent JSON fields are NULL; a row without a version reads as version 1', () => {
  const bare: RunRecord = {
    ...run,
    version: undefined,
    input: null,
    waiting: null,
    snapshot: null,
    timers: null,
  };
  const row = runToRow(bare);
  expect(row).toMatchObject({ version: 1, input: null, waiting: null, snapshot: null, timers: null });
  const { version: _version, ...old } = row;
  expect(runFromRow(old).version).toBe(1);
});
