/**
 * `vigil parse`: the instant WHEN names, read as the Alarm actor reads it, in two zones and across
 * daylight-saving changes.
 */
import { describe, expect, it } from 'vitest';
import { NOW, vigil } from './helpers.js';

describe('vigil parse', () => {
  it('prints wall time in the zone, the UTC instant and how far away it is', async () => {
    const r = await vigil(['parse', 'tomorrow at 9am', '--tz', 'Europe/Paris']);
    expect(r).toEqual({
      code: 0,
      stdout: '2026-11-28 09:00 Europe/Paris (2026-11-28T08:00:00.000Z), in 23h 12m\n',
      stderr: '',
    });
  });

  it('reads the same words in another zone', async () => {
    const r = await vigil(['parse', 'tomorrow at 9am', '--tz', 'America/New_York']);
    expect(r.stdout).toBe('2026-11-28 09:00 America/New_York (2026-11-28T14:00:00.000Z), in 1d 5h\n');
  });

  it('uses the default zone when --tz is absent', async () => {
    const r = await vigil(['parse', 'tomorrow at 9am'], { zone: 'Asia/Tokyo' });
    expect(r.stdout).toBe('2026-11-28 09:00 Asia/Tokyo (2026-11-28T00:00:00.000Z), in 15h 12m\n');
  });

  it('keeps 9am at 9am across the autumn change (Paris, 25 October 2026)', async () => {
    // Reference in summer time (UTC+2); the target day is in winter time (UTC+1).
    const r = await vigil([
      'parse',
      'tomorrow at 9am',
      '--tz',
      'Europe/Paris',
      '--now',
      '2026-10-24T12:00:00Z',
    ]);
    expect(r.stdout).toBe('2026-10-25 09:00 Europe/Paris (2026-10-25T08:00:00.000Z), in 20h\n');
  });

  it('keeps 9am at 9am across the spring change (New York, 8 March 2026)', async () => {
    const r = await vigil([
      'parse',
      'tomorrow at 9am',
      '--tz',
      'America/New_York',
      '--now',
      '2026-03-07T17:00:00Z',
    ]);
    expect(r.stdout).toBe('2026-03-08 09:00 America/New_York (2026-03-08T13:00:00.000Z), in 20h\n');
  });

  it('moves a time in the spring-forward gap past it (Paris, 02:30 on 29 March 2026)', async () => {
    const r = await vigil([
      'parse',
      '2026-03-29 02:30',
      '--tz',
      'Europe/Paris',
      '--now',
      '2026-03-01T00:00Z',
    ]);
    expect(r.stdout).toMatch(/^2026-03-29 03:30 Europe\/Paris \(2026-03-29T01:30:00\.000Z\), in 28d 1h$/m);
  });

  it('reads an offset-less --now as wall time in the zone', async () => {
    const r = await vigil(['parse', 'in 2 hours', '--tz', 'Europe/Paris', '--now', '2026-07-01T10:00']);
    expect(r.stdout).toBe('2026-07-01 12:00 Europe/Paris (2026-07-01T10:00:00.000Z), in 2h\n');
  });

  it('prints JSON', async () => {
    const r = await vigil(['parse', 'in 90 minutes', '--tz', 'Europe/Paris', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({
      input: 'in 90 minutes',
      kind: 'duration',
      at: NOW + 5_400_000,
      iso: '2026-11-27T10:18:00.000Z',
      local: '2026-11-27 11:18 Europe/Paris',
      zone: 'Europe/Paris',
      inMs: 5_400_000,
    });
  });

  // [WHEN, extra argv, exit code, stderr pattern]
  const refusals: [string, string[], number, RegExp][] = [
    ['next blursday', [], 1, /^vigil: INVALID_TIME: invalid time "next blursday": /],
    ['yesterday at noon', [], 1, /^vigil: TIME_IN_PAST: /],
    ['2026-02-30T09:00', [], 1, /^vigil: INVALID_TIME: .*not a valid ISO-8601/],
    ['tomorrow at 9am', ['--tz', 'Nowhere/Special'], 2, /^vigil: INVALID_ZONE: /],
    [
      'tomorrow at 9am',
      ['--now', 'last tuesday'],
      2,
      /^vigil: USAGE: --now "last tuesday" is not an ISO-8601 instant/,
    ],
  ];
  for (const [when, extra, code, stderr] of refusals) {
    it(`refuses ${JSON.stringify(when)} ${extra.join(' ')} with exit ${code}`, async () => {
      const r = await vigil(['parse', when, ...extra]);
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});
