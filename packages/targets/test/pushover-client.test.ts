/**
 * sendPushover against the local fake: one case per answer class, the secrets rule checked on
 * every outcome and every error, and validation that rejects bad input before any request.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { redact } from '../src/http.js';
import type { PushoverCredentials, SendOutcome } from '../src/pushover-client.js';
import { resolvePushoverCredentials, sendPushover, validateNotification } from '../src/pushover-client.js';
import { type FakePushover, startFakePushover } from '../src/testing/fake-pushover.js';

// Distinctive values, so a leak anywhere is caught by a plain substring search.
const TOKEN = 'tok3nSECRETaaaaaaaaaaaaaaaaaaa';
const USER = 'us3rSECRETbbbbbbbbbbbbbbbbbbbb';
const creds: PushoverCredentials = { token: TOKEN, user: USER };

let fake: FakePushover;

beforeAll(async () => {
  fake = await startFakePushover({ token: TOKEN, user: USER });
});
afterEach(() => fake.mode('ok'));
afterAll(() => fake.close());

/** Everything a caller could print about a value or an error. */
function exposed(value: unknown): string {
  const parts = [JSON.stringify(value) ?? '', String(value)];
  let current: unknown = value;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    parts.push(String(current), current.stack ?? '', current.message, JSON.stringify(current));
    current = current.cause;
  }
  if (current !== undefined && current !== value) parts.push(JSON.stringify(current) ?? String(current));
  return parts.join('\n');
}

function expectNoSecrets(value: unknown): void {
  const text = exposed(value);
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(USER);
}

async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('answer classes', () => {
  it('success: 200 with request id and the quota parsed from the headers', async () => {
    const before = fake.messages.length;
    const outcome = await sendPushover(
      creds,
      {
        message: 'disk full',
        title: 'host-1',
        priority: 1,
        urlTitle: 'graph',
        url: 'https://x.test/g',
        html: true,
      },
      { baseUrl: fake.baseUrl },
    );
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.status).toBe(200);
    const [msg] = (await fake.waitFor(before + 1)).slice(before);
    expect(outcome.requestId).toBe(msg!.requestId);
    expect(msg).toMatchObject({
      message: 'disk full',
      title: 'host-1',
      priority: 1,
      url: 'https://x.test/g',
      urlTitle: 'graph',
      html: true,
      encoding: 'form',
    });
    expect(outcome.quota).toMatchObject({ limit: 10_000, remaining: 10_000 - fake.messages.length });
    expect(outcome.quota!.resetAt).toBeGreaterThan(Date.now());
    expect(outcome.quota!.resetAt % 1000).toBe(0);
    expectNoSecrets(outcome);
    expectNoSecrets(msg);
  });

  it('emergency priority: the receipt is returned', async () => {
    const outcome = await sendPushover(
      creds,
      { message: 'fire', priority: 2, retry: 60, expire: 3600 },
      { baseUrl: fake.baseUrl },
    );
    expect(outcome).toMatchObject({ ok: true, receipt: expect.stringMatching(/^[0-9a-f]{30}$/) });
  });

  it('the quota counts down with each accepted message', async () => {
    const a = await sendPushover(creds, { message: 'one' }, { baseUrl: fake.baseUrl });
    const b = await sendPushover(creds, { message: 'two' }, { baseUrl: fake.baseUrl });
    expect(a.quota!.remaining - b.quota!.remaining).toBe(1);
  });

  it('validation error (wrong token): permanent, with the API errors', async () => {
    const outcome = await sendPushover(
      { token: 'wrongwrongwrongwrongwrongwrong', user: USER },
      { message: 'x' },
      { baseUrl: fake.baseUrl },
    );
    expect(outcome).toMatchObject({
      ok: false,
      permanent: true,
      status: 400,
      errors: ['application token is invalid'],
      reason: 'HTTP 400: application token is invalid',
    });
    expectNoSecrets(outcome);
  });

  it("validation error (mode 'invalid'): permanent, with the API errors", async () => {
    fake.mode('invalid', 1);
    const outcome = await sendPushover(creds, { message: 'x' }, { baseUrl: fake.baseUrl });
    expect(outcome).toMatchObject({
      ok: false,
      permanent: true,
      status: 400,
      errors: ['user identifier is invalid'],
    });
    expectNoSecrets(outcome);
  });

  it('429 over quota: transient, with the quota', async () => {
    fake.mode('rate-limited', 1);
    const outcome = await sendPushover(creds, { message: 'x' }, { baseUrl: fake.baseUrl });
    expect(outcome).toMatchObject({ ok: false, permanent: false, status: 429 });
    if (outcome.ok) return;
    expect(outcome.errors[0]).toMatch(/limit/);
    expect(outcome.quota?.limit).toBe(10_000);
    expectNoSecrets(outcome);
  });

  it('429 with the quota spent: retryAfterMs points at the quota reset', async () => {
    const tiny = await startFakePushover({ token: TOKEN, user: USER, quota: 1 });
    try {
      expect((await sendPushover(creds, { message: 'a' }, { baseUrl: tiny.baseUrl })).ok).toBe(true);
      const now = Date.now();
      const outcome = await sendPushover(creds, { message: 'b' }, { baseUrl: tiny.baseUrl, now: () => now });
      expect(outcome).toMatchObject({ ok: false, permanent: false, status: 429, quota: { remaining: 0 } });
      if (outcome.ok) return;
      expect(outcome.retryAfterMs).toBe(outcome.quota!.resetAt - now);
    } finally {
      await tiny.close();
    }
  });

  it('500 with a non-JSON body: transient', async () => {
    fake.mode('server-error', 1);
    const outcome = await sendPushover(creds, { message: 'x' }, { baseUrl: fake.baseUrl });
    expect(outcome).toEqual({ ok: false, permanent: false, status: 500, errors: [], reason: 'HTTP 500' });
  });

  it('slow answer beyond timeoutMs: transient timeout, returned promptly', async () => {
    fake.mode({ delayMs: 2_000 }, 1);
    const started = Date.now();
    const outcome = await sendPushover(creds, { message: 'x' }, { baseUrl: fake.baseUrl, timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(outcome).toEqual({ ok: false, permanent: false, errors: [], reason: 'timeout after 100 ms' });
  });

  it('slow answer within timeoutMs: delivered', async () => {
    fake.mode({ delayMs: 50 }, 1);
    const outcome = await sendPushover(creds, { message: 'x' }, { baseUrl: fake.baseUrl, timeoutMs: 2_000 });
    expect(outcome.ok).toBe(true);
  });

  it('connection refused: transient network error', async () => {
    const gone = await startFakePushover();
    await gone.close();
    const outcome = await sendPushover(creds, { message: 'x' }, { baseUrl: gone.baseUrl });
    expect(outcome).toEqual({
      ok: false,
      permanent: false,
      errors: [],
      reason: 'network error: ECONNREFUSED',
    });
  });

  it('an abort from outside: transient, reported as aborted', async () => {
    fake.mode({ delayMs: 2_000 }, 1);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const outcome = await sendPushover(
      creds,
      { message: 'x' },
      { baseUrl: fake.baseUrl, signal: controller.signal },
    );
    expect(outcome).toEqual({ ok: false, permanent: false, errors: [], reason: 'request aborted' });
    const already = await sendPushover(
      creds,
      { message: 'x' },
      { baseUrl: fake.baseUrl, signal: controller.signal },
    );
    expect(already).toMatchObject({ ok: false, reason: 'request aborted' });
  });

  it('the mode returns to normal after `count` requests', async () => {
    fake.mode('server-error', 2);
    const results = [];
    for (let i = 0; i < 3; i++)
      results.push(await sendPushover(creds, { message: `m${i}` }, { baseUrl: fake.baseUrl }));
    expect(results.map((r) => r.ok)).toEqual([false, false, true]);
  });
});

describe('secrets', () => {
  it('a fetch that throws with the URL and body in its message is scrubbed', async () => {
    const leaky = (async (url: string | URL | Request, init?: RequestInit) => {
      throw new Error(`request to ${String(url)} failed, body: ${String(init?.body)}`);
    }) as typeof fetch;
    const outcome = await sendPushover(creds, { message: 'x' }, { baseUrl: fake.baseUrl, fetch: leaky });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.permanent).toBe(false);
    expect(outcome.reason).toMatch(/^network error: Error: request to /);
    expectNoSecrets(outcome);
  });

  it('a fetch error with a system code is reported by its code alone', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error(`connect ${TOKEN}`), { code: 'ENOTFOUND' }),
      });
    }) as typeof fetch;
    const outcome = await sendPushover(creds, { message: 'x' }, { fetch: failing });
    expect(outcome).toMatchObject({ ok: false, permanent: false, reason: 'network error: ENOTFOUND' });
    expectNoSecrets(outcome);
  });

  it('an answer that echoes the credentials is redacted', async () => {
    const echo = (async () =>
      new Response(JSON.stringify({ status: 0, errors: [`token ${TOKEN} and user ${USER} are invalid`] }), {
        status: 400,
      })) as typeof fetch;
    const outcome = await sendPushover(creds, { message: 'x' }, { fetch: echo });
    expect(outcome).toMatchObject({
      ok: false,
      permanent: true,
      errors: ['token [redacted] and user [redacted] are invalid'],
    });
    expectNoSecrets(outcome);
  });

  it('every outcome of every answer class is free of secrets', async () => {
    const outcomes: SendOutcome[] = [];
    for (const mode of ['ok', 'invalid', 'rate-limited', 'server-error', { delayMs: 300 }] as const) {
      fake.mode(mode, 1);
      outcomes.push(await sendPushover(creds, { message: 'x' }, { baseUrl: fake.baseUrl, timeoutMs: 100 }));
    }
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, false, false]);
    for (const o of outcomes) expectNoSecrets(o);
  });

  it('errors thrown for bad input carry no secrets', async () => {
    const errors = [
      await thrown(() => sendPushover(creds, { message: '' }, { baseUrl: fake.baseUrl })),
      await thrown(() => sendPushover(creds, { message: 'x' }, { baseUrl: `ftp://${TOKEN}` })),
      await thrown(() => sendPushover({ token: TOKEN, user: '' }, { message: 'x' })),
      await thrown(() => resolvePushoverCredentials({ token: TOKEN }, {})),
    ];
    for (const err of errors) expectNoSecrets(err);
  });

  it('redact replaces raw and URL-encoded forms, longest first', () => {
    expect(redact('a=s3cr%2Bt&b=s3cr+t&c=s3cr t', ['s3cr t', 's3cr+t'])).toBe(
      'a=[redacted]&b=[redacted]&c=[redacted]',
    );
    expect(redact('abcdef', ['abc', 'abcdef'])).toBe('[redacted]');
    expect(redact('nothing here', ['', undefined])).toBe('nothing here');
  });
});

describe('credentials', () => {
  it('options win over the environment', () => {
    expect(
      resolvePushoverCredentials({ token: 'a', user: 'b' }, { PUSHOVER_TOKEN: 'x', PUSHOVER_USER: 'y' }),
    ).toEqual({ token: 'a', user: 'b' });
  });

  it('the environment fills what the options lack', () => {
    expect(resolvePushoverCredentials({ user: 'b' }, { PUSHOVER_TOKEN: ' x ' })).toEqual({
      token: 'x',
      user: 'b',
    });
  });

  it.each([
    ['token', {}, {}],
    ['token', { token: '  ' }, { PUSHOVER_USER: 'u' }],
    ['user', { token: 't' }, {}],
    ['user', {}, { PUSHOVER_TOKEN: 't', PUSHOVER_USER: '' }],
  ])('missing %s: PUSHOVER_NOT_CONFIGURED', (field, opts, env) => {
    expect(() => resolvePushoverCredentials(opts, env)).toThrow(
      expect.objectContaining({ code: 'PUSHOVER_NOT_CONFIGURED', field }),
    );
  });
});

describe('validation happens before any request', () => {
  const cases: [string, unknown][] = [
    ['(notification)', null],
    ['(notification)', 'hello'],
    ['message', {}],
    ['message', { message: '   ' }],
    ['message', { message: 'x'.repeat(1025) }],
    ['title', { message: 'x', title: 't'.repeat(251) }],
    ['url', { message: 'x', url: 'u'.repeat(513) }],
    ['urlTitle', { message: 'x', urlTitle: 'u'.repeat(101) }],
    ['url_title', { message: 'x', url_title: 'graph' }],
    ['tittle', { message: 'x', tittle: 'typo' }],
    ['priority', { message: 'x', priority: 3 }],
    ['priority', { message: 'x', priority: 1.5 }],
    ['retry', { message: 'x', priority: 2, expire: 60 }],
    ['retry', { message: 'x', priority: 2, retry: 29, expire: 60 }],
    ['expire', { message: 'x', priority: 2, retry: 30 }],
    ['expire', { message: 'x', priority: 2, retry: 30, expire: 10_801 }],
    ['retry', { message: 'x', retry: 60 }],
    ['html', { message: 'x', html: 1 }],
    ['device', { message: 'x', device: 'phone,bad name' }],
    ['timestamp', { message: 'x', timestamp: 1_700_000_000_000 }],
    ['ttl', { message: 'x', ttl: 0 }],
    ['sound', { message: 'x', sound: 7 }],
  ];

  it.each(cases)("'%s' is named in INVALID_NOTIFICATION", async (field, notification) => {
    const spy = vi.fn(fetch);
    const err = await thrown(() =>
      sendPushover(creds, notification as never, { baseUrl: fake.baseUrl, fetch: spy as typeof fetch }),
    );
    expect(err).toMatchObject({ code: 'INVALID_NOTIFICATION', field });
    expect(spy).not.toHaveBeenCalled();
  });

  it('code points, not UTF-16 units, are counted', () => {
    expect(validateNotification({ message: '😀'.repeat(1024) }).message).toHaveLength(2048);
  });

  it('a valid notification is returned clean, undefined fields dropped', () => {
    expect(validateNotification({ message: 'm', title: undefined, priority: 0, tags: undefined })).toEqual({
      message: 'm',
      priority: 0,
    });
  });

  it('bad options are typed errors and make no request', async () => {
    const requestsBefore = fake.requestCount;
    await expect(sendPushover(creds, { message: 'x' }, { baseUrl: 'not a url' })).rejects.toMatchObject({
      code: 'INVALID_PUSHOVER_OPTIONS',
      field: 'baseUrl',
    });
    await expect(
      sendPushover(creds, { message: 'x' }, { baseUrl: fake.baseUrl, timeoutMs: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_PUSHOVER_OPTIONS', field: 'timeoutMs' });
    await expect(
      sendPushover({ token: '', user: USER }, { message: 'x' }, { baseUrl: fake.baseUrl }),
    ).rejects.toMatchObject({
      code: 'PUSHOVER_NOT_CONFIGURED',
      field: 'token',
    });
    expect(fake.requestCount).toBe(requestsBefore);
  });

  it('a base URL with a path prefix is kept', async () => {
    const seen: string[] = [];
    const spy = (async (url: string | URL | Request) => {
      seen.push(String(url));
      return new Response(JSON.stringify({ status: 1, request: 'r' }), { status: 200 });
    }) as typeof fetch;
    await sendPushover(creds, { message: 'x' }, { baseUrl: 'https://proxy.test/pushover/', fetch: spy });
    expect(seen).toEqual(['https://proxy.test/pushover/1/messages.json']);
  });
});
