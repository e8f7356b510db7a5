/**
 * Test helpers: an SDK `Client` connected to `vigil mcp` over stdio (the CLI entry, from sources)
 * or to an HTTP endpoint, and a waiter for the inbox notification.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CLI = join(ROOT, 'packages/cli/src/main.ts');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vigil-mcp-'));
}

/** A client of `vigil mcp --data DATA --user USER`, spawned as a child process. */
export async function stdioClient(data: string, user: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--conditions=@vigil/source', '--import', 'tsx', CLI, 'mcp', '--data', data, '--user', user],
    cwd: ROOT,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'vigil-test', version: '1.0.0' });
  await client.connect(transport);
  // Listing the tools makes the Client check every structured result against its output schema.
  await client.listTools();
  return { client, transport, pid: transport.pid as number };
}

/** A client of the Streamable HTTP endpoint with a bearer token. */
export async function httpClient(url: string, token: string) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'vigil-test', version: '1.0.0' });
  await client.connect(transport);
  await client.listTools();
  return { client, transport };
}

/** Calls a tool and returns its structured content, failing on a tool error. */
export async function ok<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

/** Calls a tool that must fail and returns its code. */
export async function failure(
  client: Client,
  name: string,
  args: unknown,
): Promise<{ code: string; message: string }> {
  const result = (await client.callTool({
    name,
    arguments: args as Record<string, unknown>,
  })) as CallToolResult;
  if (!result.isError) throw new Error(`${name} succeeded: ${JSON.stringify(result.structuredContent)}`);
  return errorOf(result);
}

/** The `{ code, message }` of a tool error. */
export function errorOf(result: CallToolResult): { code: string; message: string } {
  const error = result._meta?.['vigil/error'] as { code: string; message: string } | undefined;
  if (!error || result.structuredContent !== undefined)
    throw new Error(`not a Vigil tool error: ${JSON.stringify(result)}`);
  expect(result.content).toEqual([{ type: 'text', text: `${error.code}: ${error.message}` }]);
  return error;
}

/**
 * Subscribes to vigil://inbox and resolves with the unread items once there are at least `n`:
 * read first (an item may have arrived before the subscription), then on each notification.
 */
export async function inboxItems(
  client: Client,
  n = 1,
): Promise<{ id: number; alarmId: number; message: string }[]> {
  let wake: () => void = () => undefined;
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (note) => {
    if (note.params.uri === 'vigil://inbox') wake();
  });
  await client.subscribeResource({ uri: 'vigil://inbox' });
  for (;;) {
    const notified = new Promise<void>((r) => {
      wake = r;
    });
    const { items } = await ok<{ items: { id: number; alarmId: number; message: string }[] }>(
      client,
      'inbox_read',
      {},
    );
    if (items.length >= n) return items;
    await notified;
  }
}
