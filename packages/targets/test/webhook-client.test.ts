/**
 * sendWebhook against a local receiver: the signing contract as a receiver sees it, the status
 * classification matrix, Retry-After, timeouts and refused connections, secrets kept out, and
 * validation that rejects bad requests before any request is made.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { classifyStatus, parseRetryAfter } from '../src/http.js';
import {
  sendWebhook,
  signWebhookPayload,
  verifyWebhookSignature,
  type WebhookOutcome,
} from '../src/webhook-client.js';

const SECRET = 'whsec_SUPERsecret_value_123';

/** What the receiver does with the next request, and what it saw. */
interface Receiver {
  url: string;
  reply: { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };
  seen: { body: string; headers: IncomingHttpHeaders }[];
  server: Server;
}

let rx: Receiver;

beforeAll(async () => {
  const seen: Receiver['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      const { status, headers = {}, body = '', delayMs = 0 } = rx.reply;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(status, headers).end(body);
      }, delayMs);
    });
    res.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  rx = { url: `http://127.0.0.1:${port}/hook`, reply: { status: 200 }, seen, server };
});
beforeEach(() => {
  rx.reply = { status: 200 };
  rx.seen.length = 0;
});
afterAll(async () => {
  rx.server.closeAllConnections();
  await new Promise((resolve) => rx.server.close(resolve));
});

function expectNoSecret(value: unknown): void {
  const parts = [JSON.stringify(value), String(value)];
  if (value instanceof Error) parts.push(value.stack ?? '', String(value.cause));
  expect(parts.join('\n')).not.toContain(SECRET);
}

describe('signature', () => {
  const NOW = 1_700_000_000_000;

  it('a receiver verifies the signature from the raw body and the timestamp header', async () => {
    const outcome = await sendWebhook(
      { url: rx.url, body: { alarm: 7, text: 'héllo' }, secret: SECRET, headers: { 'x-extra': '1' } },
      { now: () => NOW },
    );
    expect(outcome).toEqual({ ok: true, status: 200 });
    const [got] = rx.seen;
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-extra']).toBe('1');
    expect(got!.headers['x-vigil-timestamp']).toBe('1700000000');
    expect(got!.headers['x-vigil-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(got!.body)).toEqual({ alarm: 7, text: 'héllo' });
    const verify = (
      body: string | Uint8Array,
      secret = SECRET,
      ts = got!.headers['x-vigil-timestamp'] as string,
    ) =>
      verifyWebhookSignature(body, got!.headers['x-vigil-signature'] as string, secret, ts, {
        now: () => NOW,
      });
    expect(verify(got!.body)).toBe(true);
    expect(verify(Buffer.from(got!.body))).toBe(true);
    expect(verify(got!.body.replace('7', '8'))).toBe(false);
    expect(verify(got!.body, 'another-secret')).toBe(false);
    // The timestamp is signed: a replay with a fresh timestamp fails.
    expect(verify(got!.body, SECRET, '1700000001')).toBe(false);
  });

  it('the signed payload is timestamp, a dot, then the body, as documented', () => {
    const expected = signWebhookPayload('{"a":1}', SECRET, 1_700_000_000);
    expect(signWebhookPayload(Buffer.from('{"a":1}'), SECRET, '1700000000')).toBe(expected);
    expect(expected).not.toBe(signWebhookPayload('1700000000{"a":1}', SECRET, ''));
  });

  it('an old timestamp is rejected as a replay, within tolerance accepted', () => {
    const body = '{}';
    const ts = 1_700_000_000;
    const header = signWebhookPayload(body, SECRET, ts);
    const at = (ms: number) =>
      verifyWebhookSignature(body, header, SECRET, ts, { now: () => ts * 1000 + ms });
    expect(at(4 * 60_000)).toBe(true);
    expect(at(-4 * 60_000)).toBe(true);
    expect(at(6 * 60_000)).toBe(false);
    expect(
      verifyWebhookSignature(body, header, SECRET, ts, { now: () => ts * 1000 + 6e5, toleranceMs: 1e6 }),
    ).toBe(true);
  });

  it.each([
    ['no header', undefined, '1700000000'],
    ['no timestamp', 'sha256=' + '0'.repeat(64), undefined],
    ['bad prefix', 'md5=' + '0'.repeat(64), '1700000000'],
    ['short hex', 'sha256=abcd', '1700000000'],
    ['non-numeric timestamp', 'sha256=' + '0'.repeat(64), 'soon'],
  ])('malformed input (%s) is false, not a throw', (_name, header, ts) => {
    expect(verifyWebhookSignature('{}', header, SECRET, ts, { now: () => 1_700_000_000_000 })).toBe(false);
  });

  it('a custom signature header is used; without a secret there is no signature', async () => {
    await sendWebhook({ url: rx.url, body: 1, secret: SECRET, signatureHeader: 'X-Hub-Signature-256' });
    await sendWebhook({ url: rx.url, body: 2 });
    expect(rx.seen[0]!.headers['x-hub-signature-256']).toMatch(/^sha256=/);
    expect(rx.seen[0]!.headers['x-vigil-signature']).toBeUndefined();
    expect(rx.seen[1]!.headers['x-vigil-signature']).toBeUndefined();
    expect(rx.seen[1]!.headers['x-vigil-timestamp']).toMatch(/^\d+$/);
  });

  it('caller headers cannot override the signature or content type', async () => {
    await sendWebhook({
      url: rx.url,
      body: {},
      secret: SECRET,
      headers: { 'X-Vigil-Signature': 'sha256=forged', 'Content-Type': 'text/plain' },
    });
    expect(rx.seen[0]!.headers['x-vigil-signature']).not.toBe('sha256=forged');
    expect(rx.seen[0]!.headers['content-type']).toBe('application/json');
  });
});

describe('classification', () => {
  it.each([
    [200, true, undefined],
    [201, true, undefined],
    [204, true, undefined],
    [400, false, true],
    [401, false, true],
    [404, false, true],
    [410, false, true],
    [422, false, true],
    [408, false, false],
    [425, false, false],
    [429, false, false],
    [500, false, false],
    [502, false, false],
    [503, false, false],
  ])('HTTP %i: ok=%s permanent=%s', async (status, ok, permanent) => {
    rx.reply = { status, body: status >= 400 ? `nope ${status}\n  details` : '' };
    const outcome = await sendWebhook({ url: rx.url, body: {}, secret: SECRET });
    expect(outcome.ok).toBe(ok);
    if (!outcome.ok) {
      expect(outcome).toMatchObject({
        permanent,
        status,
        reason: `HTTP ${status}`,
        errors: [`nope ${status} details`],
      });
    }
    expectNoSecret(outcome);
  });

  it('a redirect is not followed and is permanent', async () => {
    rx.reply = { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } };
    const outcome = await sendWebhook({ url: rx.url, body: {} });
    expect(outcome).toMatchObject({
      ok: false,
      permanent: true,
      status: 302,
      reason: 'HTTP 302: redirects are not followed',
    });
    expect(rx.seen).toHaveLength(1);
  });

  it('Retry-After in seconds becomes retryAfterMs', async () => {
    rx.reply = { status: 503, headers: { 'retry-after': '120' } };
    const outcome = await sendWebhook({ url: rx.url, body: {} });
    expect(outcome).toMatchObject({ ok: false, permanent: false, retryAfterMs: 120_000 });
  });

  it('Retry-After as an HTTP date becomes retryAfterMs from now', async () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    rx.reply = { status: 429, headers: { 'retry-after': 'Wed, 01 Jan 2025 00:01:30 GMT' } };
    const outcome = await sendWebhook({ url: rx.url, body: {} }, { now: () => now });
    expect(outcome).toMatchObject({ ok: false, permanent: false, retryAfterMs: 90_000 });
  });

  it('Retry-After is ignored on a permanent failure', async () => {
    rx.reply = { status: 400, headers: { 'retry-after': '10' } };
    const outcome = (await sendWebhook({ url: rx.url, body: {} })) as Extract<WebhookOutcome, { ok: false }>;
    expect(outcome.retryAfterMs).toBeUndefined();
  });

  it('a slow receiver beyond timeoutMs: transient timeout', async () => {
    rx.reply = { status: 200, delayMs: 2_000 };
    const started = Date.now();
    const outcome = await sendWebhook({ url: rx.url, body: {}, timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(outcome).toEqual({ ok: false, permanent: false, errors: [], reason: 'timeout after 100 ms' });
  });

  it('an abort from outside: transient, reported as aborted', async () => {
    rx.reply = { status: 200, delayMs: 2_000 };
    const outcome = await sendWebhook({ url: rx.url, body: {} }, { signal: AbortSignal.timeout(50) });
    expect(outcome).toEqual({ ok: false, permanent: false, errors: [], reason: 'request aborted' });
  });

  it('connection refused: transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await sendWebhook({ url: `http://127.0.0.1:${port}/hook`, body: {}, secret: SECRET });
    expect(outcome).toEqual({
      ok: false,
      permanent: false,
      errors: [],
      reason: 'network error: ECONNREFUSED',
    });
  });

  it('an error answer echoing the secret is redacted', async () => {
    rx.reply = { status: 400, body: `bad signature for secret ${SECRET}` };
    const outcome = await sendWebhook({ url: rx.url, body: {}, secret: SECRET });
    expect(outcome).toMatchObject({ ok: false, errors: ['bad signature for secret [redacted]'] });
    expectNoSecret(outcome);
  });

  it('a fetch that throws with the secret in its message is scrubbed', async () => {
    const leaky = (async (_url: string | URL | Request, init?: RequestInit) => {
      throw new Error(`failed with headers ${JSON.stringify(init?.headers)} and ${SECRET}`);
    }) as typeof fetch;
    const outcome = await sendWebhook({ url: rx.url, body: {}, secret: SECRET }, { fetch: leaky });
    expect(outcome).toMatchObject({ ok: false, permanent: false });
    expectNoSecret(outcome);
  });
});

describe('Retry-After parsing', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  it.each([
    ['0', 0],
    ['5', 5_000],
    [' 30 ', 30_000],
    ['Sun, 01 Jun 2025 12:00:10 GMT', 10_000],
    ['Sun, 01 Jun 2025 11:00:00 GMT', 0],
    ['', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    [null, undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('classifyStatus covers the matrix', () => {
    expect([200, 299, 301, 400, 408, 425, 429, 499, 500, 599].map(classifyStatus)).toEqual([
      'ok',
      'ok',
      'permanent',
      'permanent',
      'transient',
      'transient',
      'transient',
      'permanent',
      'transient',
      'transient',
    ]);
  });
});

describe('validation happens before any request', () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const cases: [string, unknown][] = [
    ['(request)', null],
    ['url', { body: {} }],
    ['url', { url: 'not a url', body: {} }],
    ['url', { url: 'ftp://example.com/x', body: {} }],
    ['url', { url: 'file:///etc/passwd', body: {} }],
    ['url', { url: `https://user:${SECRET}@example.com/`, body: {} }],
    ['body', { url: 'https://example.com', body: undefined }],
    ['body', { url: 'https://example.com', body: 10n }],
    ['body', { url: 'https://example.com', body: cycle }],
    ['headers.bad name', { url: 'https://example.com', body: {}, headers: { 'bad name': 'x' } }],
    ['headers.x-a', { url: 'https://example.com', body: {}, headers: { 'x-a': 'one\r\nx-b: two' } }],
    ['secret', { url: 'https://example.com', body: {}, secret: '' }],
    ['signatureHeader', { url: 'https://example.com', body: {}, secret: SECRET, signatureHeader: 'a:b' }],
    ['timeoutMs', { url: 'https://example.com', body: {}, timeoutMs: -1 }],
  ];

  it.each(cases)("'%s' is named in INVALID_WEBHOOK", async (field, req) => {
    const spy = vi.fn(fetch);
    const err = await sendWebhook(req as never, { fetch: spy as typeof fetch }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_WEBHOOK', field });
    expect(spy).not.toHaveBeenCalled();
    expectNoSecret(err);
  });
});
