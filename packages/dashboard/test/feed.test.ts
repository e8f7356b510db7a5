/**
 * The live feed's throttle: 10,000 alarms delivered in one second reach a browser as one message
 * per interval (four at 250 ms), each a few kilobytes at most, with every event counted. Fake
 * timers drive the interval, so the test counts batches, not wall time.
 */
import type { ServerResponse } from 'node:http';
import { createRuntime } from '@vigil/runtime';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { type Batch, Feed } from '../src/feed.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** An SSE client that records what the feed writes to it. */
function client() {
  const messages: Batch[] = [];
  const sizes: number[] = [];
  const res = {
    writeHead: () => res,
    write: (chunk: string) => {
      if (!chunk.startsWith('data: ')) return true;
      sizes.push(Buffer.byteLength(chunk));
      messages.push(JSON.parse(chunk.slice('data: '.length)) as Batch);
      return true;
    },
    on: () => res,
    end: () => res,
  };
  return { res: res as unknown as ServerResponse, messages, sizes };
}

it('10,000 deliveries in one second become four messages of at most a few kB', () => {
  const runtime = createRuntime();
  const feed = new Feed(runtime, 250);
  const browser = client();
  feed.attach(browser.res);
  const now = Date.now();
  for (let quarter = 0; quarter < 4; quarter++) {
    for (let i = 0; i < 2_500; i++) {
      const id = quarter * 2_500 + i + 1;
      runtime.events.emit('alarm.delivered', {
        id,
        occurrence: 1,
        target: 'Log',
        attempt: 1,
        lateMs: 1,
        at: now,
      });
    }
    vi.advanceTimersByTime(250);
  }
  // A quiet interval sends nothing.
  vi.advanceTimersByTime(1_000);
  feed.close();
  expect(browser.messages).toHaveLength(4);
  expect(browser.messages.map((m) => m.counts['alarm.delivered'])).toEqual([2_500, 2_500, 2_500, 2_500]);
  // The last events of each batch are shown (20), never all of them.
  expect(browser.messages.every((m) => m.recent.length === 20)).toBe(true);
  expect(Math.max(...browser.sizes)).toBeLessThan(4_096);
});
