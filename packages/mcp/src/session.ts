/**
 * One MCP session of one user: an `McpServer` with the twelve tools and the `vigil://inbox`
 * resource, bound to that user's services.
 *
 * Tool calls do not go through the SDK's own argument validation: its failure is a plain text
 * error without a code. The session replaces the `tools/call` handler (the tools are still
 * registered with the SDK, which lists them with their JSON Schemas) and parses the arguments with
 * the same zod schema, so bad input is a tool error with code `INVALID_INPUT` like every other
 * typed error (see `toolError` for where the code travels), and a thrown non-Vigil error becomes `{ code: 'INTERNAL' }` with no stack.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { VigilError } from '@vigil/runtime';
import { InvalidInputError } from './errors.js';
import { TOOLS } from './tools/index.js';
import type { ToolContext } from './tools/tool.js';
import type { UserService } from './user-host.js';
import type { InboxItem } from './user-store.js';

/** The URI of the inbox resource. */
export const INBOX_URI = 'vigil://inbox';

/** What a session needs from the server. @internal */
export interface SessionHost {
  context: (user: UserService) => ToolContext;
  onInbox: (userId: string, listener: (item: InboxItem) => void) => () => void;
  version: string;
}

/** Key of `_meta` that carries a tool error's `{ code, message }`. */
export const ERROR_META = 'vigil/error';

/**
 * A tool error as the client sees it: `isError`, the text `CODE: message`, and `{ code, message }`
 * under `_meta['vigil/error']`. Not in `structuredContent`: the SDK's Client checks structured
 * content against the tool's output schema even on an error, and the error is not that shape.
 * @internal
 */
export function toolError(err: unknown): CallToolResult {
  const known = err instanceof VigilError;
  const code = known ? err.code : 'INTERNAL';
  const message = known ? err.message : 'internal error (the server log has no more detail for you)';
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    _meta: { [ERROR_META]: { code, message } },
  };
}

function errorCode(result: CallToolResult): string | null {
  return result.isError ? String((result._meta?.[ERROR_META] as { code?: unknown } | undefined)?.code) : null;
}

function issues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(arguments)'}: ${i.message}`)
    .join('; ');
}

/** Builds the MCP server of one session. `close` of the returned server ends it. @internal */
export function createSession(
  host: SessionHost,
  user: UserService,
): { server: McpServer; dispose: () => void } {
  const server = new McpServer(
    { name: 'vigil', version: host.version },
    {
      capabilities: { logging: {}, resources: { subscribe: true } },
      instructions:
        "Vigil keeps durable alarms and workflows for you. Set an alarm with target 'Inbox' to be reminded: " +
        'it arrives in inbox_read (and as a notification on vigil://inbox when you are connected).',
    },
  );
  const ctx = host.context(user);
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        outputSchema: tool.output,
      },
      async () => ({ content: [] }), // never called: tools/call is handled below
    );
  }
  const byName = new Map(TOOLS.map((t) => [t.name, t]));
  server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = byName.get(request.params.name);
    if (!tool)
      return toolError(new InvalidInputError(String(request.params.name).slice(0, 64), 'no such tool'));
    const started = ctx.now();
    let result: CallToolResult;
    try {
      const parsed = tool.input.safeParse(request.params.arguments ?? {});
      if (!parsed.success) throw new InvalidInputError(tool.name, issues(parsed.error));
      const out = await tool.run(ctx, parsed.data);
      result = { content: [{ type: 'text', text: out.text }], structuredContent: out.structured };
    } catch (err) {
      result = toolError(err);
    }
    if (tool.mutates) {
      const args = JSON.stringify(request.params.arguments ?? null) ?? 'null';
      user.store.audit({
        at: started,
        who: user.principal.id,
        tool: tool.name,
        args: args.length > 2048 ? { truncated: args.slice(0, 2048) } : JSON.parse(args),
        result: result.isError ? 'error' : 'ok',
        code: errorCode(result),
      });
    }
    return result;
  });

  server.registerResource(
    'inbox',
    INBOX_URI,
    {
      title: 'Inbox',
      description: 'Your unacknowledged inbox items (alarms with target Inbox that fired).',
      mimeType: 'application/json',
    },
    async () => ({
      contents: [
        { uri: INBOX_URI, mimeType: 'application/json', text: JSON.stringify(user.store.read(0, 100)) },
      ],
    }),
  );
  let subscribed = false;
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    if (request.params.uri === INBOX_URI) subscribed = true;
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    if (request.params.uri === INBOX_URI) subscribed = false;
    return {};
  });
  const off = host.onInbox(user.principal.id, (item) => {
    if (!server.isConnected()) return;
    if (subscribed) void server.server.sendResourceUpdated({ uri: INBOX_URI }).catch(() => undefined);
    void server
      .sendLoggingMessage({
        level: 'info',
        logger: 'vigil.inbox',
        data: {
          event: 'inbox.item',
          id: item.id,
          alarmId: item.alarmId,
          message: item.message.text ?? item.message,
        },
      })
      .catch(() => undefined);
  });
  return { server, dispose: off };
}
