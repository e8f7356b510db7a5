/**
 * The Pushover target through a real runtime and alarm service (SQLite file, ManualClock),
 * against the fake Pushover server on 127.0.0.1. One case per answer class:
 *
 *   answer                      alarm outcome
 *   200                         fired, quota exposed (reply, query, event)
 *   invalid message (local)     failed, no request made
 *   400 with errors             failed with the API's errors, no retry
 *   429 / 500 / timeout         retried (durably, across a restart), then fired
 *   transient beyond maxRetries failed: gave up after N attempts
 *
 * and the secrets rule: the token and user key appear in no event, error, row or snapshot.
 */
import { ManualClock, worker } from '@vigil/runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PUSHOVER_QUOTA_QUERY, pushoverTarget } from '../src/pushover.js';
import type { PushoverQuota } from '../src/pushover-client.js';
import { type FakePushover, startFakePushover } from '../src/testing/fake-pushover.js';
import { exposed, type Harness, START, startHarness, tempDb } from './target-harness.js';

// Distinctive values, so a leak anywhere is caught by a plain substring search.
const TOKEN = 'tok3nSECRETaaaaaaaaaaaaaaaaaaa';
const USER = 'us3rSECRETbbbbbbbbbbbbbbbbbbbb';

let fake: FakePushover;
let h: Harness | undefined;
let db: ReturnType<typeof tempDb>;

beforeAll(async () => {
  fake = await startFakePushover({ token: TOKEN, user: USER });
});
afterAll(() => fake.close());
afterEach(async () => {
  await h?.stop();
  h = undefined;
  db?.cleanup();
  fake.mode('ok');
  fake.messages.length = 0;
});

function pushover(extra: Parameters<typeof pushoverTarget>[0] = {}) {
  return worker('Pushover', pushoverTarget({ token: TOKEN, user: USER, baseUrl: fake.baseUrl, ...extra }));
}

async function start(extra: Parameters<typeof pushoverTarget>[0] = {}): Promise<Harness> {
  db = tempDb();
  h = await startHarness([pushover(extra)], { db: db.path });
  return h;
}

describe('Pushover target: delivered', () => {
  it('sends the notification, marks the alarm fired and exposes the quota', async () => {
    const { alarms, runtime, advanceUntilSettled, events } = await start();
    expect(await runtime.call('Pushover', { type: PUSHOVER_QUOTA_QUERY })).toBeNull();

    const alarm = await alarms.set(START + 1000, 'Pushover', {
      type: 'notify',
      message: 'Stand-up in 5 minutes',
      title: 'Stand-up',
      priority: 1,
      urlTitle: 'Agenda',
      url: 'https://example.com/agenda',
    });
    expect(await advanceUntilSettled(alarm.id, 1000)).toEqual({ kind: 'delivered', attempt: 1 });

    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]).toMatchObject({
      message: 'Stand-up in 5 minutes',
      title: 'Stand-up',
      priority: 1,
      urlTitle: 'Agenda',
    });
    expect((await alarms.get(alarm.id))?.status).toBe('fired');

    const quota = await runtime.call<PushoverQuota>('Pushover', { type: 'pushover.quota' });
    expect(quota).toMatchObject({ limit: 10_000, remaining: 9_999 });
    const quotaEvents = events.filter((e) => e.name === 'pushover.quota');
    expect(quotaEvents).toHaveLength(1);
    expect(quotaEvents[0]?.payload).toMatchObject({ target: 'Pushover', quota });
  });

  it('answers a direct call (no alarm) with the receipt and quota', async () => {
    const { runtime } = await start();
    const receipt = await runtime.call('Pushover', { type: 'notify', message: 'now' });
    expect(receipt).toMatchObject({ status: 200, requestId: expect.any(String), quota: { limit: 10_000 } });
    expect(fake.messages.map((m) => m.message)).toEqual(['now']);
  });
});

describe('Pushover target: refused for good', () => {
  it('fails an invalid message before any request', async () => {
    const { alarms, advanceUntilSettled } = await start();
    const before = fake.requestCount;
    const alarm = await alarms.set(START + 1000, 'Pushover', {
      type: 'notify',
      message: 'x',
      tittle: 'typo',
    });
    const outcome = await advanceUntilSettled(alarm.id, 1000);
    expect(outcome.kind).toBe('failed');
    expect(outcome.kind === 'failed' && outcome.reason).toContain(
      "'tittle' is not a Pushover notification field",
    );
    expect(fake.requestCount).toBe(before);
    expect(await alarms.get(alarm.id)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it("fails with the API's errors on a 400 and never retries", async () => {
    const { alarms, advanceUntilSettled, clock } = await start();
    fake.mode('invalid', 1);
    const before = fake.requestCount;
    const alarm = await alarms.set(START + 1000, 'Pushover', { type: 'notify', message: 'hello' });
    const outcome = await advanceUntilSettled(alarm.id, 1000);
    expect(outcome).toEqual({
      kind: 'failed',
      reason: expect.stringContaining('HTTP 400: user identifier is invalid'),
    });
    await clock.advance(3_600_000);
    expect(fake.requestCount).toBe(before + 1);
    const row = await alarms.get(alarm.id);
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row?.lastError).toContain('user identifier is invalid');
  });
});

describe('Pushover target: transient failures are retried by the alarm', () => {
  // The HTTP timeout is real time: 150 ms only where the case is the timeout (the fake answers
  // 3 s later), and 5 s where the case is the answer itself, which a loaded machine could
  // otherwise take more than 150 ms to read back.
  const cases = [
    { answer: '429 (rate limited)', mode: 'rate-limited' as const, reason: 'HTTP 429', timeoutMs: 5_000 },
    { answer: '500 (server error)', mode: 'server-error' as const, reason: 'HTTP 500', timeoutMs: 5_000 },
    {
      answer: 'an answer slower than timeoutMs',
      mode: { delayMs: 3_000 },
      reason: 'timeout after 150 ms',
      timeoutMs: 150,
    },
  ];
  for (const c of cases) {
    it(`retries after ${c.answer}, then delivers`, async () => {
      const { alarms, advanceUntilSettled, clock } = await start({ timeoutMs: c.timeoutMs });
      fake.mode(c.mode, 1);
      const alarm = await alarms.set(START + 1000, 'Pushover', { type: 'notify', message: 'retry me' });
      const first = await advanceUntilSettled(alarm.id, 1000);
      expect(first).toMatchObject({ kind: 'retried', attempt: 1, reason: expect.stringContaining(c.reason) });
      expect(fake.messages).toHaveLength(0);
      expect(await alarms.get(alarm.id)).toMatchObject({ status: 'pending', attempts: 1 });

      const wait = first.kind === 'retried' ? first.nextAt - clock.now() : 0;
      expect(wait).toBe(1000); // the alarm service's backoff: 1 s after the first attempt
      expect(await advanceUntilSettled(alarm.id, wait)).toEqual({ kind: 'delivered', attempt: 2 });
      expect(fake.messages.map((m) => m.message)).toEqual(['retry me']);
      expect((await alarms.get(alarm.id))?.status).toBe('fired');
    });
  }

  it('survives a restart between attempts: the retry is in the database', async () => {
    db = tempDb();
    const first = await startHarness([pushover()], { db: db.path });
    fake.mode('server-error', 1);
    const alarm = await first.alarms.set(START + 1000, 'Pushover', { type: 'notify', message: 'durable' });
    const outcome = await first.advanceUntilSettled(alarm.id, 1000);
    expect(outcome.kind).toBe('retried');
    const nextAt = outcome.kind === 'retried' ? outcome.nextAt : 0;
    const stoppedAt = first.clock.now();
    await first.stop();

    h = await startHarness([pushover()], { db: db.path, clock: new ManualClock(stoppedAt) });
    expect(await h.alarms.get(alarm.id)).toMatchObject({ status: 'pending', attempts: 1, fireAt: nextAt });
    expect(await h.advanceUntilSettled(alarm.id, nextAt - stoppedAt)).toEqual({
      kind: 'delivered',
      attempt: 2,
    });
    expect(fake.messages.map((m) => m.message)).toEqual(['durable']);
  });

  it('gives up after maxRetries retries and fails with the last reason', async () => {
    const { alarms, advanceUntilSettled, clock } = await start({ maxRetries: 1 });
    fake.mode('server-error');
    const alarm = await alarms.set(START + 1000, 'Pushover', { type: 'notify', message: 'never' });
    const first = await advanceUntilSettled(alarm.id, 1000);
    expect(first.kind).toBe('retried');
    const wait = first.kind === 'retried' ? first.nextAt - clock.now() : 0;
    const second = await advanceUntilSettled(alarm.id, wait);
    expect(second).toEqual({
      kind: 'failed',
      reason: expect.stringContaining('gave up after 2 attempts: HTTP 500'),
    });
    expect(await alarms.get(alarm.id)).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('holds a retry until the quota resets when the monthly quota is spent', async () => {
    const small = await startFakePushover({ token: TOKEN, user: USER, quota: 1 });
    try {
      db = tempDb();
      const now = Date.now();
      h = await startHarness(
        [worker('Pushover', pushoverTarget({ token: TOKEN, user: USER, baseUrl: small.baseUrl }))],
        { db: db.path, clock: new ManualClock(now) },
      );
      const a = await h.alarms.set(now + 1000, 'Pushover', { type: 'notify', message: 'one' });
      expect((await h.advanceUntilSettled(a.id, 1000)).kind).toBe('delivered');
      const b = await h.alarms.set(h.clock.now() + 1000, 'Pushover', { type: 'notify', message: 'two' });
      const outcome = await h.advanceUntilSettled(b.id, 1000);
      expect(outcome.kind).toBe('retried');
      const d = new Date(h.clock.now());
      const reset = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      // Retrying before the reset cannot succeed, so the retry waits for it, not for the backoff.
      expect(outcome.kind === 'retried' && outcome.nextAt).toBeGreaterThanOrEqual(reset - 1000);
      expect(await h.runtime.call('Pushover', { type: 'pushover.quota' })).toMatchObject({ remaining: 0 });
    } finally {
      await small.close();
    }
  });
});

describe('Pushover target: secrets', () => {
  it('never shows the token or user key in events, errors, rows, replies or state', async () => {
    const { alarms, advanceUntilSettled, clock, runtime, events } = await start({
      timeoutMs: 150,
      maxRetries: 3,
    });
    const seen: unknown[] = [];
    const ids: number[] = [];
    // One alarm per answer class, each run to its end.
    const plan = ['ok', 'invalid', 'rate-limited', 'server-error', { delayMs: 1000 }] as const;
    for (const mode of plan) {
      fake.mode(mode, 1);
      const alarm = await alarms.set(clock.now() + 1000, 'Pushover', { type: 'notify', message: 'm' });
      ids.push(alarm.id);
      let outcome = await advanceUntilSettled(alarm.id, 1000);
      while (outcome.kind === 'retried')
        outcome = await advanceUntilSettled(alarm.id, outcome.nextAt - clock.now());
      seen.push(outcome);
    }
    fake.mode('ok');
    // Errors a caller sees directly: an invalid message, and a refused one.
    seen.push(await runtime.call('Pushover', { type: 'notify', message: '' }).catch((e: unknown) => e));
    fake.mode('invalid', 1);
    seen.push(await runtime.call('Pushover', { type: 'notify', message: 'x' }).catch((e: unknown) => e));
    seen.push(await runtime.call('Pushover', { type: 'notify', message: 'ok' }));
    seen.push(await alarms.list());
    seen.push(runtime.snapshot('Pushover'));

    expect(events.some((e) => e.name === 'alarm.retried')).toBe(true);
    expect(events.some((e) => e.name === 'alarm.failed')).toBe(true);
    const text = exposed([events, seen]);
    expect(text).toContain('user identifier is invalid'); // the check reads real content
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(USER);
    expect(text).not.toContain(encodeURIComponent(TOKEN).slice(0, 12));
  });
});

describe('Pushover target: configuration is checked at boot', () => {
  it('fails without credentials, naming what is missing', () => {
    expect(() => pushoverTarget({ env: {} })).toThrow(/PUSHOVER_TOKEN/);
    expect(() => pushoverTarget({ token: TOKEN, env: {} })).toThrow(/PUSHOVER_USER/);
  });

  it('reads credentials from the environment', () => {
    expect(() => pushoverTarget({ env: { PUSHOVER_TOKEN: TOKEN, PUSHOVER_USER: USER } })).not.toThrow();
  });

  it('rejects a bad base URL, timeout or retry limit', () => {
    expect(() => pushoverTarget({ token: TOKEN, user: USER, baseUrl: 'ftp://x' })).toThrow(/baseUrl/);
    expect(() => pushoverTarget({ token: TOKEN, user: USER, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => pushoverTarget({ token: TOKEN, user: USER, maxRetries: -1 })).toThrow(/maxRetries/);
    for (const bad of [() => pushoverTarget({ token: TOKEN, user: USER, baseUrl: 'nope' })]) {
      try {
        bad();
      } catch (err) {
        expect(exposed(err)).not.toContain(TOKEN);
      }
    }
  });
});
