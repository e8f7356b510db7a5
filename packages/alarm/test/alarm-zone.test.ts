/**
 * The alarm service's zone is its own option (`alarmSupervisor({ db, zone })`, default 'UTC'),
 * checked when the spec is built: a bad zone throws at once instead of failing every later set.
 */
import { describe, expect, it } from 'vitest';
import { InvalidZoneError } from '../src/errors.js';
import { alarmSupervisor } from '../src/spec.js';
import { perTest, recorder, startAlarms } from './helpers.js';

const t = perTest();

describe('alarmSupervisor zone', () => {
  it.each([['Mars/Olympus'], [''], [42], ['Europe/Paris; DROP TABLE']])(
    'refuses %j when the spec is built',
    (zone) => {
      const build = () => alarmSupervisor({ db: ':memory:', zone: zone as string });
      expect(build).toThrow(InvalidZoneError);
      expect(build).toThrow(expect.objectContaining({ code: 'INVALID_ZONE' }));
    },
  );

  it('reads natural language in its zone', async () => {
    const target = recorder();
    t.h = await startAlarms({
      file: t.db.file,
      targets: { Log: target.logic },
      options: { zone: 'Europe/Paris' },
    });
    const alarm = await t.h.client.set('tomorrow at 9am', 'Log', { type: 'note' });
    expect(new Date(alarm.scheduledFor).toISOString()).toBe('2026-01-02T08:00:00.000Z');
  });

  it('defaults to UTC', async () => {
    const target = recorder();
    t.h = await startAlarms({ file: t.db.file, targets: { Log: target.logic } });
    const alarm = await t.h.client.set('tomorrow at 9am', 'Log', { type: 'note' });
    expect(new Date(alarm.scheduledFor).toISOString()).toBe('2026-01-02T09:00:00.000Z');
  });
});
