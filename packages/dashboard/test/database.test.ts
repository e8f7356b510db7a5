/**
 * The database-only dashboard (`vigil dashboard --db`): alarms from a file with no runtime, no
 * tree, and cancel writing to the file only with a session.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '@vigil/alarm';
import { openSqliteRunStore } from '@vigil/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseDashboard } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function seeded(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dashboard-db-'));
  dirs.push(dir);
  const file = path.join(dir, 'vigil.db');
  const store = openSqliteStore(file);
  const now = Date.now();
  await store.insert(
    Array.from({ length: 60 }, (_, i) => ({
      fireAt: now + (i + 1) * 60_000,
      target: i % 2 ? 'Log' : 'Pushover',
      message: JSON.stringify({ n: i }),
      createdAt: now,
    })),
  );
  await store.close();
  return file;
}

describe('database dashboard', () => {
  it('pages alarms by id, filters by target, has no tree', async () => {
    const file = await seeded();
    const board = await databaseDashboard(file, { port: 0 });
    try {
      const first = (await (await fetch(`${board.url}api/alarms`)).json()) as {
        alarms: { id: number }[];
        next: number;
      };
      expect(first.alarms).toHaveLength(50);
      expect(first.next).toBe(50);
      const second = (await (await fetch(`${board.url}api/alarms?after=50`)).json()) as {
        alarms: { id: number }[];
        next: number | null;
      };
      expect(second.alarms.map((a) => a.id)).toEqual([51, 52, 53, 54, 55, 56, 57, 58, 59, 60]);
      expect(second.next).toBeNull();
      const logs = (await (await fetch(`${board.url}api/alarms?target=Log`)).json()) as {
        alarms: { target: string }[];
      };
      expect(logs.alarms).toHaveLength(30);
      expect(new Set(logs.alarms.map((a) => a.target))).toEqual(new Set(['Log']));
      const bad = await fetch(`${board.url}api/alarms?status=nope`);
      expect(bad.status).toBe(400);
      expect(await (await fetch(`${board.url}api/tree`)).json()).toEqual({ root: null, restarts: {} });
    } finally {
      await board.close();
    }
  });

  it('cancels in the file only with a session', async () => {
    const file = await seeded();
    const board = await databaseDashboard(file, { port: 0, token: 't0ken' });
    try {
      expect((await fetch(`${board.url}api/alarms/3/cancel`, { method: 'POST' })).status).toBe(401);
      const login = await fetch(`${board.url}api/login`, {
        method: 'POST',
        body: JSON.stringify({ token: 't0ken' }),
      });
      const { csrf } = (await login.json()) as { csrf: string };
      const session = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      expect(login.headers.get('set-cookie')).toContain('SameSite=Strict');
      const cancel = await fetch(`${board.url}api/alarms/3/cancel`, {
        method: 'POST',
        headers: { cookie: session, 'x-vigil-csrf': csrf },
      });
      expect(cancel.status).toBe(200);
    } finally {
      await board.close();
    }
    const store = openSqliteStore(file, { readonly: true });
    expect((await store.get(3))?.status).toBe('cancelled');
    expect((await store.get(4))?.status).toBe('pending');
    await store.close();
  });

  it('shows the runs of the file read-only; a file without runs has none', async () => {
    const file = await seeded();
    const board = await databaseDashboard(file, { port: 0, token: 't0ken' });
    try {
      // No workflow ever ran on this file: an empty list, and nothing created by looking.
      expect(await (await fetch(`${board.url}api/runs`)).json()).toEqual({
        runs: [],
        next: null,
        actions: false,
      });
    } finally {
      await board.close();
    }
    const runs = openSqliteRunStore(file);
    const now = Date.now();
    await runs.insert({
      id: 'invoice-7',
      workflow: 'approval',
      kind: 'steps',
      status: 'waiting',
      step: 'ask',
      seq: 1,
      attempt: 1,
      nextAt: null,
      alarmId: null,
      context: { item: 'invoice 7' },
      input: null,
      waiting: { signal: 'approve', onSignal: 'done', deadline: null, onTimeout: null },
      snapshot: null,
      timers: null,
      result: null,
      error: null,
      createdAt: now,
      updatedAt: now,
      endedAt: null,
    });
    await runs.close();
    const again = await databaseDashboard(file, { port: 0, token: 't0ken' });
    try {
      const listed = (await (await fetch(`${again.url}api/runs?status=waiting`)).json()) as {
        runs: { id: string }[];
        actions: boolean;
      };
      expect(listed).toMatchObject({ runs: [{ id: 'invoice-7' }], actions: false });
      const one = (await (await fetch(`${again.url}api/runs/invoice-7`)).json()) as { waiting: unknown };
      expect(one.waiting).toMatchObject({ signal: 'approve' });
      expect((await fetch(`${again.url}api/runs/nope`)).status).toBe(404);
      const login = await fetch(`${again.url}api/login`, {
        method: 'POST',
        body: JSON.stringify({ token: 't0ken' }),
      });
      const { csrf } = (await login.json()) as { csrf: string };
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const cancel = await fetch(`${again.url}api/runs/invoice-7/cancel`, {
        method: 'POST',
        headers: { cookie, 'x-vigil-csrf': csrf },
      });
      expect(cancel.status).toBe(403);
      expect(((await cancel.json()) as { code: string }).code).toBe('NO_SCHEDULER');
    } finally {
      await again.close();
    }
  });
});
