/**
 * The fake Pushover server, driven with raw HTTP so it is checked against the API itself rather
 * than against our client: credentials, validation, both body encodings, quota headers, modes,
 * waiting, and a close that never hangs.
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakePushover, startFakePushover } from '../src/testing/fake-pushover.js';

let fake: FakePushover;

beforeAll(async () => {
  fake = await startFakePushover();
});
afterEach(() => fake.mode('ok'));
afterAll(() => fake.close());

function form(fields: Record<string, string>) {
  return {
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

async function post(
  f: FakePushover,
  req: { body: string; headers: Record<string, string> },
  path = '/1/messages.json',
): Promise<{ status: number; json: Record<string, unknown> | undefined; headers: Headers }> {
  const res = await fetch(`${f.baseUrl}${path}`, { method: 'POST', ...req });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, headers: res.headers };
}

describe('the Pushover API', () => {
  it('accepts a form-encoded message: 200, status 1, request id, quota headers', async () => {
    const before = fake.messages.length;
    const res = await post(
      fake,
      form({ token: fake.token, user: fake.user, message: 'hi', title: 't', url_title: 'u' }),
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 1, request: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(res.headers.get('x-limit-app-limit')).toBe('10000');
    expect(Number(res.headers.get('x-limit-app-remaining'))).toBe(10_000 - fake.messages.length);
    expect(Number(res.headers.get('x-limit-app-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(fake.messages[before]).toMatchObject({
      message: 'hi',
      title: 't',
      urlTitle: 'u',
      encoding: 'form',
      requestId: res.json!.request,
    });
  });

  it('accepts a JSON message', async () => {
    const before = fake.messages.length;
    const res = await post(fake, {
      body: JSON.stringify({ token: fake.token, user: fake.user, message: 'json', priority: -1 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(fake.messages[before]).toMatchObject({ message: 'json', priority: -1, encoding: 'json' });
  });

  it('keeps received messages without token or user', async () => {
    await post(fake, form({ token: fake.token, user: fake.user, message: 'private' }));
    const text = JSON.stringify(fake.messages);
    expect(text).not.toContain(fake.token);
    expect(text).not.toContain(fake.user);
    for (const m of fake.messages) expect(Object.keys(m)).not.toEqual(expect.arrayContaining(['token']));
  });

  it.each([
    ['wrong token', { token: 'nope', message: 'x' }, ['application token is invalid'], 'token'],
    [
      'wrong user',
      { user: 'nope', message: 'x' },
      ['user identifier is not a valid user, group, or subscribed user key'],
      'user',
    ],
    ['missing message', {}, ['message cannot be blank'], undefined],
    [
      'message too long',
      { message: 'x'.repeat(1025) },
      ['message cannot be longer than 1024 characters'],
      undefined,
    ],
    [
      'emergency without retry',
      { message: 'x', priority: '2', expire: '60' },
      ['retry is invalid; must be at least 30 seconds'],
      undefined,
    ],
  ])('%s: 400 with status 0 and the errors', async (_name, fields, errors, field) => {
    const before = fake.messages.length;
    const res = await post(fake, form({ token: fake.token, user: fake.user, ...fields }));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ status: 0, errors, request: expect.any(String) });
    if (field) expect(res.json![field]).toBe('invalid');
    expect(fake.messages.length).toBe(before);
  });

  it('refuses an unparseable body and an unknown path', async () => {
    expect((await post(fake, { body: '{', headers: { 'content-type': 'application/json' } })).status).toBe(
      400,
    );
    expect((await post(fake, form({}), '/1/nope.json')).status).toBe(404);
  });

  it('answers 429 once the quota is spent', async () => {
    const tiny = await startFakePushover({ quota: 1 });
    try {
      const ok = await post(tiny, form({ token: tiny.token, user: tiny.user, message: 'a' }));
      expect(ok.headers.get('x-limit-app-remaining')).toBe('0');
      const res = await post(tiny, form({ token: tiny.token, user: tiny.user, message: 'b' }));
      expect(res.status).toBe(429);
      expect((res.json!.errors as string[])[0]).toMatch(/limit/);
    } finally {
      await tiny.close();
    }
  });
});

describe('modes', () => {
  const valid = () => form({ token: fake.token, user: fake.user, message: 'x' });

  it.each([
    ['invalid', 400],
    ['rate-limited', 429],
    ['server-error', 500],
  ] as const)("'%s' answers %i and records nothing", async (mode, status) => {
    const before = fake.messages.length;
    fake.mode(mode, 1);
    expect((await post(fake, valid())).status).toBe(status);
    expect(fake.messages.length).toBe(before);
  });

  it('a mode with a count covers exactly that many requests', async () => {
    fake.mode('server-error', 2);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(fake, valid())).status);
    expect(statuses).toEqual([500, 500, 200]);
  });

  it('a mode without a count lasts until changed, and a counted one returns to it', async () => {
    fake.mode('rate-limited');
    fake.mode('invalid', 1);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(fake, valid())).status);
    fake.mode('ok');
    statuses.push((await post(fake, valid())).status);
    expect(statuses).toEqual([400, 429, 429, 200]);
  });

  it('a delay holds the answer, then answers normally', async () => {
    fake.mode({ delayMs: 150 }, 1);
    const started = Date.now();
    expect((await post(fake, valid())).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('rejects a nonsensical count', () => {
    expect(() => fake.mode('ok', 0)).toThrow(RangeError);
  });

  it('counts every request, accepted or not', async () => {
    const before = fake.requestCount;
    fake.mode('server-error', 1);
    await post(fake, valid());
    await post(fake, valid());
    expect(fake.requestCount).toBe(before + 2);
  });
});

describe('waiting and closing', () => {
  it('waitFor resolves when the nth message arrives', async () => {
    const f = await startFakePushover();
    try {
      const waiting = f.waitFor(2);
      await post(f, form({ token: f.token, user: f.user, message: 'a' }));
      await post(f, form({ token: f.token, user: f.user, message: 'b' }));
      expect((await waiting).map((m) => m.message)).toEqual(['a', 'b']);
      expect((await f.waitFor(1)).length).toBe(2);
    } finally {
      await f.close();
    }
  });

  it('waitFor rejects with a typed error on timeout', async () => {
    await expect(fake.waitFor(fake.messages.length + 1, 50)).rejects.toMatchObject({
      code: 'FAKE_PUSHOVER_TIMEOUT',
    });
  });

  it('close is idempotent, rejects waiters, and does not hang on keep-alive or delayed requests', async () => {
    const f = await startFakePushover();
    // A keep-alive connection held open by fetch, and a request the server is still delaying.
    await post(f, form({ token: f.token, user: f.user, message: 'a' }));
    f.mode({ delayMs: 60_000 });
    const pending = post(f, form({ token: f.token, user: f.user, message: 'b' })).catch(
      (err: unknown) => err,
    );
    const waiting = f.waitFor(5, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const first = f.close();
    expect(f.close()).toBe(first);
    await first;
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(waiting).rejects.toMatchObject({ code: 'FAKE_PUSHOVER_CLOSED' });
    expect(await pending).toBeInstanceOf(Error);
  });

  it('binds 127.0.0.1 only', async () => {
    expect(fake.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves a raw keep-alive HTTP/1.1 client too', async () => {
    const { hostname, port } = new URL(fake.baseUrl);
    const body = new URLSearchParams({ token: fake.token, user: fake.user, message: 'raw' }).toString();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: hostname,
          port,
          method: 'POST',
          path: '/1/messages.json',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
  });
});
