/**
 * The Log writer: exactly one line per delivery in either format, whatever the message holds.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogWriter, type LogWriterOptions } from '../src/log-writer.js';

const NOW = Date.parse('2025-01-01T09:00:00.000Z');

function capture(options: LogWriterOptions = {}) {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const write = createLogWriter(stream, { now: () => NOW, ...options });
  return { write, lines: () => chunks.join('').split('\n').slice(0, -1), raw: () => chunks.join('') };
}

describe('json format', () => {
  it('writes one JSON object per line with the envelope and lateness', () => {
    const { write, lines } = capture();
    write({
      target: 'log',
      alarmId: 3,
      attempt: 2,
      scheduledFor: NOW - 120,
      firedAt: NOW - 20,
      message: { type: 'x' },
    });
    write({ message: 'second' });
    expect(lines().map((l) => JSON.parse(l))).toEqual([
      {
        time: '2025-01-01T09:00:00.000Z',
        target: 'log',
        alarmId: 3,
        attempt: 2,
        scheduledFor: NOW - 120,
        firedAt: NOW - 20,
        lateMs: 100,
        message: { type: 'x' },
      },
      { time: '2025-01-01T09:00:00.000Z', message: 'second' },
    ]);
  });

  it('keeps one line when the message holds line breaks', () => {
    const { write, lines } = capture();
    write({ message: { text: 'a\nb\r\nc' } });
    expect(lines()).toHaveLength(1);
    expect(JSON.parse(lines()[0]!).message.text).toBe('a\nb\r\nc');
  });

  it('survives cyclic, BigInt and Error messages', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const { write, lines } = capture();
    expect(() => write({ message: cyclic })).not.toThrow();
    write({ message: { n: 10n, err: new Error('boom') } });
    const [first, second] = lines().map((l) => JSON.parse(l));
    expect(first.message).toBe('[unserialisable message]');
    expect(second.message).toEqual({ n: '10', err: { name: 'Error', message: 'boom' } });
  });
});

describe('text format', () => {
  it('writes a readable line', () => {
    const { write, lines } = capture({ format: 'text' });
    write({ target: 'log', alarmId: 3, attempt: 1, message: { type: 'backup' } });
    write({
      target: 'log',
      alarmId: 4,
      attempt: 2,
      scheduledFor: Date.parse('2025-01-01T08:59:59.000Z'),
      firedAt: Date.parse('2025-01-01T09:00:00.500Z'),
      message: 'plain text',
    });
    expect(lines()).toEqual([
      '2025-01-01T09:00:00.000Z log alarm #3 attempt 1: {"type":"backup"}',
      '2025-01-01T09:00:00.000Z log alarm #4 attempt 2 (due 2025-01-01T08:59:59.000Z, 1500 ms late): plain text',
    ]);
  });

  it('escapes line breaks so a message cannot forge a second line', () => {
    const { write, raw } = capture({ format: 'text' });
    write({ target: 'a\nb', message: 'one\nFAKE LINE' });
    expect(raw()).toBe('2025-01-01T09:00:00.000Z a\\nb: one\\nFAKE LINE\n');
  });

  it('shows an early firing and an unserialisable message', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const { write, lines } = capture({ format: 'text' });
    write({ scheduledFor: NOW, firedAt: NOW - 5, message: cyclic });
    write({ message: undefined });
    expect(lines()).toEqual([
      '2025-01-01T09:00:00.000Z (due 2025-01-01T09:00:00.000Z, 5 ms early): [unserialisable message]',
      '2025-01-01T09:00:00.000Z: undefined',
    ]);
  });
});

it('rejects an unknown format at creation', () => {
  expect(() => createLogWriter(new PassThrough(), { format: 'xml' as never })).toThrow(RangeError);
});

it('uses the real clock by default', () => {
  const stream = new PassThrough();
  const write = createLogWriter(stream);
  const before = Date.now();
  write({ message: 1 });
  const { time } = JSON.parse(String(stream.read()));
  expect(Date.parse(time)).toBeGreaterThanOrEqual(before);
});
