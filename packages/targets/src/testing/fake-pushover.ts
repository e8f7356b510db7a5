/**
 * A local HTTP server that speaks the Pushover messages API, for tests and for examples run
 * without a real token. It answers like the real service: it checks the token and user key,
 * rejects a blank message with a 400 and an `errors` array, counts a monthly quota down in the
 * `X-Limit-App-*` headers, and can be switched to misbehave (reject, rate-limit, fail, stall) so a
 * client's handling of every answer class can be exercised.
 *
 * It binds 127.0.0.1 only. Received messages are kept decoded and without the token or user key,
 * so a test can print them freely.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakePushoverClosedError, FakePushoverTimeoutError } from '../errors.js';
import type { PushoverNotification, PushoverPriority } from '../pushover-client.js';

/** How the fake answers: normally, or with one of the API's failure classes. */
export type FakePushoverMode =
  | 'ok'
  /** 400 with `errors: ['user identifier is invalid']`, whatever the request. */
  | 'invalid'
  /** 429 with a quota error, as when the app's monthly limit is spent. */
  | 'rate-limited'
  /** 500 with a non-JSON body, as from a failing load balancer. */
  | 'server-error'
  /** Wait this long, then answer normally; for client timeouts. */
  | { delayMs: number };

/** A message the fake accepted, decoded into `PushoverNotification` shape, credentials removed. */
export interface ReceivedMessage extends PushoverNotification {
  /** The `request` id the fake answered with. */
  requestId: string;
  /** Emergency receipt, for priority 2. */
  receipt?: string;
  /** Epoch ms when it arrived. */
  receivedAt: number;
  /** How the body was encoded. */
  encoding: 'form' | 'json';
}

/** A running fake Pushover server. */
export interface FakePushover {
  /** Pass as `baseUrl` to `sendPushover`, e.g. `http://127.0.0.1:53211`. */
  readonly baseUrl: string;
  /** The app token it accepts. */
  readonly token: string;
  /** The user key it accepts. */
  readonly user: string;
  /** Accepted messages in arrival order (the live array). */
  readonly messages: ReceivedMessage[];
  /** Every HTTP request received, accepted or not; lets a test assert that no request was made. */
  readonly requestCount: number;
  /**
   * Sets how the next `count` requests are answered; without `count`, every request until the
   * next call. After `count` requests it returns to the mode set without a count (initially 'ok').
   */
  mode(next: FakePushoverMode, count?: number): void;
  /** Resolves with the messages once at least `n` were accepted; rejects after `timeoutMs` (default 5000). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  /** Stops the server, dropping open connections. Idempotent: every call returns the same promise. */
  close(): Promise<void>;
}

/** Options of `startFakePushover`. */
export interface FakePushoverOptions {
  /** Token to accept; default a fixed 30-character fake. */
  token?: string;
  /** User key to accept; default a fixed 30-character fake. */
  user?: string;
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** Monthly message quota reported in the headers; default 10000. */
  quota?: number;
}

/** Token accepted by default; shaped like a real one (30 alphanumerics). */
export const FAKE_PUSHOVER_TOKEN = 'afakeappt0ken0000000000000000a';
/** User key accepted by default. */
export const FAKE_PUSHOVER_USER = 'ufakeuserkey000000000000000000';

/** Bodies above this are refused with 413; the real API's own limit is far below it. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Starts a fake Pushover server on 127.0.0.1.
 *
 * @example
 * const fake = await startFakePushover();
 * await sendPushover(fake, { message: 'hi' }, { baseUrl: fake.baseUrl });
 * await fake.waitFor(1);
 * await fake.close();
 */
export async function startFakePushover(options: FakePushoverOptions = {}): Promise<FakePushover> {
  const token = options.token ?? FAKE_PUSHOVER_TOKEN;
  const user = options.user ?? FAKE_PUSHOVER_USER;
  const limit = options.quota ?? 10_000;
  let remaining = limit;
  const messages: ReceivedMessage[] = [];
  let requestCount = 0;
  let baseMode: FakePushoverMode = 'ok';
  let override: { mode: FakePushoverMode; remaining: number } | undefined;
  let closing: Promise<void> | undefined;
  const delays = new Set<NodeJS.Timeout>();
  const waiters = new Set<{ n: number; resolve: () => void; reject: (err: Error) => void }>();

  /** Each request consumes one unit of an override, so `mode(x, 2)` affects exactly two requests. */
  function takeMode(): FakePushoverMode {
    if (override) {
      const { mode } = override;
      override.remaining -= 1;
      if (override.remaining <= 0) override = undefined;
      return mode;
    }
    return baseMode;
  }

  /** Decides the answer to one request; pure apart from the quota and the message log. */
  function answer(contentType: string | undefined, raw: string, mode: FakePushoverMode): Reply {
    if (mode === 'invalid') return rejection(['user identifier is invalid'], 'user');
    if (mode === 'rate-limited') return rateLimited();
    if (mode === 'server-error') {
      return {
        status: 500,
        contentType: 'text/html',
        body: '<html><body>500 Internal Server Error</body></html>',
      };
    }
    const parsed = parseBody(contentType, raw);
    if (parsed === undefined) return rejection(['request body could not be parsed']);
    const fields = parsed.values;
    // Same order of checks as the real API: credentials first, then the message itself.
    if (fields.token !== token) return rejection(['application token is invalid'], 'token');
    if (fields.user !== user) {
      return rejection(['user identifier is not a valid user, group, or subscribed user key'], 'user');
    }
    const problems = validateFields(fields);
    if (problems.length > 0) return rejection(problems);
    if (remaining <= 0) return rateLimited();

    remaining -= 1;
    const requestId = randomUUID();
    const msg = decode(fields, requestId, parsed.encoding);
    if (msg.priority === 2) msg.receipt = randomBytes(15).toString('hex');
    messages.push(msg);
    for (const w of [...waiters]) if (messages.length >= w.n) w.resolve();
    return json(
      200,
      { status: 1, request: requestId, ...(msg.receipt ? { receipt: msg.receipt } : {}) },
      true,
    );
  }

  function rejection(errors: string[], field?: string): Reply {
    return json(
      400,
      { ...(field ? { [field]: 'invalid' } : {}), status: 0, errors, request: randomUUID() },
      true,
    );
  }

  function rateLimited(): Reply {
    return json(
      429,
      { status: 0, errors: ['application has exceeded its monthly message limit'], request: randomUUID() },
      true,
    );
  }

  function write(res: ServerResponse, reply: Reply): void {
    // The client may have given up (timeout) and reset the socket while we were delaying.
    if (res.destroyed || res.writableEnded) return;
    res.statusCode = reply.status;
    res.setHeader('content-type', reply.contentType);
    if (reply.quota) {
      // Read at write time so the headers show the quota after this very request.
      res.setHeader('X-Limit-App-Limit', String(limit));
      res.setHeader('X-Limit-App-Remaining', String(remaining));
      res.setHeader('X-Limit-App-Reset', String(nextMonthUnixSeconds()));
    }
    res.end(reply.body);
  }

  const server = createServer((req, res) => {
    requestCount += 1;
    // A client that gives up (timeout) resets the socket; nothing to answer then.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/1/messages.json') {
      req.resume();
      write(res, json(404, { status: 0, errors: ['resource not found'], request: randomUUID() }, false));
      return;
    }
    const mode = takeMode();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep counting but stop storing: memory stays bounded whatever the client sends.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        write(
          res,
          json(413, { status: 0, errors: ['request body is too large'], request: randomUUID() }, false),
        );
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const contentType = req.headers['content-type'];
      if (typeof mode === 'object') {
        const timer = setTimeout(() => {
          delays.delete(timer);
          write(res, answer(contentType, raw, 'ok'));
        }, mode.delayMs);
        delays.add(timer);
        return;
      }
      write(res, answer(contentType, raw, mode));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    token,
    user,
    messages,
    get requestCount() {
      return requestCount;
    },
    mode(next, count) {
      if (count === undefined) {
        baseMode = next;
        override = undefined;
      } else if (Number.isInteger(count) && count > 0) {
        override = { mode: next, remaining: count };
      } else {
        throw new RangeError(`count must be a positive integer, got ${count}`);
      }
    },
    waitFor(n, timeoutMs = 5000) {
      if (messages.length >= n) return Promise.resolve(messages.slice());
      if (closing) return Promise.reject(new FakePushoverClosedError());
      return new Promise<ReceivedMessage[]>((resolve, reject) => {
        const waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(messages.slice());
          },
          reject: (err: Error) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            reject(err);
          },
        };
        const timer = setTimeout(
          () => waiter.reject(new FakePushoverTimeoutError(n, messages.length, timeoutMs)),
          timeoutMs,
        );
        waiters.add(waiter);
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of delays) clearTimeout(timer);
        delays.clear();
        for (const w of [...waiters]) w.reject(new FakePushoverClosedError());
        // server.close() alone waits for keep-alive sockets (fetch keeps them) to time out, which
        // would hang a test run; dropping them is fine for a fake.
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** One HTTP answer; `quota` adds the `X-Limit-App-*` headers, as the real API does on /1/messages. */
interface Reply {
  status: number;
  contentType: string;
  body: string;
  quota?: boolean;
}

function json(status: number, body: Record<string, unknown>, quota: boolean): Reply {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body), quota };
}

/** Decodes a form or JSON body into string fields, as the API sees them. */
function parseBody(
  contentType: string | undefined,
  raw: string,
): { values: Record<string, string>; encoding: 'form' | 'json' } | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') {
    try {
      const value: unknown = JSON.parse(raw);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(value)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') values[k] = String(v);
      }
      return { values, encoding: 'json' };
    } catch {
      return undefined;
    }
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    return { values: Object.fromEntries(new URLSearchParams(raw)), encoding: 'form' };
  }
  return undefined;
}

/** The API's own checks on the message fields, with its wording. */
function validateFields(f: Record<string, string>): string[] {
  const errors: string[] = [];
  const message = f.message ?? '';
  if (message.trim() === '') errors.push('message cannot be blank');
  else if ([...message].length > 1024) errors.push('message cannot be longer than 1024 characters');
  if (f.title !== undefined && [...f.title].length > 250)
    errors.push('title cannot be longer than 250 characters');
  if (f.url !== undefined && [...f.url].length > 512) errors.push('url cannot be longer than 512 characters');
  if (f.url_title !== undefined && [...f.url_title].length > 100) {
    errors.push('url title cannot be longer than 100 characters');
  }
  if (f.priority !== undefined && !['-2', '-1', '0', '1', '2'].includes(f.priority)) {
    errors.push('priority is invalid');
  }
  if (f.priority === '2') {
    const retry = Number(f.retry);
    const expire = Number(f.expire);
    if (!Number.isInteger(retry) || retry < 30) errors.push('retry is invalid; must be at least 30 seconds');
    if (!Number.isInteger(expire) || expire < 1 || expire > 10_800) {
      errors.push('expire is invalid; must be at most 10800 seconds');
    }
  }
  return errors;
}

function decode(f: Record<string, string>, requestId: string, encoding: 'form' | 'json'): ReceivedMessage {
  const msg: ReceivedMessage = { message: f.message ?? '', requestId, receivedAt: Date.now(), encoding };
  if (f.title !== undefined) msg.title = f.title;
  if (f.priority !== undefined) msg.priority = Number(f.priority) as PushoverPriority;
  if (f.sound !== undefined) msg.sound = f.sound;
  if (f.url !== undefined) msg.url = f.url;
  if (f.url_title !== undefined) msg.urlTitle = f.url_title;
  if (f.html !== undefined) msg.html = f.html === '1' || f.html === 'true';
  if (f.device !== undefined) msg.device = f.device;
  if (f.timestamp !== undefined) msg.timestamp = Number(f.timestamp);
  if (f.ttl !== undefined) msg.ttl = Number(f.ttl);
  if (f.retry !== undefined) msg.retry = Number(f.retry);
  if (f.expire !== undefined) msg.expire = Number(f.expire);
  return msg;
}

/** The quota resets at the start of the next month, UTC. */
function nextMonthUnixSeconds(): number {
  const now = new Date();
  return Math.floor(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) / 1000);
}
