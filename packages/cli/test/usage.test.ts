/**
 * The exit-code rule: 0 on success and for --help, 2 for a malformed command line (with commander's
 * message on one stderr line), 1 for a command that fails; never a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { vigil } from './helpers.js';

describe('usage', () => {
  it('prints help and exits 0 for --help and the help command', async () => {
    for (const argv of [
      ['--help'],
      ['help'],
      ['alarms', '--help'],
      ['help', 'alarms'],
      ['alarms', 'set', '--help'],
    ]) {
      const r = await vigil(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: vigil/);
    }
  });

  it('lists every command in the help', async () => {
    const top = (await vigil(['--help'])).stdout;
    for (const command of ['alarms', 'workflows', 'parse', 'demo']) expect(top).toContain(command);
    const alarms = (await vigil(['alarms', '--help'])).stdout;
    for (const command of ['list', 'get', 'cancel', 'stats', 'set']) expect(alarms).toContain(command);
  });

  // [argv, stderr pattern]
  const usageErrors: [string[], RegExp][] = [
    [['frobnicate'], /^vigil: USAGE: unknown command 'frobnicate'/],
    [['alarms', 'lsit', '--db', 'x.db'], /^vigil: USAGE: unknown command 'lsit' \(Did you mean list\?\)$/m],
    [['alarms', 'list'], /^vigil: USAGE: required option '--db <file>' not specified/],
    [['alarms', 'list', '--db'], /^vigil: USAGE: option '--db <file>' argument missing/],
    [
      ['alarms', 'list', '--db', 'x.db', '--status', 'done'],
      /^vigil: USAGE: .*--status.*expected statuses among/,
    ],
    [['alarms', 'list', '--db', 'x.db', '--limit', '0'], /^vigil: USAGE: .*--limit/],
    [['alarms', 'list', '--db', 'x.db', '--after', 'x'], /^vigil: USAGE: .*--after/],
    [['alarms', 'list', '--db', 'x.db', '--tz', 'Middle/Earth'], /^vigil: INVALID_ZONE: /],
    [['alarms', 'get', '--db', 'x.db'], /^vigil: USAGE: missing required argument 'id'/],
    [['alarms', 'get', '1', '2', '--db', 'x.db'], /^vigil: USAGE: too many arguments/],
    [['parse'], /^vigil: USAGE: missing required argument 'when'/],
  ];
  for (const [argv, stderr] of usageErrors) {
    it(`exits 2 for: vigil ${argv.join(' ')}`, async () => {
      const r = await vigil(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('exits 2 and prints help on stderr for a command group without a command', async () => {
    const r = await vigil(['alarms']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: vigil alarms/);
  });
});
