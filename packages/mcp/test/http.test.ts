/**
 * Streamable HTTP with bearer tokens, driven by the SDK's real `Client`: sessions per token, the
 * inbox notification, workflows started and signalled, 401 for wrong / missing / revoked tokens.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { defineWorkflow, end, waitFor } from '@vigil/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import { addToken, createMcpServer, revokeToken, serveHttp } from '../src/index.js';
import { failure, httpClient, inboxItems, ok, tempDir } from './helpers.js';

const approval = defineWorkflow<{ item: string }>({
  name: 'approval',
  start: 'ask',
  steps: {
    ask: ({ context }) => waitFor('decision', { onSignal: 'done', context }),
    done: ({ event }) => end({ result: { approved: event?.approved === true } }),
  },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function boot() {
  const data = tempDir();
  const server = await createMcpServer({
    data,
    workflows: [approval],
    users: [{ id: 'ada', zone: 'Europe/Paris', policy: { workflows: ['approval'] } }, { id: 'bob' }],
  });
  const http = await serveHttp(server, { data });
  cleanups.push(
    () => server.close(),
    () => http.close(),
  );
  const connect = async (token: string): Promise<Client> => {
    const { client } = await httpClient(http.url, token);
    cleanups.push(() => client.close());
    return client;
  };
  return { data, server, http, connect };
}

const status = async (url: string, token?: string) =>
  (
    await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    })
  ).status;

describe('vigil mcp over Streamable HTTP', () => {
  it('listens on loopback; a wrong, missing, malformed or revoked token gets 401 with an empty body', async () => {
    const { data, http } = await boot();
    expect(http.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const { id, token } = await addToken(data, 'ada');
    expect(await status(http.url)).toBe(401);
    // The last character changed (to one it is not already).
    expect(await status(http.url, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBe(401);
    expect(await status(http.url, 'not-a-token')).toBe(401);
    const res = await fetch(http.url, { method: 'POST', headers: { authorization: 'Bearer x' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('');
    const { client, transport } = await httpClient(http.url, token);
    cleanups.push(() => client.close());
    await ok(client, 'time_parse', { text: 'in 5 minutes' });
    expect(revokeToken(data, id)).toBe(true);
    // The open session is refused too: every request is authenticated.
    await expect(
      client.callTool({ name: 'time_parse', arguments: { text: 'in 5 minutes' } }),
    ).rejects.toThrow();
    const again = await fetch(http.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'mcp-session-id': String(transport.sessionId),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(again.status).toBe(401);
    expect(await status(http.url, token)).toBe(401);
  });

  it("reads times in the user's zone and wakes the session through the inbox", async () => {
    const { data, connect } = await boot();
    const ada = await connect((await addToken(data, 'ada')).token);
    const parsed = await ok<{ atLocal: string; zone: string }>(ada, 'time_parse', {
      text: 'tomorrow at 9am',
    });
    expect(parsed).toMatchObject({ zone: 'Europe/Paris' });
    expect(parsed.atLocal).toMatch(/ 09:00 Europe\/Paris$/);
    const logged = new Promise<unknown>((resolve) =>
      ada.setNotificationHandler(LoggingMessageNotificationSchema, (note) => {
        if (note.params.logger === 'vigil.inbox') resolve(note.params.data);
      }),
    );
    const set = await ok<{ alarm: { id: number } }>(ada, 'alarm_set', {
      when: 'in 1 second',
      target: 'Inbox',
      message: 'standup',
    });
    const items = await inboxItems(ada);
    expect(items).toMatchObject([{ alarmId: set.alarm.id, message: 'standup' }]);
    expect(await logged).toMatchObject({ event: 'inbox.item', alarmId: set.alarm.id, message: 'standup' });
  });

  it('starts and signals a workflow; a workflow outside the policy is FORBIDDEN', async () => {
    const { data, server, connect } = await boot();
    const ada = await connect((await addToken(data, 'ada')).token);
    const bob = await connect((await addToken(data, 'bob')).token);
    const waiting = new Promise<void>((resolve) =>
      server.runtime.events.on('workflow.stepped', (e) => {
        if (e.runId === 'r1' && e.outcome === 'wait') resolve();
      }),
    );
    const started = await ok<{ run: { runId: string } }>(ada, 'workflow_start', {
      workflow: 'approval',
      input: { item: 'laptop' },
      runId: 'r1',
    });
    expect(started.run.runId).toBe('r1');
    await waiting;
    const ended = new Promise<void>((resolve) =>
      server.runtime.events.on('workflow.ended', (e) => {
        if (e.runId === 'r1') resolve();
      }),
    );
    await ok(ada, 'workflow_signal', { runId: 'r1', name: 'decision', payload: { approved: true } });
    await ended;
    const run = await ok<{ run: { status: string; result: unknown } }>(ada, 'workflow_get', { runId: 'r1' });
    expect(run.run).toMatchObject({ status: 'completed', result: { approved: true } });
    expect((await ok<{ runs: unknown[] }>(ada, 'workflow_list', {})).runs).toHaveLength(1);
    // Bob's policy names no workflow; Bob does not see Ada's run.
    expect(await failure(bob, 'workflow_start', { workflow: 'approval', input: {} })).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await failure(bob, 'workflow_get', { runId: 'r1' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(
      await failure(bob, 'workflow_signal', { runId: 'r1', name: 'decision', payload: {} }),
    ).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await ok<{ runs: unknown[] }>(bob, 'workflow_list', {})).runs).toEqual([]);
  });
});
