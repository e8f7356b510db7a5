/**
 * Series in the CLI: `list` and `get` show a recurring alarm as one series (its occurrence, its
 * counts), `history` lists its settled occurrences, and `cancel` of an alarm that is due (which a
 * running runtime may be delivering) records a cancel request that the runtime then settles
 * truthfully.
 */
import { join } from 'node:path';
import { AlarmClient, alarmSupervisor, type Delivery } from '@vigil/alarm';
import { createRuntime, type Runtime, reply, worker } from '@vigil/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import { complete, NOW, seed, snapshot, tempDir, vigil } from './helpers.js';

const MIN = 60_000;
let db: string;

beforeEach(async () => {
  db = join(tempDir(), 'alarms.db');
  await seed(db, [
    { fireAt: NOW - 3 * MIN, target: 'Log', recurrence: '{"every":"1 min"}', key: 'tick' },
    { fireAt: NOW + MIN, target: 'Log' },
  ]);
  // The series: #1 delivered, #2 failed, #3 delivered; #4 is next, due at NOW + 1 min.
  await complete(db, async (store) => {
    for (const [k, kind] of (['fired', 'failed', 'fired'] as const).entries()) {
      const at = NOW - (3 - k) * MIN;
      await store.complete([
        kind === 'fired'
          ? {
              kind,
              id: 1,
              firedAt: at + 10,
              attempts: 1,
              occurrence: { seq: k + 1, scheduledFor: at },
              next: k === 2 ? NOW + MIN : at + MIN,
            }
          : {
              kind,
              id: 1,
              at: at + 10,
              attempts: 2,
              reason: 'HTTP 500',
              occurrence: { seq: k + 1, scheduledFor: at },
              next: k === 2 ? NOW + MIN : at + MIN,
            },
      ]);
    }
  });
});

describe('a series in list, get and history', () => {
  it('list shows one row for the series, with its occurrence and rule', async () => {
    const r = await vigil(['alarms', 'list', '--db', db]);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'ID  STATUS   FIRES AT (UTC)    TARGET  SERIES          ATTEMPTS  KEY   LAST ERROR',
      '1   pending  2026-11-27 08:49  Log     #4 every 1 min  0/1       tick  -',
      '2   pending  2026-11-27 08:49  Log     -               0/1       -     -',
    ]);
  });

  it('get shows the next occurrence and the counts', async () => {
    const r = await vigil(['alarms', 'get', '1', '--db', db]);
    expect(r.stdout).toMatch(/^fires at {5}2026-11-27 08:49 UTC .*, in 1m$/m);
    expect(r.stdout).toMatch(/^occurrence {3}#4 \(next\)$/m);
    expect(r.stdout).toMatch(/^occurrences {2}2 delivered, 0 missed, 1 failed \(vigil alarms history 1\)$/m);
    const json = JSON.parse((await vigil(['alarms', 'get', '1', '--db', db, '--json'])).stdout);
    expect(json).toMatchObject({ id: 1, occurrence: 4, counts: { delivered: 2, missed: 0, failed: 1 } });
  });

  it('history lists the settled occurrences, pages, and names the next one', async () => {
    const r = await vigil(['alarms', 'history', '1', '--db', db]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      [
        '#  SCHEDULED FOR (UTC)  OUTCOME    ATTEMPTS  SETTLED AT (UTC)     ERROR',
        '1  2026-11-27 08:45     delivered  1         2026-11-27 08:45:00  -',
        '2  2026-11-27 08:46     failed     2         2026-11-27 08:46:00  HTTP 500',
        '3  2026-11-27 08:47     delivered  1         2026-11-27 08:47:00  -',
        'next: #4 2026-11-27 08:49 UTC (2026-11-27T08:49:00.000Z), in 1m',
        '',
      ].join('\n'),
    );
    const page = JSON.parse(
      (await vigil(['alarms', 'history', '1', '--db', db, '--after', '1', '--limit', '1', '--json'])).stdout,
    );
    expect(page).toEqual([
      {
        alarmId: 1,
        seq: 2,
        scheduledFor: NOW - 2 * MIN,
        attempts: 2,
        outcome: 'failed',
        error: 'HTTP 500',
        settledAt: NOW - 2 * MIN + 10,
      },
    ]);
  });

  it('history of a one-shot alarm: nothing until it settles; NOT_FOUND for an unknown id', async () => {
    expect((await vigil(['alarms', 'history', '2', '--db', db])).stdout).toBe(
      'alarm 2 has no settled occurrence yet\n',
    );
    expect(await vigil(['alarms', 'history', '9', '--db', db])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vigil: NOT_FOUND: no alarm with id 9\n',
    });
  });

  it('stats counts series by status and occurrences by outcome', async () => {
    const r = await vigil(['alarms', 'stats', '--db', db]);
    expect(r.stdout).toMatch(/^occurrences {2}2 delivered, 0 missed, 1 failed$/m);
  });
});

describe('cancel', () => {
  it('cancels the whole series when not due', async () => {
    const r = await vigil(['alarms', 'cancel', '1', '--db', db]);
    expect(r.stdout.split('\n')[0]).toBe('cancelled alarm 1 (the whole series)');
    expect((await snapshot(db))[0]).toMatchObject({ status: 'cancelled', occurrence: 4, deliveredCount: 2 });
  });

  it('of a due alarm: records the request and says what it means; the row stays pending', async () => {
    const r = await vigil(['alarms', 'cancel', '2', '--db', db], { now: () => NOW + 2 * MIN });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      'cancel requested for alarm 2: it is due, so a running process may be delivering it now; ' +
        'that delivery is not recalled and its outcome will be recorded, and nothing is delivered after it',
    );
    expect((await snapshot(db))[1]).toMatchObject({ status: 'pending', cancelRequestedAt: NOW + 2 * MIN });
  });
});

describe('cancel from the CLI while a running runtime delivers the alarm', () => {
  let runtime: Runtime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  it('the delivery completes and the record says fired, with the cancel that came too late', async () => {
    const live = join(tempDir(), 'live.db');
    const seen: Delivery[] = [];
    let answer!: () => void;
    const received = new Promise<void>((resolve) => {
      answer = () => resolve(); // replaced below once the delivery is in
    });
    let release: () => void = () => {};
    const sink = fromCallback(({ receive }) => {
      receive((event) => {
        seen.push(event as unknown as Delivery);
        release = () => reply(event, true);
        answer();
      });
    });
    runtime = createRuntime();
    await runtime.start([worker('Sink', sink), alarmSupervisor({ db: live, pollMs: 0 })]);
    const alarms = new AlarmClient(runtime);
    const a = await alarms.set(Date.now() + 20, 'Sink', { type: 'job' });
    await received; // the target holds the delivery: it is in flight

    const r = await vigil(['alarms', 'cancel', String(a.id), '--db', live], { now: () => Date.now() });
    expect(r.stdout).toMatch(/^cancel requested for alarm/);
    const delivered = runtime.events.waitFor('alarm.delivered', (e) => e.id === a.id);
    release();
    await delivered;
    await alarms.stats(); // the Alarm's mailbox is past the commit

    const get = await vigil(['alarms', 'get', String(a.id), '--db', live], { now: () => Date.now() });
    expect(get.stdout).toMatch(/^status {8}fired$/m);
    expect(get.stdout).toMatch(/^cancel asked .*, too late: the delivery was in flight$/m);
    expect(await alarms.get(a.id)).toMatchObject({ status: 'fired', counts: { delivered: 1 } });
    expect(seen).toHaveLength(1);
  });
});
