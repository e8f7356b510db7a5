/**
 * The Webhook target through a real runtime and alarm service (SQLite file, ManualClock), against
 * a small receiver on 127.0.0.1 that records each request and checks its signature:
 *
 *   answer                      alarm outcome
 *   200                         fired; body signed, alarm id and attempt in headers
 *   no url anywhere             failed, no request made
 *   400                         failed with the status and the answer's text, no retry
 *   503 / slower than timeout   retried (durably, across a restart), then fired
 *   503 with Retry-After        retried no earlier than the receiver asked
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock, worker } from '@vigil/runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webhookTarget } from '../src/webhook.js';
import { verifyWebhookSignature } from '../src/webhook-client.js';
import { exposed, type Harness, START, startHarness, tempDb } from './target-harness.js';

const SECRET = 'wh-SECRET-cccccccccccccccccccc';

/** How the receiver answers one request. */
interface Answer {
  status: number;
  delayMs?: number;
  headers?: Record<string, string>;
  body?: string;
}

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
}

let server: Server;
let base: string;
const received: Received[] = [];
let plan: Answer[] = [];
const waiters: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('end', () => {
      const answer = plan.shift() ?? { status: 200 };
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      };
      // Every request is recorded, whatever the answer; the test knows the answers from `plan`.
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        raw: Buffer.concat(chunks).toString('utf8'),
      });
      for (const w of waiters.splice(0)) w();
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let h: Harness | undefined;
let db: ReturnType<typeof tempDb>;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  db?.cleanup();
  received.length = 0;
  plan = [];
});

function hook(extra: Parameters<typeof webhookTarget>[0] = {}) {
  return worker('Webhook', webhookTarget({ url: `${base}/hooks/default`, secret: SECRET, ...extra }));
}

async function start(extra: Parameters<typeof webhookTarget>[0] = {}): Promise<Harness> {
  db = tempDb();
  h = await startHarness([hook(extra)], { db: db.path });
  return h;
}

function verified(r: Received, clock: ManualClock): boolean {
  return verifyWebhookSignature(
    r.raw,
    r.headers['x-vigil-signature'] as string | undefined,
    SECRET,
    r.headers['x-vigil-timestamp'] as string | undefined,
    { now: () => clock.now() },
  );
}

describe('Webhook target: delivered', () => {
  it('posts the body as signed JSON with the alarm id and attempt, and marks the alarm fired', async () => {
    const { alarms, advanceUntilSettled, clock } = await start({ headers: { authorization: 'Bearer abc' } });
    const alarm = await alarms.set(START + 1000, 'Webhook', { type: 'report.due', body: { report: 42 } });
    expect(await advanceUntilSettled(alarm.id, 1000)).toEqual({ kind: 'delivered', attempt: 1 });

    expect(received).toHaveLength(1);
    const [r] = received as [Received];
    expect(r.path).toBe('/hooks/default');
    expect(JSON.parse(r.raw)).toEqual({ report: 42 });
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.authorization).toBe('Bearer abc');
    expect(r.headers['x-vigil-alarm-id']).toBe(String(alarm.id));
    expect(r.headers['x-vigil-alarm-attempt']).toBe('1');
    expect(verified(r, clock)).toBe(true);
    expect((await alarms.get(alarm.id))?.status).toBe('fired');
  });

  it("posts the delivery itself when it has no body, to the delivery's own url", async () => {
    const { alarms, advanceUntilSettled } = await start();
    const alarm = await alarms.set(START + 1000, 'Webhook', {
      type: 'user.reminder',
      url: `${base}/hooks/other`,
      user: 7,
    });
    expect((await advanceUntilSettled(alarm.id, 1000)).kind).toBe('delivered');
    const [r] = received as [Received];
    expect(r.path).toBe('/hooks/other');
    expect(JSON.parse(r.raw)).toEqual({
      type: 'user.reminder',
      user: 7,
      alarm: {
        alarmId: alarm.id,
        occurrence: 1,
        occurrenceId: `${alarm.id}.1`,
        attempt: 1,
        firedAt: START + 1000,
        scheduledFor: START + 1000,
      },
    });
  });

  it('sends no signature without a secret', async () => {
    db = tempDb();
    h = await startHarness([worker('Webhook', webhookTarget({ url: `${base}/plain` }))], { db: db.path });
    expect(await h.runtime.call('Webhook', { type: 'ping', body: 'hi' })).toEqual({ status: 200 });
    expect(received[0]?.headers['x-vigil-signature']).toBeUndefined();
    expect(received[0]?.raw).toBe('"hi"');
  });
});

describe('Webhook target: refused for good', () => {
  it('fails a delivery without a url before any request', async () => {
    db = tempDb();
    h = await startHarness([worker('Webhook', webhookTarget())], { db: db.path });
    const alarm = await h.alarms.set(START + 1000, 'Webhook', { type: 'x' });
    const outcome = await h.advanceUntilSettled(alarm.id, 1000);
    expect(outcome).toEqual({ kind: 'failed', reason: expect.stringContaining("has no 'url'") });
    expect(received).toHaveLength(0);
  });

  it('fails on a 400 with the status and the answer, and never retries', async () => {
    const { alarms, advanceUntilSettled, clock } = await start();
    plan = [{ status: 400, body: 'field "report" is required' }];
    const alarm = await alarms.set(START + 1000, 'Webhook', { type: 'x', body: {} });
    const outcome = await advanceUntilSettled(alarm.id, 1000);
    expect(outcome).toEqual({ kind: 'failed', reason: expect.stringContaining('HTTP 400') });
    await clock.advance(3_600_000);
    expect(received).toHaveLength(1);
    expect(await alarms.get(alarm.id)).toMatchObject({ status: 'failed', attempts: 1 });
  });
});

describe('Webhook target: transient failures are retried by the alarm', () => {
  const cases: { answer: string; first: Answer; reason: string }[] = [
    { answer: '503', first: { status: 503 }, reason: 'HTTP 503' },
    {
      answer: 'an answer slower than timeoutMs',
      first: { status: 200, delayMs: 1000 },
      reason: 'timeout after 150 ms',
    },
  ];
  for (const c of cases) {
    it(`retries after ${c.answer}, then delivers`, async () => {
      const { alarms, advanceUntilSettled, clock } = await start({ timeoutMs: 150 });
      plan = [c.first];
      const alarm = await alarms.set(START + 1000, 'Webhook', { type: 'x', body: { n: 1 } });
      const first = await advanceUntilSettled(alarm.id, 1000);
      expect(first).toMatchObject({ kind: 'retried', attempt: 1, reason: expect.stringContaining(c.reason) });
      const wait = first.kind === 'retried' ? first.nextAt - clock.now() : 0;
      expect(await advanceUntilSettled(alarm.id, wait)).toEqual({ kind: 'delivered', attempt: 2 });
      expect(received).toHaveLength(2);
      expect(received[1]?.headers['x-vigil-alarm-attempt']).toBe('2');
      expect(verified(received[1] as Received, clock)).toBe(true);
    });
  }

  it("waits at least the receiver's Retry-After", async () => {
    const { alarms, advanceUntilSettled, clock } = await start();
    plan = [{ status: 503, headers: { 'retry-after': '120' } }];
    const alarm = await alarms.set(START + 1000, 'Webhook', { type: 'x', body: 1 });
    const first = await advanceUntilSettled(alarm.id, 1000);
    expect(first.kind === 'retried' && first.nextAt - clock.now()).toBe(120_000);
    expect(await advanceUntilSettled(alarm.id, 120_000)).toEqual({ kind: 'delivered', attempt: 2 });
  });

  it('survives a restart between attempts: the retry is in the database', async () => {
    db = tempDb();
    const first = await startHarness([hook()], { db: db.path });
    plan = [{ status: 503 }];
    const alarm = await first.alarms.set(START + 1000, 'Webhook', { type: 'x', body: 'durable' });
    const outcome = await first.advanceUntilSettled(alarm.id, 1000);
    expect(outcome.kind).toBe('retried');
    const nextAt = outcome.kind === 'retried' ? outcome.nextAt : 0;
    const stoppedAt = first.clock.now();
    await first.stop();

    h = await startHarness([hook()], { db: db.path, clock: new ManualClock(stoppedAt) });
    expect(await h.alarms.get(alarm.id)).toMatchObject({ status: 'pending', attempts: 1, fireAt: nextAt });
    expect(await h.advanceUntilSettled(alarm.id, nextAt - stoppedAt)).toEqual({
      kind: 'delivered',
      attempt: 2,
    });
    expect(received.map((r) => r.raw)).toEqual(['"durable"', '"durable"']);
  });

  it('gives up after maxRetries retries', async () => {
    const { alarms, advanceUntilSettled, clock } = await start({ maxRetries: 0 });
    plan = [{ status: 503 }];
    const alarm = await alarms.set(START + 1000, 'Webhook', { type: 'x', body: 1 });
    const outcome = await advanceUntilSettled(alarm.id, 1000);
    expect(outcome).toEqual({
      kind: 'failed',
      reason: expect.stringContaining('gave up after 1 attempt: HTTP 503'),
    });
    await clock.advance(60_000);
    expect(received).toHaveLength(1);
  });
});

describe('Webhook target: secrets and configuration', () => {
  it('never shows the secret in events, errors, rows, replies or state', async () => {
    const { alarms, advanceUntilSettled, clock, runtime, events } = await start({ timeoutMs: 150 });
    plan = [{ status: 200 }, { status: 400, body: 'no' }, { status: 503 }, { status: 200, delayMs: 1000 }];
    for (let i = 0; i < 3; i++) {
      const alarm = await alarms.set(clock.now() + 1000, 'Webhook', { type: 'x', body: i });
      let outcome = await advanceUntilSettled(alarm.id, 1000);
      while (outcome.kind === 'retried')
        outcome = await advanceUntilSettled(alarm.id, outcome.nextAt - clock.now());
    }
    const seen = [
      await runtime.call('Webhook', { type: 'x', url: 'not a url' }).catch((e: unknown) => e),
      await alarms.list(),
      runtime.snapshot('Webhook'),
    ];
    expect(events.some((e) => e.name === 'alarm.failed')).toBe(true);
    expect(events.some((e) => e.name === 'alarm.retried')).toBe(true);
    expect(exposed([events, seen])).not.toContain(SECRET);
  });

  it('rejects bad options at boot', () => {
    expect(() => webhookTarget({ url: 'ftp://example.com' })).toThrow(/INVALID_WEBHOOK|url/);
    expect(() => webhookTarget({ headers: { 'bad header': 'x' } })).toThrow(/headers/);
    expect(() => webhookTarget({ secret: '' })).toThrow(/secret/);
    expect(() => webhookTarget({ timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
