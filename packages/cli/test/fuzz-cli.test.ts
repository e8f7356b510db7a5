/**
 * Fuzzed command lines against `run(argv, io)`: known commands with hostile arguments and option
 * values, unknown commands and options, SQL metacharacters, NULs, control characters, huge and
 * negative numbers, 10 MB arguments.
 *
 * For every command line: `run` resolves (never throws) with 0, 1 or 2; a refusal (1, 2) prints
 * only `vigil: CODE: ...` lines on stderr, one line each, no stack trace, no raw control
 * character, and leaves the database exactly as it was; no prototype is polluted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../src/program.js';
import { NOW, seed, snapshot } from './helpers.js';

let dir: string;
let db: string;
let cases = 0;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-cli-fuzz-'));
  db = join(dir, 'vigil.db');
  await seed(db, [{}, { target: 'Pushover', message: '{"text":"stand-up"}' }, { key: 'k1' }]);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(`fuzz-cli: ${cases} hostile command lines run`);
});

const tenMegabytes = 'x'.repeat(10 * 1024 * 1024);
const nasty = fc.constantFrom(
  "'; DROP TABLE alarms; --",
  '1 OR 1=1',
  '1; DELETE FROM alarms',
  '\u0000',
  'a\u0000b',
  '\u001b[2J\u001b[31mred',
  'line\nbreak',
  '__proto__',
  'constructor',
  'prototype',
  '-1',
  '0',
  '1e400',
  '9007199254740993',
  '-9007199254740993',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '',
  ' ',
  '--',
  '-',
  '--json',
  '--db',
  'tomorrow at 9am',
  'in 5 minutes',
  'Europe/Paris',
  'Mars/Olympus',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"text":"hi"}',
  '[]',
  'null',
  '*/5 * * * *',
  'pending',
  'fired,cancelled',
  'Log',
  tenMegabytes,
);
const word = fc.oneof(
  { weight: 3, arbitrary: nasty },
  { weight: 2, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

const commands = fc.constantFrom(
  ['alarms', 'list'],
  ['alarms', 'get'],
  ['alarms', 'cancel'],
  ['alarms', 'stats'],
  ['alarms', 'set'],
  ['alarms'],
  ['parse'],
  ['workflows', 'list'],
  ['workflows', 'show'],
  ['workflows'],
  ['help'],
  [],
);
const optionNames = fc.constantFrom(
  '--db',
  '--status',
  '--target',
  '--limit',
  '--after',
  '--tz',
  '--json',
  '--key',
  '--message',
  '--every',
  '--cron',
  '--now',
  '--workflow',
  '--help',
  '--version',
  '--nope',
  '-x',
  '--__proto__',
  '--constructor',
);

const commandLine = fc
  .tuple(
    commands,
    fc.array(word, { maxLength: 3 }),
    fc.array(fc.tuple(optionNames, fc.option(word, { nil: undefined })), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([command, positional, options, withDb]) => {
    const argv = [...command, ...positional];
    for (const [name, value] of options) argv.push(...(value === undefined ? [name] : [name, value]));
    // Most lines point at the seeded database, so that a bug could actually change it.
    if (withDb) argv.push('--db', db);
    return argv;
  });

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

it('every command line ends in 0, 1 or 2; refusals are one typed line each and change nothing', async () => {
  const before = JSON.stringify(await snapshot(db));
  await fc.assert(
    fc.asyncProperty(commandLine, async (argv) => {
      cases++;
      const rowsBefore = JSON.stringify(await snapshot(db));
      let stdout = '';
      let stderr = '';
      let code: number;
      try {
        code = await run(argv, {
          now: () => NOW,
          zone: 'UTC',
          cwd: dir,
          demo: async () => false,
          stdout: (t) => {
            stdout += t;
          },
          stderr: (t) => {
            stderr += t;
          },
        });
      } catch (err) {
        throw new Error(`run threw for ${JSON.stringify(argv).slice(0, 200)}: ${String(err)}`);
      }
      expect([0, 1, 2]).toContain(code);
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
      // Nothing from the input or the database reaches the terminal as a raw control character.
      expect(stdout).not.toMatch(RAW_CONTROL);
      if (code !== 0) {
        expect(stderr).not.toMatch(RAW_CONTROL);
        // Help shown for a malformed line is commander's block; anything else is `vigil: CODE: ...`.
        const isHelp = /^Usage: /m.test(stderr);
        for (const line of stderr.split('\n').filter((l) => l.trim() !== '')) {
          if (!isHelp && !line.startsWith('vigil: ')) {
            throw new Error(
              `unexpected stderr line ${JSON.stringify(line.slice(0, 200))} for ${JSON.stringify(argv).slice(0, 200)}`,
            );
          }
        }
        expect(JSON.stringify(await snapshot(db))).toEqual(rowsBefore);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    }),
    { numRuns: 1500 },
  );
  // Successful `alarms set` / `cancel` lines may have changed it; the seeded rows are still there.
  const after = await snapshot(db);
  for (const row of JSON.parse(before) as { id: number }[])
    expect(after.some((r) => r.id === row.id)).toBe(true);
}, 60_000);
