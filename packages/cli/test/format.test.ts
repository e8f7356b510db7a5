/** Text formatting helpers: durations, tables, escaping. */
import { describe, expect, it } from 'vitest';
import { cell, formatDuration, relative, table } from '../src/format.js';

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0ms'],
    [250, '250ms'],
    [1000, '1s'],
    [45_900, '45s'],
    [60_000, '1m'],
    [125_000, '2m 5s'],
    [3_600_000, '1h'],
    [83_520_000, '23h 12m'],
    [86_400_000, '1d'],
    [90_061_000, '1d 1h'],
    [1_000 * 86_400_000, '1000d'],
  ];
  for (const [ms, text] of cases) it(`${ms} ms is ${text}`, () => expect(formatDuration(ms)).toBe(text));
});

describe('relative', () => {
  it('says in, ago or now', () => {
    expect(relative(1000 + 90_000, 1000)).toBe('in 1m 30s');
    expect(relative(1000, 1000 + 300_000)).toBe('5m ago');
    expect(relative(5, 5)).toBe('now');
  });
});

describe('table', () => {
  it('aligns columns without trailing blanks', () => {
    expect(
      table(
        ['ID', 'NAME', 'NOTE'],
        [
          ['1', 'a', '-'],
          ['10', 'longer', 'x'],
        ],
      ),
    ).toBe('ID  NAME    NOTE\n1   a       -\n10  longer  x');
  });
});

describe('cell', () => {
  it('escapes control characters so stored data cannot drive the terminal', () => {
    expect(cell('a\u001b[31mred\nb')).toBe('a\\u001b[31mred\\u000ab');
  });
  it('shows absent values as a dash and caps length', () => {
    expect(cell(null)).toBe('-');
    expect(cell('')).toBe('-');
    expect(cell('abcdefgh', 5)).toBe('abcd…');
  });
});
