/**
 * `vigil mcp` over stdio, driven by the SDK's real `Client`: the tool list, set / list / cancel /
 * parse, an inbox notification for an alarm due in 1 s, and alarms that still fire into the inbox
 * after the server is killed with SIGKILL and started again.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { failure, inboxItems, ok, stdioClient, tempDir } from './helpers.js';

const TOOLS = [
  'alarm_set',
  'alarm_list',
  'alarm_get',
  'alarm_cancel',
  'alarm_history',
  'time_parse',
  'workflow_start',
  'workflow_signal',
  'workflow_get',
  'workflow_list',
  'inbox_read',
  'inbox_ack',
];

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close().catch(() => undefined);
});

interface AlarmOut {
  alarm: { id: number; status: string; target: string; at: string; atLocal: string; in: string };
}

describe('vigil mcp over stdio', () => {
  it('lists the twelve tools, each with an input and an output schema and a description', async () => {
    const { client } = await stdioClient(tempDir(), 'ada');
    open.push(client);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type).toBe('object');
      expect(t.description?.length).toBeGreaterThan(60);
    }
  });

  it('sets, lists, gets, cancels and parses; the alarm due in 1 s wakes the session through the inbox', async () => {
    const data = tempDir();
    const { client } = await stdioClient(data, 'ada');
    open.push(client);
    const parsed = await ok<{ at: string; in: string }>(client, 'time_parse', { text: 'in 2 hours' });
    expect(parsed.in).toBe('in 2 hours');
    const later = await ok<AlarmOut>(client, 'alarm_set', {
      when: 'in 2 days',
      target: 'Inbox',
      message: 'later',
    });
    expect(later.alarm).toMatchObject({ status: 'pending', target: 'Inbox' });
    expect(later.alarm.in).toMatch(/^in (1 day 23 hours|2 days)/);
    const soon = await ok<AlarmOut>(client, 'alarm_set', {
      when: 'in 1 second',
      target: 'Inbox',
      message: 'check the deploy',
    });
    const listed = await ok<{ alarms: { id: number }[] }>(client, 'alarm_list', { status: 'pending' });
    expect(listed.alarms.map((a) => a.id)).toEqual([later.alarm.id, soon.alarm.id]);
    const cancelled = await ok<AlarmOut>(client, 'alarm_cancel', { id: later.alarm.id });
    expect(cancelled.alarm.status).toBe('cancelled');
    expect((await ok<AlarmOut>(client, 'alarm_get', { id: later.alarm.id })).alarm.status).toBe('cancelled');

    const items = await inboxItems(client);
    expect(items).toMatchObject([{ alarmId: soon.alarm.id, message: 'check the deploy' }]);
    type History = { occurrences: Record<string, unknown>[] };
    const history = await ok<History>(client, 'alarm_history', { id: soon.alarm.id });
    expect(history.occurrences).toMatchObject([
      {
        occurrenceId: `${soon.alarm.id}.1`,
        seq: 1,
        attempts: 1,
        outcome: 'delivered',
        error: null,
        inInbox: true,
        acknowledged: false,
      },
    ]);
    expect(await ok(client, 'inbox_ack', { ids: [items[0]?.id] })).toEqual({ acked: [items[0]?.id] });
    const acked = await ok<History>(client, 'alarm_history', { id: soon.alarm.id });
    expect(acked.occurrences).toMatchObject([{ outcome: 'delivered', acknowledged: true }]);
    // A cancelled alarm that never fired has no settled occurrence.
    expect((await ok<History>(client, 'alarm_history', { id: later.alarm.id })).occurrences).toEqual([]);
    expect((await ok<{ items: unknown[] }>(client, 'inbox_read', {})).items).toEqual([]);
    expect(await failure(client, 'alarm_get', { id: 999 })).toMatchObject({ code: 'NOT_FOUND' });
    expect(readdirSync(data)).toContain('ada.db');
  });

  it('refuses a user id with a path, a NUL byte or 10 kB, and creates no file', async () => {
    const data = tempDir();
    for (const user of ['../escape', 'a\0b', 'x'.repeat(10_000)]) {
      await expect(stdioClient(data, user)).rejects.toThrow();
    }
    expect(readdirSync(data).filter((f) => f.endsWith('.db'))).toEqual([]);
  });

  it('kill -9 with alarms pending: after a restart they still fire into the inbox', async () => {
    const data = tempDir();
    const first = await stdioClient(data, 'ada');
    const a = await ok<AlarmOut>(first.client, 'alarm_set', {
      when: 'in 1 second',
      target: 'Inbox',
      message: 'one',
    });
    const b = await ok<AlarmOut>(first.client, 'alarm_set', {
      when: 'in 2 seconds',
      target: 'Inbox',
      message: 'two',
    });
    process.kill(first.pid, 'SIGKILL');
    await first.client.close().catch(() => undefined);
    const second = await stdioClient(data, 'ada');
    open.push(second.client);
    const items = await inboxItems(second.client, 2);
    expect(items.map((i) => i.alarmId)).toEqual([a.alarm.id, b.alarm.id]);
    expect(items.map((i) => i.message)).toEqual(['one', 'two']);
  });
});
