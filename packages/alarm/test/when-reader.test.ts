/**
 * `whenReader`, the batch form of `parseWhen`: the same instants and the same typed errors, with
 * each distinct text parsed once per batch.
 */
import { describe, expect, it, vi } from 'vitest';
import { parseWhen, whenReader } from '../src/parse.js';

// Counts chrono-node's parses (an ES module namespace cannot be spied on in place).
const chronoParses = vi.hoisted(() => ({ count: 0 }));
vi.mock('chrono-node', async (importOriginal) => {
  const chrono = await importOriginal<typeof import('chrono-node')>();
  return {
    ...chrono,
    parse: (...args: Parameters<typeof chrono.parse>) => {
      chronoParses.count++;
      return chrono.parse(...args);
    },
  };
});

const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);

/** What parseWhen gives for `when`: its instant, or its error's code and message. */
function expected(when: unknown, now: number, zone: string): unknown {
  try {
    return parseWhen(when, { now, zone }).at;
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
}

function actual(read: (when: unknown) => number, when: unknown): unknown {
  try {
    return read(when);
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
}

const INPUTS: unknown[] = [
  NOW + 1000,
  NOW,
  NOW - 1,
  1.5,
  Number.NaN,
  -1,
  253_402_300_800_000,
  'tomorrow at 9am',
  'in 5 minutes',
  'tomorrow at 9am',
  'half past never',
  new Date(NOW + 60_000),
  { in: '2 hours' },
  { at: NOW + 5 },
  null,
  undefined,
];

describe('whenReader', () => {
  it.each(['UTC', 'Europe/Paris'])('answers as parseWhen does, input by input (zone %s)', (zone) => {
    const read = whenReader(NOW, zone);
    for (const when of INPUTS) expect(actual(read, when)).toEqual(expected(when, NOW, zone));
  });

  it('a bad zone or reference instant is refused even for an epoch number after a success', () => {
    expect(actual(whenReader(NOW, 'Mars/Olympus'), NOW + 1000)).toMatchObject({ code: 'INVALID_ZONE' });
    const read = whenReader(NOW + 0.5, 'UTC');
    expect(actual(read, NOW + 1000)).toMatchObject({ code: 'INVALID_TIME' });
    expect(actual(read, NOW + 2000)).toMatchObject({ code: 'INVALID_TIME' });
  });

  it('parses each distinct text once', () => {
    const once = chronoParses.count;
    parseWhen('next friday 17:30', { now: NOW });
    const perParse = chronoParses.count - once;
    expect(perParse).toBeGreaterThan(0);
    const before = chronoParses.count;
    const read = whenReader(NOW, 'UTC');
    const instants = Array.from({ length: 50 }, () => read('next friday 17:30'));
    expect(new Set(instants)).toEqual(new Set([parseWhen('next friday 17:30', { now: NOW }).at]));
    expect(chronoParses.count - before).toBe(perParse + perParse); // the reader's one, and the line above
  });
});
