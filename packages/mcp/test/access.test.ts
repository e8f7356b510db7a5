/**
 * Access control over HTTP with two (and more) users: isolation (another user's ids and keys are
 * NOT_FOUND or simply absent, exactly like ids that never existed), targets by policy, quotas
 * under 50 concurrent calls, the audit log, user ids refused, subtrees stopped only when idle.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { openSqliteStore } from '@vigil/alarm';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { addToken, createMcpServer, serveHttp } from '../src/index.js';
import { errorOf, failure, httpClient, ok, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function boot(users: Parameters<typeof createMcpServer>[0]['users'] = []) {
  const data = tempDir();
  const server = await createMcpServer({ data, users });
  const http = await serveHttp(server, { data });
  cleanups.push(
    () => server.close(),
    () => http.close(),
  );
  const as = async (user: string): Promise<Client> => {
    const { client } = await httpClient(http.url, (await addToken(data, user)).token);
    cleanups.push(() => client.close());
    return client;
  };
  return { data, server, http, as };
}

interface AlarmOut {
  alarm: { id: number; status: string; key: string | null };
  created: boolean;
}

describe('two users', () => {
  it("B cannot list, get, cancel, read the history of, or de-duplicate against A's alarms", async () => {
    const { as } = await boot();
    const a = await as('ada');
    const b = await as('bob');
    const mine = await ok<AlarmOut>(a, 'alarm_set', {
      when: 'in 1 hour',
      target: 'Inbox',
      message: 'a',
      key: 'k1',
    });
    const id = mine.alarm.id;
    // What B gets for A's id is exactly what anyone gets for an id that never existed.
    const missing = await failure(a, 'alarm_get', { id: id + 1000 });
    const shape = (e: { code: string; message: string }, n: number) => ({
      ...e,
      message: e.message.replace(String(n), 'N'),
    });
    for (const tool of ['alarm_get', 'alarm_cancel', 'alarm_history']) {
      expect(shape(await failure(b, tool, { id }), id)).toEqual(shape(missing, id + 1000));
    }
    expect((await ok<{ alarms: unknown[] }>(b, 'alarm_list', {})).alarms).toEqual([]);
    expect(
      (await ok<{ alarms: unknown[] }>(b, 'alarm_list', { status: 'pending', target: 'Inbox' })).alarms,
    ).toEqual([]);
    // The same key is B's own key: a new alarm, A's untouched.
    const theirs = await ok<AlarmOut>(b, 'alarm_set', {
      when: 'in 2 hours',
      target: 'Inbox',
      message: 'b',
      key: 'k1',
    });
    expect(theirs.created).toBe(true);
    expect(
      await failure(b, 'alarm_set', { when: 'in 1 hour', target: 'Inbox:ada', message: 'x' }),
    ).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await ok(b, 'inbox_ack', { ids: [1, 2, 3] })).toEqual({ acked: [] });
    const still = await ok<AlarmOut>(a, 'alarm_get', { id });
    expect(still.alarm).toMatchObject({ status: 'pending', key: 'k1' });
    expect((await ok<{ alarms: { id: number }[] }>(a, 'alarm_list', {})).alarms.map((x) => x.id)).toEqual([
      id,
    ]);
  });

  it("a session id used with another user's token is 404, as an unknown one", async () => {
    const { data, http } = await boot();
    const { client, transport } = await httpClient(http.url, (await addToken(data, 'ada')).token);
    cleanups.push(() => client.close());
    const bob = (await addToken(data, 'bob')).token;
    const post = (sid: string) =>
      fetch(http.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bob}`,
          'mcp-session-id': sid,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    const stolen = await post(String(transport.sessionId));
    const unknown = await post('00000000-0000-0000-0000-000000000000');
    expect(stolen.status).toBe(404);
    expect(await stolen.text()).toBe(await unknown.text());
  });
});

describe('quotas and policy', () => {
  it('50 concurrent sets against a quota of 10 pending alarms: exactly 10 stored, 40 QUOTA_EXCEEDED, all audited', async () => {
    const { data, as } = await boot([
      { id: 'carol', policy: { maxPendingAlarms: 10, maxSetsPerMinute: 1000 } },
    ]);
    const c = await as('carol');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        c.callTool({
          name: 'alarm_set',
          arguments: { when: 'in 1 hour', target: 'Inbox', message: `m${i}` },
        }),
      ),
    );
    const codes = results.map((r) => (r.isError ? errorOf(r as CallToolResult).code : 'ok'));
    expect(codes.filter((x) => x === 'ok')).toHaveLength(10);
    expect(codes.filter((x) => x === 'QUOTA_EXCEEDED')).toHaveLength(40);
    expect(
      (await ok<{ alarms: unknown[] }>(c, 'alarm_list', { status: 'pending', limit: 100 })).alarms,
    ).toHaveLength(10);
    const db = new Database(join(data, 'carol.db'), { readonly: true });
    const audit = db.prepare("SELECT result, code FROM mcp_audit WHERE tool = 'alarm_set'").all();
    db.close();
    expect(audit).toHaveLength(50);
    expect(audit.filter((r) => (r as { code: string | null }).code === 'QUOTA_EXCEEDED')).toHaveLength(40);
  });

  it('50 concurrent sets against 5 per minute: exactly 5 stored', async () => {
    const { as } = await boot([{ id: 'dave', policy: { maxSetsPerMinute: 5 } }]);
    const d = await as('dave');
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        d.callTool({ name: 'alarm_set', arguments: { when: 'in 1 hour', target: 'Inbox', message: 'x' } }),
      ),
    );
    expect(results.filter((r) => !r.isError)).toHaveLength(5);
    expect((await ok<{ alarms: unknown[] }>(d, 'alarm_list', { limit: 100 })).alarms).toHaveLength(5);
  });

  it('a message over maxMessageBytes and a target outside the allow-list change nothing', async () => {
    const { as } = await boot([{ id: 'erin', policy: { maxMessageBytes: 16 } }]);
    const e = await as('erin');
    expect(
      await failure(e, 'alarm_set', { when: 'in 1 hour', target: 'Inbox', message: 'é'.repeat(9) }),
    ).toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    expect(
      await failure(e, 'alarm_set', { when: 'in 1 hour', target: 'Pushover', message: 'x' }),
    ).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await ok<{ alarms: unknown[] }>(e, 'alarm_list', {})).alarms).toEqual([]);
  });
});

describe('users and their subtrees', () => {
  it('refuses user ids with a path, a NUL byte or 10 kB', async () => {
    const { server } = await boot();
    for (const id of ['../x', 'a/b', 'a\0b', '.hidden', 'x'.repeat(10_000), '']) {
      await expect(server.connect(id, {} as never)).rejects.toMatchObject({ code: 'INVALID_USER' });
    }
    await expect(addToken(tempDir(), '../x')).rejects.toMatchObject({ code: 'INVALID_USER' });
  });

  it('a user without a session sleeps until their next alarm is near; the wake index survives a restart', async () => {
    const data = tempDir();
    const first = await createMcpServer({ data });
    const http = await serveHttp(first, { data });
    const a = await httpClient(http.url, (await addToken(data, 'ada')).token);
    const b = await httpClient(http.url, (await addToken(data, 'bob')).token);
    const c = await httpClient(http.url, (await addToken(data, 'cy')).token);
    const later = await ok<AlarmOut>(a.client, 'alarm_set', {
      when: 'in 1 hour',
      target: 'Inbox',
      message: 'later',
    });
    await ok(b.client, 'time_parse', { text: 'in 1 hour' });
    // Due within twice the default wake lead (60 s): cy's subtree keeps running.
    await ok(c.client, 'alarm_set', { when: 'in 90 seconds', target: 'Inbox', message: 'soon' });
    expect(first.runningUsers().sort()).toEqual(['ada', 'bob', 'cy']);
    await a.client.close();
    await b.client.close();
    await c.client.close();
    await http.close();
    expect(await first.stopIfIdle('bob')).toBe(false); // already stopped at release
    expect(first.runningUsers()).toEqual(['cy']);
    expect(first.runtime.status('Alarm:bob')).toBe('undeclared');
    expect(first.runtime.status('Alarm:ada')).toBe('undeclared');
    const adaDb = new Database(join(data, 'ada.db'), { readonly: true });
    const alarm = adaDb.prepare('SELECT fire_at AS nextFireAt FROM alarms WHERE id = ?').get(later.alarm.id);
    adaDb.close();
    expect(first.sleepingUsers()).toEqual([{ user: 'ada', ...(alarm as { nextFireAt: number }) }]);
    await first.close();
    const second = await createMcpServer({ data });
    cleanups.push(() => second.close());
    expect(second.runningUsers()).toEqual(['cy']);
    expect(second.sleepingUsers().map((u) => u.user)).toEqual(['ada']);
  });

  it('a sleeping user is woken before their alarm is due, and it reaches the inbox', async () => {
    const data = tempDir();
    // Lead 1 s: an alarm 3 s away is beyond twice the lead, so the user sleeps at release.
    const server = await createMcpServer({ data, wakeAheadMs: 1_000 });
    cleanups.push(() => server.close());
    const http = await serveHttp(server, { data });
    const a = await httpClient(http.url, (await addToken(data, 'ada')).token);
    const set = await ok<AlarmOut & { alarm: { at: string } }>(a.client, 'alarm_set', {
      when: 'in 3 seconds',
      target: 'Inbox',
      message: 'wake up',
    });
    await a.client.close();
    await http.close();
    expect(server.runningUsers()).toEqual([]);
    expect(server.sleepingUsers().map((u) => u.user)).toEqual(['ada']);
    const startedAt = new Promise<number>((resolve) =>
      server.runtime.events.on('actor.started', (e) => {
        if (e.name === 'Alarm:ada') resolve(server.runtime.clock.now());
      }),
    );
    const fired = new Promise<{ id: number; lateMs: number }>((resolve) =>
      server.runtime.events.on('alarm.delivered', (e) => resolve(e)),
    );
    // Woken before the instant the alarm is due, so the stop did not make it late.
    expect(await startedAt).toBeLessThan(Date.parse(set.alarm.at));
    expect((await fired).id).toBe(set.alarm.id);
    expect(server.sleepingUsers()).toEqual([]);
    const db = new Database(join(data, 'ada.db'), { readonly: true });
    expect(db.prepare("SELECT json_extract(message, '$.text') AS text FROM mcp_inbox").all()).toEqual([
      { text: 'wake up' },
    ]);
    db.close();
  });

  it('1,000 users with alarms: only those with a session (or an alarm due soon) hold a subtree', async () => {
    const data = tempDir();
    // One user's database with a pending alarm an hour ahead, copied for 1,000 users.
    const template = join(tempDir(), 'template.db');
    const store = openSqliteStore(template);
    const now = Date.now();
    await store.insert([
      { fireAt: now + 3_600_000, target: 'Inbox', message: '{"text":"x"}', createdAt: now },
    ]);
    await store.close();
    const users = Array.from({ length: 1_000 }, (_, i) => `u${String(i).padStart(4, '0')}`);
    for (const u of users) copyFileSync(template, join(data, `${u}.db`));

    const server = await createMcpServer({ data });
    cleanups.push(() => server.close());
    expect(server.runningUsers()).toEqual([]);
    expect(server.sleepingUsers()).toHaveLength(1_000);

    const active = users.slice(0, 10);
    const clients: Client[] = [];
    for (const u of active) {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(u, serverSide);
      const client = new Client({ name: 'many', version: '1' });
      await client.connect(clientSide);
      clients.push(client);
    }
    expect(server.runningUsers().sort()).toEqual(active);
    expect(server.sleepingUsers()).toHaveLength(990);
    for (const client of clients) await client.close();
    // Sessions closed: the ten go back to sleep; nothing else was ever started.
    await Promise.all(active.map((u) => server.stopIfIdle(u)));
    expect(server.runningUsers()).toEqual([]);
    expect(server.sleepingUsers()).toHaveLength(1_000);
  });

  it('a user whose last alarm fired while no session was connected is stopped by the idle sweep', async () => {
    const data = tempDir();
    const server = await createMcpServer({ data, idleSweepMs: 50 });
    cleanups.push(() => server.close());
    const http = await serveHttp(server, { data });
    const a = await httpClient(http.url, (await addToken(data, 'ada')).token);
    await ok(a.client, 'alarm_set', { when: 'in 1 second', target: 'Inbox', message: 'bye' });
    await a.client.close();
    await http.close();
    expect(server.runningUsers()).toEqual(['ada']);
    await new Promise<void>((resolve) =>
      server.runtime.events.on('actor.stopped', (e) => {
        if (e.name === 'Alarm:ada') resolve();
      }),
    );
    expect(server.runningUsers()).toEqual([]);
    // The delivery reached the inbox before the subtree stopped, and nothing is pending.
    const db = new Database(join(data, 'ada.db'), { readonly: true });
    expect(db.prepare("SELECT json_extract(message, '$.text') AS text FROM mcp_inbox").all()).toEqual([
      { text: 'bye' },
    ]);
    db.close();
    const again = await createMcpServer({ data });
    cleanups.push(() => again.close());
    expect(again.runningUsers()).toEqual([]);
  });
});
