/**
 * `alarms cancel`: a pending alarm becomes cancelled; cancelling again is not an error; an alarm
 * that already fired, failed or was missed is refused with NOT_PENDING and stays as it was.
 */
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { complete, NOW, seed, snapshot, tempDir, vigil } from './helpers.js';

let db: string;

beforeEach(async () => {
  db = join(tempDir(), 'alarms.db');
  await seed(db, [{ target: 'Log' }, { target: 'Log' }, { target: 'Log' }]);
  await complete(db, (store) =>
    store.complete([
      { kind: 'fired', id: 2, firedAt: NOW, attempts: 1 },
      { kind: 'failed', id: 3, at: NOW, attempts: 1, reason: 'boom' },
    ]),
  );
});

describe('alarms cancel', () => {
  it('cancels a pending alarm and prints it', async () => {
    const r = await vigil(['alarms', 'cancel', '1', '--db', db]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'cancelled alarm 1',
      'id          1',
      'status      cancelled',
    ]);
    expect((await snapshot(db))[0]).toMatchObject({ status: 'cancelled', settledAt: NOW });
  });

  it('prints JSON', async () => {
    const r = await vigil(['alarms', 'cancel', '1', '--db', db, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 1, status: 'cancelled' });
  });

  it('succeeds on an alarm already cancelled, saying so', async () => {
    await vigil(['alarms', 'cancel', '1', '--db', db]);
    const before = await snapshot(db);
    const r = await vigil(['alarms', 'cancel', '1', '--db', db], { now: () => NOW + 5000 });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('alarm 1 was already cancelled');
    expect(await snapshot(db)).toEqual(before);
  });

  for (const [id, status] of [
    [2, 'fired'],
    [3, 'failed'],
  ] as const) {
    it(`refuses a ${status} alarm with NOT_PENDING, changing nothing`, async () => {
      const before = await snapshot(db);
      const r = await vigil(['alarms', 'cancel', String(id), '--db', db]);
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: `vigil: NOT_PENDING: alarm ${id} is ${status}; only a pending alarm can be cancelled\n`,
      });
      expect(await snapshot(db)).toEqual(before);
    });
  }

  it('fails with NOT_FOUND for an unknown id', async () => {
    const before = await snapshot(db);
    const r = await vigil(['alarms', 'cancel', '42', '--db', db]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'vigil: NOT_FOUND: no alarm with id 42\n' });
    expect(await snapshot(db)).toEqual(before);
  });

  for (const id of ['abc', '0', '-1', '1.5', '99999999999999999']) {
    it(`rejects the id ${JSON.stringify(id)} as a usage error`, async () => {
      const before = await snapshot(db);
      const r = await vigil(['alarms', 'cancel', id, '--db', db]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^vigil: USAGE: /);
      expect(await snapshot(db)).toEqual(before);
    });
  }
});
