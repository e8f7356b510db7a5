/**
 * `dashboard(runtime, options)`: an HTTP server on loopback (by default) serving the client
 * (assets/, no network needed), a JSON API over the runtime, and the live feed.
 *
 * Invariants: no action is taken without an open session whose CSRF header matches, and no
 * session can be opened unless a token was configured (read-only otherwise); every action
 * needs a POST (never a GET), and the session cookie is SameSite=Strict and HttpOnly.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ALARM_STATUSES,
  type Alarm,
  AlarmClient,
  type AlarmStatus,
  type ListFilter,
  type Occurrence,
  openSqliteStore,
  toAlarm,
} from '@vigil/alarm';
import { type Runtime, VigilError } from '@vigil/runtime';
import {
  type HistoryEntry,
  openSqliteRunStore,
  RUN_STATUSES,
  type RunFilter,
  type RunRecord,
  type RunStatus,
  type RunStore,
  WorkflowClient,
  type WorkflowRun,
} from '@vigil/workflow';
import { cookie, hashToken, Sessions, type TokenHash, verifyToken } from './auth.js';
import { Feed, LATENESS_BOUNDS } from './feed.js';

/** Options of `dashboard`. */
export interface DashboardOptions {
  /** Port to listen on (0: any free port). */
  port: number;
  /** Interface to listen on (default '127.0.0.1': loopback only). */
  host?: string;
  /** The action token. Without one the dashboard is read-only. Only its scrypt hash is kept. */
  token?: string;
  /** Interval of the live feed's batches in ms (default 250). */
  batchMs?: number;
  /** Registered name of the workflow Scheduler whose runs are shown (default `Scheduler`). */
  scheduler?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port/`. */
  readonly url: string;
  /** Stops the server and the feed. */
  close(): Promise<void>;
}

const ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'assets');
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};
const PAGE_LIMIT = 50;

/** An API error with an HTTP status and a stable code. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the dashboard reads and cancels alarms through: the Alarm actor, or a database file. */
interface AlarmSource {
  list(filter: ListFilter): Promise<Alarm[]>;
  get(id: number): Promise<Alarm | null>;
  history(id: number): Promise<Occurrence[] | null>;
  cancel(id: number): Promise<Alarm | null>;
  stats(): Promise<{ byStatus: Record<AlarmStatus, number> }>;
}

/** What the dashboard reads runs through: the Scheduler actor, or a database file (read-only). */
interface RunSource {
  list(filter: RunFilter): Promise<WorkflowRun[]>;
  get(id: string): Promise<WorkflowRun | null>;
  /** Absent when there is no Scheduler to act through (a database only). */
  cancel?(id: string): Promise<WorkflowRun | null>;
  signal?(id: string, name: string, payload: Record<string, unknown>): Promise<WorkflowRun>;
}

/** A stored run as the Scheduler's clients see it. */
function runView(run: RunRecord, history: HistoryEntry[]): WorkflowRun {
  const { id, workflow, kind, status, step, seq, attempt, nextAt, context, waiting, result, error } = run;
  const { createdAt, updatedAt, endedAt } = run;
  return {
    id,
    workflow,
    // Runs stored before workflow versions existed ran version 1.
    version: run.version ?? 1,
    kind,
    status,
    step,
    seq,
    attempt,
    nextAt,
    context,
    waiting,
    result,
    error,
    createdAt,
    updatedAt,
    endedAt,
    history,
  };
}

/** Runs of a database file, read-only; a file without runs (no workflow ever ran) has none. */
function storedRuns(file: string): RunSource & { close(): Promise<void> } {
  let store: RunStore | undefined;
  const open = (): RunStore | undefined => {
    try {
      store ??= openSqliteRunStore(file, { readonly: true });
    } catch {
      // No run table yet: nothing to show (and nothing is created by looking).
    }
    return store;
  };
  return {
    list: async (filter) => {
      const s = open();
      return s ? (await s.list(filter)).map((r) => runView(r, [])) : [];
    },
    get: async (id) => {
      const s = open();
      const run = s ? await s.get(id) : undefined;
      return run && s ? runView(run, await s.history(id)) : null;
    },
    close: async () => {
      await store?.close();
    },
  };
}

/**
 * Serves the live dashboard of `runtime`.
 *
 * @example
 * const d = await dashboard(runtime, { port: 4280, token: process.env.VIGIL_DASHBOARD_TOKEN });
 * console.log(d.url);
 */
export function dashboard(runtime: Runtime, options: DashboardOptions): Promise<Dashboard> {
  const scheduler = options.scheduler ?? 'Scheduler';
  const workflows = new WorkflowClient(runtime, { name: scheduler, timeoutMs: 5000 });
  // Without a Scheduler in the tree the runs view is empty rather than an error.
  const declared = () => runtime.status(scheduler) !== 'undeclared';
  const runs: RunSource = {
    list: async (filter) => (declared() ? workflows.list(filter) : []),
    get: async (id) => (declared() ? workflows.get(id) : null),
    cancel: (id) => workflows.cancel(id, 'cancelled from the dashboard'),
    signal: (id, name, payload) => workflows.signal(id, name, payload),
  };
  return serve(runtime, new AlarmClient(runtime, { timeoutMs: 5000 }), runs, options, async () => {});
}

/**
 * Serves the dashboard of a database file, without a runtime: alarms, runs and stats, no tree and
 * no live feed. Cancelling an alarm writes to the file beside a running runtime, as `vigil alarms
 * cancel` does; runs are read-only (signalling or cancelling a run needs its Scheduler).
 */
export function databaseDashboard(file: string, options: DashboardOptions): Promise<Dashboard> {
  const store = openSqliteStore(file, { busyTimeoutMs: 5000 });
  const view = (row: Parameters<typeof toAlarm>[0] | undefined) => (row ? toAlarm(row) : null);
  const source: AlarmSource = {
    list: async (filter) => (await store.list(filter)).map(toAlarm),
    get: async (id) => view(await store.get(id)),
    history: async (id) => ((await store.get(id)) ? store.history(id) : null),
    cancel: async (id) => {
      await store.cancel(id, Date.now());
      return view(await store.get(id));
    },
    stats: () => store.stats(),
  };
  const runs = storedRuns(file);
  return serve(undefined, source, runs, options, async () => {
    await runs.close();
    await store.close();
  });
}

async function serve(
  runtime: Runtime | undefined,
  alarms: AlarmSource,
  runs: RunSource,
  options: DashboardOptions,
  closeSource: () => Promise<void>,
): Promise<Dashboard> {
  const token: TokenHash | undefined = options.token ? hashToken(options.token) : undefined;
  const sessions = new Sessions();
  const feed = new Feed(runtime, options.batchMs ?? 250);

  /** Actions need a token configured, an open session, and its CSRF header. */
  const authorize = (req: http.IncomingMessage): void => {
    if (!token) throw new HttpError(403, 'READ_ONLY', 'this dashboard has no token: it is read-only');
    const csrf = req.headers['x-vigil-csrf'];
    if (
      !sessions.check(
        cookie(req.headers.cookie, 'vigil_session'),
        typeof csrf === 'string' ? csrf : undefined,
      )
    ) {
      throw new HttpError(401, 'NO_SESSION', 'log in with the token first');
    }
  };

  const api = async (req: http.IncomingMessage, url: URL): Promise<unknown> => {
    const route = url.pathname;
    if (req.method === 'GET' && route === '/api/tree')
      return { root: runtime?.tree() ?? null, restarts: feed.restarts };
    if (req.method === 'GET' && route === '/api/alarms') {
      const status = url.searchParams.get('status') || undefined;
      if (status && !ALARM_STATUSES.includes(status as AlarmStatus)) {
        throw new HttpError(400, 'INVALID_FILTER', `unknown status '${status}'`);
      }
      const after = Number(url.searchParams.get('after') ?? 0);
      const rows = await alarms.list({
        status: status as AlarmStatus | undefined,
        target: url.searchParams.get('target') || undefined,
        key: url.searchParams.get('key') || undefined,
        fireFrom: instantParam(url, 'from'),
        fireTo: instantParam(url, 'to'),
        afterId: Number.isSafeInteger(after) && after > 0 ? after : undefined,
        limit: PAGE_LIMIT + 1,
      });
      const page = rows.slice(0, PAGE_LIMIT);
      return { alarms: page, next: rows.length > PAGE_LIMIT ? page[page.length - 1]?.id : null };
    }
    const one = /^\/api\/alarms\/(\d+)$/.exec(route);
    if (req.method === 'GET' && one) {
      const alarm = await alarms.get(Number(one[1]));
      if (!alarm) throw new HttpError(404, 'NOT_FOUND', `no alarm ${one[1]}`);
      // A series' settled occurrences, oldest first (the last 100: a page is enough to read).
      const occurrences = (await alarms.history(alarm.id)) ?? [];
      return { ...alarm, occurrences };
    }
    if (req.method === 'GET' && route === '/api/runs') {
      const status = url.searchParams.get('status') || undefined;
      if (status && !RUN_STATUSES.includes(status as RunStatus)) {
        throw new HttpError(400, 'INVALID_FILTER', `unknown status '${status}'`);
      }
      const rows = await runs.list({
        status: status as RunStatus | undefined,
        workflow: url.searchParams.get('workflow') || undefined,
        afterId: url.searchParams.get('after') || undefined,
        limit: PAGE_LIMIT + 1,
      });
      const page = rows.slice(0, PAGE_LIMIT);
      return {
        runs: page,
        next: rows.length > PAGE_LIMIT ? page[page.length - 1]?.id : null,
        actions: runs.cancel !== undefined,
      };
    }
    const run = /^\/api\/runs\/([^/]+)$/.exec(route);
    if (req.method === 'GET' && run) {
      const id = decodeURIComponent(run[1] ?? '');
      const found = await runs.get(id);
      if (!found) throw new HttpError(404, 'NOT_FOUND', `no run ${id}`);
      return found;
    }
    if (req.method === 'GET' && route === '/api/stats') {
      return {
        store: await alarms.stats(),
        perMinute: feed.perMinute(),
        lateness: { bounds: LATENESS_BOUNDS, counts: feed.lateness },
        actionsEnabled: token !== undefined,
      };
    }
    if (req.method === 'POST' && route === '/api/login') {
      if (!token) throw new HttpError(403, 'READ_ONLY', 'this dashboard has no token: it is read-only');
      const body = await readJson(req);
      if (typeof body.token !== 'string' || !verifyToken(token, body.token)) {
        throw new HttpError(401, 'BAD_TOKEN', 'wrong token');
      }
      return sessions.open();
    }
    const cancel = /^\/api\/alarms\/(\d+)\/cancel$/.exec(route);
    if (req.method === 'POST' && cancel) {
      authorize(req);
      const alarm = await alarms.cancel(Number(cancel[1]));
      if (!alarm) throw new HttpError(404, 'NOT_FOUND', `no alarm ${cancel[1]}`);
      return alarm;
    }
    const runAction = /^\/api\/runs\/([^/]+)\/(cancel|signal)$/.exec(route);
    if (req.method === 'POST' && runAction) {
      authorize(req);
      const id = decodeURIComponent(runAction[1] ?? '');
      if (!runs.cancel || !runs.signal)
        throw new HttpError(403, 'NO_SCHEDULER', 'runs are read-only here: no Scheduler to act through');
      if (runAction[2] === 'cancel') {
        const done = await runs.cancel(id);
        if (!done) throw new HttpError(404, 'NOT_FOUND', `no run ${id}`);
        return done;
      }
      const body = await readJson(req);
      if (typeof body.name !== 'string' || body.name.length === 0 || body.name.length > 200)
        throw new HttpError(400, 'INVALID_BODY', 'a signal needs a name (1 to 200 characters)');
      const payload = body.payload ?? {};
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
        throw new HttpError(400, 'INVALID_BODY', 'a signal payload is a JSON object');
      if (!(await runs.get(id))) throw new HttpError(404, 'NOT_FOUND', `no run ${id}`);
      return runs.signal(id, body.name, payload as Record<string, unknown>);
    }
    throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${route}`);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/api/events') return feed.attach(res);
    if (url.pathname.startsWith('/api/')) {
      api(req, url).then(
        (body) => {
          const headers: Record<string, string> = {
            'content-type': 'application/json',
            'cache-control': 'no-store',
          };
          if (url.pathname === '/api/login') {
            const { id, csrf } = body as { id: string; csrf: string };
            headers['set-cookie'] = `vigil_session=${id}; HttpOnly; SameSite=Strict; Path=/`;
            body = { csrf };
          }
          res.writeHead(200, headers).end(JSON.stringify(body));
        },
        (err: unknown) => {
          // A typed refusal of the runtime (a signal the run does not wait for, an actor down)
          // is a 409 with its code; anything else is a 500.
          const e =
            err instanceof HttpError
              ? err
              : new HttpError(
                  err instanceof VigilError ? 409 : 500,
                  (err as { code?: string }).code ?? 'ERROR',
                  String((err as Error).message),
                );
          res
            .writeHead(e.status, { 'content-type': 'application/json' })
            .end(JSON.stringify({ code: e.code, message: e.message }));
        },
      );
      return;
    }
    const file = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    const type = TYPES[file];
    if (req.method !== 'GET' || !type) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': type,
      'content-security-policy': "default-src 'self'; connect-src 'self'",
      'x-content-type-options': 'nosniff',
    });
    fs.createReadStream(path.join(ASSETS, file)).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    close: () =>
      new Promise((resolve) => {
        feed.close();
        server.closeAllConnections();
        server.close(() => closeSource().then(() => resolve()));
      }),
  };
}

/** An instant query parameter: epoch ms or an ISO date-time; absent or empty is none. */
function instantParam(url: URL, name: string): number | undefined {
  const text = url.searchParams.get(name);
  if (!text) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms))
    throw new HttpError(400, 'INVALID_FILTER', `${name} is not an instant: '${text}'`);
  return ms;
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 10_000) throw new HttpError(413, 'TOO_LARGE', 'body too large');
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {}
  throw new HttpError(400, 'INVALID_BODY', 'expected a JSON object');
}
