/**
 * `serveHttp`: the Streamable HTTP transport on `/mcp`, loopback by default, one MCP session per
 * `initialize`, each bound to the user of the bearer token that opened it.
 *
 * Every request is authenticated (not only the first of a session): a wrong, missing or revoked
 * token gets `401` with an empty body, whatever else the request holds. A session id used with
 * another user's token is `404`, as an unknown session id, so no answer tells sessions apart.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { McpSession, VigilMcpServer } from './server.js';
import { TokenVerifier } from './tokens.js';

/** Options of `serveHttp`. */
export interface HttpOptions {
  /** Directory holding `tokens.json` (the server's `data`). */
  data: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Interface (default 127.0.0.1: loopback only). */
  host?: string;
  /** Largest request body in bytes (default 4 MiB). */
  maxBodyBytes?: number;
}

/** A running HTTP endpoint. */
export interface HttpEndpoint {
  /** `http://host:port/mcp` */
  url: string;
  /** Open sessions. */
  sessions(): number;
  /** Stops listening and ends every session (not the MCP server). */
  close(): Promise<void>;
}

interface Open {
  user: string;
  transport: StreamableHTTPServerTransport;
  session: McpSession | undefined;
}

function readBody(req: IncomingMessage, max: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error('not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function plain(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': '0', ...extra }).end();
}

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

/** Serves `server` over Streamable HTTP; resolves once listening. */
export async function serveHttp(server: VigilMcpServer, options: HttpOptions): Promise<HttpEndpoint> {
  const tokens = new TokenVerifier(options.data);
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const open = new Map<string, Open>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/mcp') return plain(res, 404);
    const header = req.headers.authorization;
    const bearer =
      typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const user = await tokens.verify(bearer);
    if (!user) return plain(res, 401, { 'www-authenticate': 'Bearer' });

    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readBody(req, maxBody);
      } catch {
        return rpcError(res, 400, -32700, 'Parse error');
      }
    }
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const entry = open.get(sid);
      if (!entry || entry.user !== user) return rpcError(res, 404, -32001, 'Session not found');
      return entry.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body))
      return rpcError(res, 400, -32000, 'Bad Request: no valid session id');
    const entry: Open = {
      user,
      session: undefined,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        // A call is answered with one JSON body, not an SSE stream; notifications that belong to no
        // request (the inbox) go on the session's GET stream, which the SDK Client opens.
        enableJsonResponse: true,
        onsessioninitialized: (id) => {
          open.set(id, entry);
        },
      }),
    };
    entry.transport.onclose = () => {
      if (entry.transport.sessionId) open.delete(entry.transport.sessionId);
      void entry.session?.close();
    };
    entry.session = await server.connect(user, entry.transport);
    await entry.transport.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Never a stack trace on the wire.
      if (!res.headersSent) rpcError(res, 500, -32603, 'Internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/mcp`,
    sessions: () => open.size,
    close() {
      closing ??= (async () => {
        for (const entry of [...open.values()]) {
          await entry.transport.close().catch(() => undefined);
          await entry.session?.close();
        }
        open.clear();
        http.closeAllConnections();
        await new Promise<void>((r) => http.close(() => r()));
      })();
      return closing;
    },
  };
}
