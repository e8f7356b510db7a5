/**
 * `createMcpServer`: the runtime, the per-user subtrees, and sessions over any MCP transport.
 *
 * Quotas are per user across all their sessions: `alarm_set` calls of one user run one at a time
 * (`exclusive`), so the pending-alarm check and the write cannot interleave with another set of
 * the same user (50 concurrent calls never overshoot the quota); other users are not delayed.
 */
import { mkdirSync } from 'node:fs';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { createRuntime, type Runtime } from '@vigil/runtime';
import type { Workflow } from '@vigil/workflow';
import { McpConfigError, QuotaExceededError } from './errors.js';
import { checkUserId, type Principal, principalOf, type UserConfig } from './principal.js';
import { createSession } from './session.js';
import type { ToolContext } from './tools/tool.js';
import { UserHost, type UserService } from './user-host.js';

/** Options of `createMcpServer`. */
export interface McpServerOptions {
  /** Directory of the users' database files (`<data>/<user>.db`); created if missing. */
  data: string;
  /** Workflows MCP users may run (default none); each user's policy says which they may start. */
  workflows?: Workflow[];
  /** Configured users (zone, policy). A user not listed gets `DEFAULT_POLICY` and UTC. */
  users?: UserConfig[];
  /** The runtime to run in (default: a new one, started and stopped by this server). */
  runtime?: Runtime;
  /**
   * How often running users without a session are checked, and stopped if they have no pending
   * alarm left (default 60 s): a user whose last alarm fired while offline does not stay in memory.
   */
  idleSweepMs?: number;
  /**
   * How long before a stopped user's earliest pending alarm the server starts that user's
   * subtree again (default 60 s). A user whose alarms are further away than twice this, with no
   * session, is stopped and costs only an entry in the wake index.
   */
  wakeAheadMs?: number;
}

/** A connected session; `close` ends it. */
export interface McpSession {
  user: string;
  close(): Promise<void>;
}

/**
 * The Vigil MCP server: connect a transport for a user; `close` stops everything.
 *
 * @example
 * const server = await createMcpServer({ data: './vigil-data' });
 * await server.connect('ada', new StdioServerTransport());
 */
export interface VigilMcpServer {
  readonly runtime: Runtime;
  /** Serves one MCP session of `user` over `transport` (already authenticated as that user). */
  connect(user: string, transport: Transport): Promise<McpSession>;
  /** The principal `user` is served as. */
  principal(user: string): Principal;
  /** Users whose subtree is running now (a session, or an alarm due soon or in flight). */
  runningUsers(): string[];
  /** Stopped users with a pending alarm, and when it is due: the server wakes them before. */
  sleepingUsers(): { user: string; nextFireAt: number }[];
  /**
   * Stops the subtree of a user with no session, no alarm in flight and none due within twice
   * `wakeAheadMs` (a later one is put in the wake index); true if it did.
   */
  stopIfIdle(user: string): Promise<boolean>;
  close(): Promise<void>;
}

const SETS_WINDOW_MS = 60_000;

/**
 * Starts the runtime and the subtree of every user with an alarm due soon (the others go into the
 * wake index); resolves when ready.
 */
export async function createMcpServer(options: McpServerOptions): Promise<VigilMcpServer> {
  if (typeof options.data !== 'string' || options.data.length === 0)
    throw new McpConfigError('data must be a directory path');
  const wakeAheadMs = options.wakeAheadMs ?? 60_000;
  if (!Number.isFinite(wakeAheadMs) || wakeAheadMs < 0)
    throw new McpConfigError('wakeAheadMs must be a number of milliseconds, 0 or more');
  mkdirSync(options.data, { recursive: true });
  const configured = new Map<string, Principal>();
  for (const u of options.users ?? []) configured.set(checkUserId(u.id), principalOf(u));
  const principal = (id: string) => configured.get(checkUserId(id)) ?? principalOf({ id });

  const ownRuntime = !options.runtime;
  const runtime = options.runtime ?? createRuntime({ callTimeoutMs: 30_000 });
  if (ownRuntime) await runtime.start([], { maxRestarts: 10, withinMs: 10_000 });
  const host = new UserHost(runtime, {
    data: options.data,
    workflows: options.workflows ?? [],
    principal,
    wakeAheadMs,
  });
  await host.resumePending();

  const chains = new Map<string, Promise<unknown>>();
  const sets = new Map<string, number[]>();
  const context = (user: UserService): ToolContext => {
    const id = user.principal.id;
    return {
      user,
      now: () => runtime.clock.now(),
      exclusive: <T>(work: () => Promise<T>) => {
        const next = (chains.get(id) ?? Promise.resolve()).then(work, work);
        chains.set(
          id,
          next.catch(() => undefined),
        );
        return next;
      },
      countSet: () => {
        const now = runtime.clock.now();
        const recent = (sets.get(id) ?? []).filter((t) => t > now - SETS_WINDOW_MS);
        const max = user.principal.policy.maxSetsPerMinute;
        if (recent.length >= max) {
          sets.set(id, recent);
          throw new QuotaExceededError(
            'maxSetsPerMinute',
            `${recent.length} sets in the last minute, at most ${max}`,
          );
        }
        recent.push(now);
        sets.set(id, recent);
      },
    };
  };
  const sessionHost = {
    context,
    onInbox: (id: string, l: Parameters<UserHost['onInbox']>[1]) => host.onInbox(id, l),
    version: '0.1.0',
  };
  const open = new Set<McpSession>();
  let closing: Promise<void> | undefined;
  const sweep = setInterval(() => {
    for (const id of host.running()) void host.stopIfIdle(id).catch(() => undefined);
  }, options.idleSweepMs ?? 60_000);
  sweep.unref();

  return {
    runtime,
    principal,
    runningUsers: () => host.running(),
    sleepingUsers: () => host.sleepers(),
    stopIfIdle: (user) => host.stopIfIdle(user),
    async connect(user, transport) {
      const service = await host.acquire(user);
      const { server, dispose } = createSession(sessionHost, service);
      let ended: Promise<void> | undefined;
      const session: McpSession = {
        user,
        close: () => {
          ended ??= (async () => {
            open.delete(session);
            dispose();
            await server.close().catch(() => undefined);
            await host.release(user).catch(() => undefined);
          })();
          return ended;
        },
      };
      open.add(session);
      // A transport closed by the client ends the session the same way.
      server.server.onclose = () => void session.close();
      try {
        await server.connect(transport);
      } catch (err) {
        await session.close();
        throw err;
      }
      return session;
    },
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        for (const s of [...open]) await s.close();
        await host.close();
        if (ownRuntime) await runtime.stop();
      })();
      return closing;
    },
  };
}
