/**
 * `alarms list | get | stats`: table and JSON output, filters and paging, and that read commands
 * open the database read-only and never create one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { complete, NOW, seed, snapshot, tempDir, vigil } from './helpers.js';

let db: string;

beforeEach(async () => {
  db = join(tempDir(), 'alarms.db');
  await seed(db, [
    { fireAt: NOW + 60_000, target: 'Log', key: 'standup' },
    { fireAt: NOW + 3_600_000, target: 'Pushover', message: '{"title":"water the plants"}', maxAttempts: 5 },
    { fireAt: NOW + 86_400_000, target: 'Log', recurrence: '{"every":"1 day"}' },
  ]);
  await complete(db, async (store) => {
    await store.complete([
      { kind: 'failed', id: 2, at: NOW, attempts: 5, reason: 'HTTP 500\nfrom upstream' },
    ]);
  });
});

describe('alarms list', () => {
  it('prints a table in id order with times in the zone', async () => {
    const r = await vigil(['alarms', 'list', '--db', db, '--tz', 'Europe/Paris']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      [
        'ID  STATUS   FIRES AT (Europe/Paris)  TARGET    SERIES          ATTEMPTS  KEY      LAST ERROR',
        '1   pending  2026-11-27 09:49         Log       -               0/1       standup  -',
        '2   failed   2026-11-27 10:48         Pushover  -               5/5       -        HTTP 500\\u000afrom upstream',
        '3   pending  2026-11-28 09:48         Log       #1 every 1 day  0/1       -        -',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON: an array of alarms as the API returns them', async () => {
    const r = await vigil(['alarms', 'list', '--db', db, '--json']);
    expect(r.code).toBe(0);
    const alarms = JSON.parse(r.stdout);
    expect(alarms).toHaveLength(3);
    expect(alarms[1]).toEqual({
      id: 2,
      fireAt: NOW + 3_600_000,
      scheduledFor: NOW + 3_600_000,
      target: 'Pushover',
      message: { title: 'water the plants' },
      status: 'failed',
      attempts: 5,
      lastError: 'HTTP 500\nfrom upstream',
      createdAt: NOW,
      firedAt: null,
      key: null,
      recurrence: null,
      occurrence: 1,
      counts: { delivered: 0, missed: 0, failed: 1 },
      cancelRequestedAt: null,
      trace: null,
    });
    expect(alarms[2].recurrence).toEqual({ every: '1 day' });
  });

  it('filters by status and target', async () => {
    const pending = JSON.parse(
      (await vigil(['alarms', 'list', '--db', db, '--status', 'pending', '--json'])).stdout,
    );
    expect(pending.map((a: { id: number }) => a.id)).toEqual([1, 3]);
    const several = await vigil(['alarms', 'list', '--db', db, '--status', 'failed,cancelled', '--json']);
    expect(JSON.parse(several.stdout).map((a: { id: number }) => a.id)).toEqual([2]);
    const byTarget = await vigil(['alarms', 'list', '--db', db, '--target', 'Pushover', '--json']);
    expect(JSON.parse(byTarget.stdout).map((a: { id: number }) => a.id)).toEqual([2]);
  });

  it('pages with --limit and --after, and says how to get the next page', async () => {
    const first = await vigil(['alarms', 'list', '--db', db, '--limit', '2']);
    expect(first.stdout.trim().split('\n').at(-1)).toBe('(showing 2; next page: --after 2)');
    const next = await vigil(['alarms', 'list', '--db', db, '--limit', '2', '--after', '2', '--json']);
    expect(JSON.parse(next.stdout).map((a: { id: number }) => a.id)).toEqual([3]);
  });

  it('says so when nothing matches', async () => {
    const r = await vigil(['alarms', 'list', '--db', db, '--status', 'missed']);
    expect(r).toEqual({ code: 0, stdout: 'no alarms match\n', stderr: '' });
    expect(
      JSON.parse((await vigil(['alarms', 'list', '--db', db, '--status', 'missed', '--json'])).stdout),
    ).toEqual([]);
  });
});

describe('alarms get', () => {
  it('prints the alarm as fields, the fire time relative to now', async () => {
    const r = await vigil(['alarms', 'get', '1', '--db', db, '--tz', 'Europe/Paris']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'id          1',
        'status      pending',
        'target      Log',
        'fires at    2026-11-27 09:49 Europe/Paris (2026-11-27T08:49:00.000Z), in 1m',
        'message     {"text":"hi"}',
        'recurrence  -',
        'key         standup',
        'attempts    0 of 1',
        'last error  -',
        'created at  2026-11-27 09:48 Europe/Paris (2026-11-27T08:48:00.000Z)',
        'fired at    -',
        '',
      ].join('\n'),
    );
  });

  it('shows the recurrence', async () => {
    const r = await vigil(['alarms', 'get', '3', '--db', db]);
    expect(r.stdout).toMatch(/^recurrence {3}every 1 day$/m);
  });

  it('prints JSON', async () => {
    const r = await vigil(['alarms', 'get', '2', '--db', db, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 2, status: 'failed', target: 'Pushover' });
  });

  it('fails with NOT_FOUND for an unknown id', async () => {
    const r = await vigil(['alarms', 'get', '99', '--db', db]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'vigil: NOT_FOUND: no alarm with id 99\n' });
  });
});

describe('alarms stats', () => {
  it('counts by status and shows the next one due', async () => {
    const r = await vigil(['alarms', 'stats', '--db', db]);
    expect(r.stdout).toBe(
      [
        'pending      2',
        'fired        0',
        'failed       1',
        'cancelled    0',
        'missed       0',
        'total        3',
        'occurrences  0 delivered, 0 missed, 1 failed',
        'next due     2026-11-27 08:49 UTC (2026-11-27T08:49:00.000Z), in 1m',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON', async () => {
    const r = await vigil(['alarms', 'stats', '--db', db, '--json']);
    expect(JSON.parse(r.stdout)).toEqual({
      byStatus: { pending: 2, fired: 0, failed: 1, cancelled: 0, missed: 0 },
      occurrences: { delivered: 0, missed: 0, failed: 1 },
      total: 3,
      nextFireAt: NOW + 60_000,
    });
  });
});

describe('read commands never create a database', () => {
  const commands = [
    ['alarms', 'list'],
    ['alarms', 'get', '1'],
    ['alarms', 'stats'],
    ['alarms', 'cancel', '1'],
  ];
  for (const command of commands) {
    it(`${command.join(' ')} refuses a missing file with DB_NOT_FOUND`, async () => {
      const missing = join(tempDir(), 'typo.db');
      const r = await vigil([...command, '--db', missing]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`vigil: DB_NOT_FOUND: no database file at ${JSON.stringify(missing)}\n`);
      expect(existsSync(missing)).toBe(false);
    });
  }

  it('leaves the rows unchanged', async () => {
    const before = await snapshot(db);
    await vigil(['alarms', 'list', '--db', db]);
    await vigil(['alarms', 'get', '1', '--db', db]);
    await vigil(['alarms', 'stats', '--db', db]);
    expect(await snapshot(db)).toEqual(before);
  });

  it('resolves a relative --db against the working directory', async () => {
    const r = await vigil(['alarms', 'stats', '--db', 'alarms.db', '--json'], { cwd: join(db, '..') });
    expect(JSON.parse(r.stdout).total).toBe(3);
  });

  it('reports a file that is not a database', async () => {
    const r = await vigil(['alarms', 'list', '--db', new URL(import.meta.url).pathname]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vigil: STORE_CORRUPT: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
