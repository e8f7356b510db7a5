/**
 * `alarms set`: WHEN read as the runtime reads it, the message checked by the same rules, the row
 * committed before the command returns; every refusal changes nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { NOW, seed, snapshot, tempDir, vigil } from './helpers.js';

let dir: string;
let db: string;

beforeEach(() => {
  dir = tempDir();
  db = join(dir, 'alarms.db');
});

const set = (when: string, ...rest: string[]) =>
  vigil(['alarms', 'set', when, '--target', 'Log', '--message', '{"text":"stand up"}', '--db', db, ...rest]);

describe('alarms set', () => {
  it('creates the database, stores the alarm and prints it', async () => {
    const r = await set('tomorrow at 9am', '--tz', 'Europe/Paris');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 5)).toEqual([
      'set alarm 1',
      'id          1',
      'status      pending',
      'target      Log',
      'fires at    2026-11-28 09:00 Europe/Paris (2026-11-28T08:00:00.000Z), in 23h 12m',
    ]);
    const [row] = await snapshot(db);
    expect(row).toMatchObject({
      id: 1,
      fireAt: Date.parse('2026-11-28T08:00:00.000Z'),
      target: 'Log',
      message: '{"text":"stand up"}',
      status: 'pending',
      createdAt: NOW,
      maxAttempts: 10,
      key: null,
      recurrence: null,
    });
  });

  it('accepts ISO and durations, and prints JSON', async () => {
    const iso = await set('2026-12-01T09:00', '--tz', 'America/New_York', '--json');
    expect(JSON.parse(iso.stdout)).toMatchObject({
      created: true,
      alarm: { id: 1, fireAt: Date.parse('2026-12-01T14:00:00.000Z'), message: { text: 'stand up' } },
    });
    const soon = await set('in 90 seconds', '--json');
    expect(JSON.parse(soon.stdout).alarm.fireAt).toBe(NOW + 90_000);
  });

  it('stores --every and --cron (the cron read in --tz) and --max-attempts', async () => {
    await set('in 1 hour', '--every', '1 day');
    await set('in 1 hour', '--cron', '0 9 * * 1-5', '--tz', 'Europe/Paris', '--max-attempts', '3');
    const [every, cron] = await snapshot(db);
    expect(JSON.parse(every!.recurrence!)).toEqual({ every: '1 day' });
    expect(JSON.parse(cron!.recurrence!)).toEqual({ cron: '0 9 * * 1-5', zone: 'Europe/Paris' });
    expect(cron!.maxAttempts).toBe(3);
    const shown = await vigil(['alarms', 'get', '2', '--db', db]);
    expect(shown.stdout).toMatch(/^recurrence {3}cron 0 9 \* \* 1-5 in Europe\/Paris$/m);
  });

  it('returns the first alarm, unchanged, when the key is set again', async () => {
    await set('in 1 hour', '--key', 'daily-standup');
    const again = await set('in 2 hours', '--key', 'daily-standup');
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')[0]).toBe(
      'an alarm with key "daily-standup" already exists; it is unchanged',
    );
    const json = await set('in 3 hours', '--key', 'daily-standup', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      created: false,
      alarm: { id: 1, fireAt: NOW + 3_600_000 },
    });
    expect(await snapshot(db)).toHaveLength(1);
  });

  it('accepts any well-formed target name: the runtime decides when the alarm comes due', async () => {
    const r = await vigil([
      'alarms',
      'set',
      'in 1 hour',
      '--target',
      'NotDeclaredAnywhere',
      '--message',
      '{}',
      '--db',
      db,
    ]);
    expect(r.code).toBe(0);
  });

  it('adds to a database a runtime already uses', async () => {
    await seed(db, [{ target: 'Pushover' }]);
    const r = await set('in 1 hour', '--json');
    expect(JSON.parse(r.stdout).alarm.id).toBe(2);
    expect(await snapshot(db)).toHaveLength(2);
  });
});

describe('alarms set refuses bad input and changes nothing', () => {
  // [name, extra argv, exit code, stderr pattern]
  const cases: [string, string[], number, RegExp][] = [
    [
      'unparseable WHEN',
      ['alarms', 'set', 'someday maybe'],
      1,
      /^vigil: INVALID_TIME: invalid time "someday maybe": /,
    ],
    ['partly understood WHEN', ['alarms', 'set', 'tomorrow at 9am or so'], 1, /^vigil: INVALID_TIME: .*only/],
    ['WHEN in the past', ['alarms', 'set', '2020-01-01T00:00Z'], 1, /^vigil: TIME_IN_PAST: /],
    [
      'message that is not JSON',
      ['alarms', 'set', 'in 1h', '--message', '{text:'],
      1,
      /^vigil: INVALID_PAYLOAD: .*not valid JSON/,
    ],
    [
      'message that is not an object',
      ['alarms', 'set', 'in 1h', '--message', '[1,2]'],
      1,
      /^vigil: INVALID_PAYLOAD: .*plain object/,
    ],
    [
      'message with a forbidden key',
      ['alarms', 'set', 'in 1h', '--message', '{"__proto__":{}}'],
      1,
      /^vigil: INVALID_PAYLOAD: .*__proto__/,
    ],
    [
      'message using the reserved key alarm',
      ['alarms', 'set', 'in 1h', '--message', '{"alarm":1}'],
      1,
      /^vigil: INVALID_PAYLOAD: .*reserved/,
    ],
    [
      'message over 256 KiB',
      ['alarms', 'set', 'in 1h', '--message', JSON.stringify({ text: 'x'.repeat(300_000) })],
      1,
      /^vigil: PAYLOAD_TOO_LARGE: /,
    ],
    ['bad --every', ['alarms', 'set', 'in 1h', '--every', 'fortnightly'], 1, /^vigil: INVALID_RECURRENCE: /],
    [
      '--every under a second',
      ['alarms', 'set', 'in 1h', '--every', '10ms'],
      1,
      /^vigil: INVALID_RECURRENCE: /,
    ],
    ['bad --cron', ['alarms', 'set', 'in 1h', '--cron', '61 * * * *'], 1, /^vigil: INVALID_RECURRENCE: /],
    [
      '--max-attempts over 1000',
      ['alarms', 'set', 'in 1h', '--max-attempts', '5000'],
      1,
      /^vigil: INVALID_OPTION: /,
    ],
    [
      '--key over 200 characters',
      ['alarms', 'set', 'in 1h', '--key', 'k'.repeat(201)],
      1,
      /^vigil: INVALID_OPTION: /,
    ],
    ['bad --tz', ['alarms', 'set', 'in 1h', '--tz', 'Mars/Olympus'], 2, /^vigil: INVALID_ZONE: /],
    [
      '--every with --cron',
      ['alarms', 'set', 'in 1h', '--every', '1h', '--cron', '0 9 * * *'],
      2,
      /^vigil: USAGE: .*--every.*cannot be used with.*--cron/,
    ],
    [
      '--max-attempts not a number',
      ['alarms', 'set', 'in 1h', '--max-attempts', 'lots'],
      2,
      /^vigil: USAGE: .*--max-attempts/,
    ],
    ['empty target', ['alarms', 'set', 'in 1h', '--target', ''], 2, /^vigil: USAGE: .*--target/],
    [
      'target with a newline',
      ['alarms', 'set', 'in 1h', '--target', 'Log\nX'],
      2,
      /^vigil: USAGE: .*--target/,
    ],
    ['missing --target', ['alarms', 'set', 'in 1h', '--target'], 2, /^vigil: USAGE: .*--target/],
    ['missing WHEN', ['alarms', 'set'], 2, /^vigil: USAGE: missing required argument 'when'/],
    ['unknown option', ['alarms', 'set', 'in 1h', '--later'], 2, /^vigil: USAGE: unknown option '--later'/],
  ];

  // Defaults go first so that a case can end with an option missing its value.
  const withDefaults = (argv: string[]) => {
    const defaults = ['--db', db];
    if (!argv.includes('--target')) defaults.push('--target', 'Log');
    if (!argv.includes('--message')) defaults.push('--message', '{"text":"hi"}');
    return [...argv.slice(0, 2), ...defaults, ...argv.slice(2)];
  };

  for (const [name, argv, code, stderr] of cases) {
    it(`${name}: exit ${code}, one line on stderr, no database created`, async () => {
      const r = await vigil(withDefaults(argv));
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(code);
      expect(existsSync(db)).toBe(false);
    });
  }

  it('leaves an existing database unchanged', async () => {
    await seed(db, [{ target: 'Log' }, { target: 'Pushover' }]);
    const before = await snapshot(db);
    for (const [, argv, code] of cases) expect((await vigil(withDefaults(argv))).code).toBe(code);
    expect(await snapshot(db)).toEqual(before);
  });
});
