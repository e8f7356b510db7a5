/**
 * The Log target through a real runtime and alarm service: one line per delivery, in JSON lines or
 * text, each acknowledged (the alarm is marked fired).
 */
import { PassThrough } from 'node:stream';
import { worker } from '@vigil/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { logTarget } from '../src/log.js';
import { type Harness, START, startHarness, tempDb } from './target-harness.js';

let h: Harness | undefined;
let db: ReturnType<typeof tempDb>;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  db?.cleanup();
});

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') };
}

async function start(format?: 'json' | 'text') {
  const out = capture();
  db = tempDb();
  h = await startHarness([worker('Log', logTarget({ stream: out.stream, ...(format ? { format } : {}) }))], {
    db: db.path,
  });
  return { ...h, lines: out.lines };
}

describe('Log target', () => {
  it('writes one JSON line per delivery and acknowledges each', async () => {
    const { alarms, advanceUntilSettled, lines } = await start();
    const a = await alarms.set(START + 1000, 'Log', { type: 'backup.done', size: 42 });
    const b = await alarms.set(START + 2000, 'Log', { type: 'note', text: 'two\nlines' });
    expect(await advanceUntilSettled(a.id, 1000)).toEqual({ kind: 'delivered', attempt: 1 });
    expect(await advanceUntilSettled(b.id, 1000)).toEqual({ kind: 'delivered', attempt: 1 });

    const records = lines().map((l) => JSON.parse(l));
    expect(records).toEqual([
      {
        time: new Date(START + 1000).toISOString(),
        target: 'Log',
        alarmId: a.id,
        attempt: 1,
        scheduledFor: START + 1000,
        firedAt: START + 1000,
        lateMs: 0,
        message: { type: 'backup.done', size: 42 },
      },
      expect.objectContaining({ alarmId: b.id, message: { type: 'note', text: 'two\nlines' } }),
    ]);
    expect((await alarms.list({ status: 'fired' })).map((x) => x.id)).toEqual([a.id, b.id]);
  });

  it('writes readable text lines, one per delivery even for a multi-line message', async () => {
    const { alarms, advanceUntilSettled, lines } = await start('text');
    const a = await alarms.set(START + 1000, 'Log', { type: 'note', text: 'a\nb' });
    await advanceUntilSettled(a.id, 1000);
    expect(lines()).toEqual([
      `${new Date(START + 1000).toISOString()} Log alarm #${a.id} attempt 1 (due ${new Date(START + 1000).toISOString()}): {"type":"note","text":"a\\nb"}`,
    ]);
  });

  it('logs a message sent directly, without alarm fields', async () => {
    const { runtime, lines } = await start();
    await runtime.call('Log', { type: 'hello' });
    expect(JSON.parse(lines()[0] ?? '{}')).toEqual({
      time: new Date(START).toISOString(),
      target: 'Log',
      message: { type: 'hello' },
    });
  });

  it('rejects an unknown format at boot', () => {
    expect(() => logTarget({ format: 'xml' as 'json' })).toThrow(/unknown log format/);
  });
});
