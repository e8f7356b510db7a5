/**
 * The dashboard in a real browser: a runtime with alarms (one a recurring series), a crashing
 * actor and a workflow; the tree, a restart appearing live, the alarms list and its filters, a
 * series with its occurrences, cancelling an alarm through the UI (checked in the database), the
 * runs list and a run's timeline, signalling and cancelling runs through the UI (checked in the
 * run store), and actions refused without a token. With VIGIL_SCREENSHOTS=1 each view is saved
 * to docs/screenshots/ (`pnpm screenshots`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AlarmClient, alarmSupervisor, openSqliteStore } from '@vigil/alarm';
import { createRuntime, Exit, exit, type Runtime, reply, worker } from '@vigil/runtime';
import {
  defineWorkflow,
  end,
  openSqliteRunStore,
  schedulerWorker,
  WorkflowClient,
  waitFor,
} from '@vigil/workflow';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import { type Dashboard, dashboard } from '../src/index.js';
import { launch } from './browser.js';

const SHOTS = process.env.VIGIL_SCREENSHOTS
  ? path.resolve(import.meta.dirname, '../../../docs/screenshots')
  : null;
const TOKEN = 'correct horse battery staple';

const ok = fromCallback(({ receive }) => receive((e) => reply(e, true)));
const crashy = fromCallback(({ receive, self }) => receive(() => exit(self, Exit.error(new Error('boom')))));

let dir: string;
let file: string;
let runtime: Runtime;
let board: Dashboard;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let pending: number;
let series: number;
/** Alarm events since the dashboard started (what its stats count). */
let firedSinceBoard = 0;
let deliveredSinceBoard = 0;

const approval = defineWorkflow<{ item: string }>({
  name: 'approval',
  start: 'ask',
  steps: {
    ask: ({ context }) => waitFor('approve', { onSignal: 'done', context }),
    done: ({ event }) => end({ result: { approvedBy: event?.by ?? null } }),
  },
});

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dashboard-'));
  file = path.join(dir, 'vigil.db');
  runtime = createRuntime();
  await runtime.start([
    worker('Log', ok),
    worker('Crashy', crashy),
    alarmSupervisor({ db: file }),
    schedulerWorker({ db: file, workflows: [approval] }),
  ]);
  const alarms = new AlarmClient(runtime);
  let deliveries = 0;
  const twoDelivered = new Promise<void>((resolve) =>
    runtime.events.on('alarm.delivered', () => {
      if (++deliveries === 2) resolve();
    }),
  );
  await alarms.set(Date.now() + 5, 'Log', { type: 'note', text: 'soon' });
  // A series: its first occurrence is delivered now, the next one is two hours away.
  series = (
    await alarms.set(
      Date.now() + 5,
      'Log',
      { type: 'note', text: 'stretch' },
      { recurrence: { every: '2 hours' } },
    )
  ).id;
  pending = (
    await alarms.set('in 2 hours', 'Log', { type: 'note', text: 'water the plants' }, { key: 'plants' })
  ).id;
  await alarms.set('in 3 hours', 'Log', { type: 'note', text: 'call back' });
  await twoDelivered;
  // Two runs waiting for their signal: one is signalled and one cancelled through the UI.
  const waiting = new Set<string>();
  const bothWaiting = new Promise<void>((resolve) =>
    runtime.events.on('workflow.stepped', (e) => {
      if (e.outcome === 'wait') waiting.add(e.runId);
      if (waiting.size === 2) resolve();
    }),
  );
  const workflows = new WorkflowClient(runtime);
  await workflows.start('approval', { item: 'invoice 42' }, { runId: 'invoice-42' });
  await workflows.start('approval', { item: 'invoice 43' }, { runId: 'invoice-43' });
  await bothWaiting;
  runtime.events.on('alarm.fired', () => firedSinceBoard++);
  runtime.events.on('alarm.delivered', () => deliveredSinceBoard++);
  board = await dashboard(runtime, { port: 0, token: TOKEN, batchMs: 50 });
  ({ browser, close: closeBrowser } = await launch());
});

afterAll(async () => {
  await closeBrowser?.();
  await board?.close();
  await runtime?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(hash: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 700 });
  await page.goto(`${board.url}${hash}`);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

describe('dashboard in chromium', () => {
  it('shows the tree and a restart appearing live', async () => {
    const page = await open('#tree');
    await page.waitForSelector('li[data-actor="Crashy"]');
    const text = await page.$eval('li[data-actor="Crashy"]', (el) => el.textContent ?? '');
    expect(text).toContain('running #1');
    runtime.send('Crashy', { type: 'go' });
    await page.waitForFunction(() =>
      document.querySelector('li[data-actor="Crashy"]')?.textContent?.includes('1 restart'),
    );
    expect(await page.$eval('li[data-actor="Crashy"]', (el) => el.textContent)).toContain('#2');
    await shot(page, 'tree');
    await page.close();
  });

  it('lists alarms, filters by status, and shows one alarm', async () => {
    const page = await open('#alarms');
    await page.waitForSelector('tbody tr');
    // Four set here, and the first step alarm of each of the two runs (fired).
    expect(await page.$$eval('tbody tr', (rows) => rows.length)).toBe(6);
    await page.select('select[name="status"]', 'pending');
    await page.click('#filter button');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 3);
    await shot(page, 'alarms');
    await page.click(`a[href="#alarm/${pending}"]`);
    await page.waitForSelector('#status');
    expect(await page.$eval('pre', (el) => el.textContent)).toContain('water the plants');
    await shot(page, 'alarm');
    await page.close();
  });

  it('filters alarms by key and by a range of instants', async () => {
    const page = await open('#alarms?key=plants');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
    expect(await page.$eval('tbody tr td', (td) => td.textContent)).toBe(String(pending));
    // From 90 minutes to 150 minutes ahead: the plants (2 h) and the series' next occurrence (2 h).
    const from = Date.now() + 90 * 60_000;
    const to = Date.now() + 150 * 60_000;
    await page.goto(`${board.url}#alarms?from=${from}&to=${to}`);
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 2);
    const ids = await page.$$eval('tbody tr td:first-child', (tds) =>
      tds.map((td) => Number(td.textContent)),
    );
    expect(ids.sort((a, b) => a - b)).toEqual([series, pending].sort((a, b) => a - b));
    const bad = await fetch(`${board.url}api/alarms?from=yesterday`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('INVALID_FILTER');
    await page.close();
  });

  it('shows a series with its next instant, counts and settled occurrences', async () => {
    const page = await open(`#alarm/${series}`);
    await page.waitForSelector('#occurrences');
    expect(await page.$eval('#series', (el) => el.textContent)).toMatch(
      /Occurrence 2, next at .* delivered 1 · missed 0 · failed 0/,
    );
    const cells = await page.$$eval('#occurrences tbody td', (tds) => tds.map((td) => td.textContent));
    expect([cells[0], cells[3], cells[4]]).toEqual(['1', '1', 'delivered']);
    await shot(page, 'alarm-series');
    await page.close();
  });

  it('lists runs, filters them, and shows a run with its timeline', async () => {
    const page = await open('#runs');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 2);
    await page.goto(`${board.url}#runs?status=completed`);
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 0);
    await page.goto(`${board.url}#runs?status=waiting&workflow=approval`);
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 2);
    await shot(page, 'runs');
    await page.click('a[href="#run/invoice-42"]');
    await page.waitForSelector('#timeline');
    expect(await page.$eval('#waiting', (el) => el.textContent)).toContain('approve');
    expect(await page.$eval('#timeline', (el) => el.textContent)).toMatch(/ask \(attempt 1, \d+ ms\) → wait/);
    await shot(page, 'run');
    await page.close();
  });

  it('signals one run and cancels another through the UI once logged in (checked in the run store)', async () => {
    const page = await open('#run/invoice-42');
    page.on('dialog', (d) => void d.accept());
    await page.waitForSelector('#signal');
    // Without a session the signal is refused and changes nothing.
    await page.click('#signal button');
    await page.waitForFunction(() => document.getElementById('result')?.textContent?.startsWith('Refused'));
    const runs = openSqliteRunStore(file, { readonly: true });
    expect((await runs.get('invoice-42'))?.status).toBe('waiting');

    await page.type('#token', TOKEN);
    await page.click('#login button');
    await page.waitForFunction(() => document.getElementById('session')?.textContent === 'Actions enabled');
    const ended = new Promise<void>((resolve) =>
      runtime.events.on('workflow.ended', (e) => {
        if (e.runId === 'invoice-42') resolve();
      }),
    );
    await page.$eval('#signal input[name="payload"]', (el) => {
      (el as HTMLInputElement).value = '{"by":"ada"}';
    });
    await page.click('#signal button');
    await ended;
    expect(await runs.get('invoice-42')).toMatchObject({
      status: 'completed',
      result: { approvedBy: 'ada' },
    });

    await page.goto(`${board.url}#run/invoice-43`);
    await page.waitForSelector('#cancel');
    await page.click('#cancel');
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'cancelled');
    expect((await runs.get('invoice-43'))?.status).toBe('cancelled');
    await runs.close();
    await page.close();
  });

  it('refuses a cancel without a session, then cancels after logging in (checked in the database)', async () => {
    const page = await open(`#alarm/${pending}`);
    page.on('dialog', (d) => void d.accept());
    await page.waitForSelector('#cancel');
    await page.click('#cancel');
    await page.waitForFunction(() => document.getElementById('result')?.textContent?.startsWith('Refused'));
    const store = openSqliteStore(file);
    expect((await store.get(pending))?.status).toBe('pending');

    await page.type('#token', TOKEN);
    await page.click('#login button');
    await page.waitForFunction(() => document.getElementById('session')?.textContent === 'Actions enabled');
    await page.click('#cancel');
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'cancelled');
    expect((await store.get(pending))?.status).toBe('cancelled');
    await store.close();
    await page.close();
  });

  it('a wrong token opens no session, and a forged POST without one is refused', async () => {
    const res = await fetch(`${board.url}api/login`, {
      method: 'POST',
      body: JSON.stringify({ token: 'nope' }),
    });
    expect(res.status).toBe(401);
    const forged = await fetch(`${board.url}api/alarms/1/cancel`, {
      method: 'POST',
      headers: { 'x-vigil-csrf': 'x' },
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { code: string }).code).toBe('NO_SESSION');
  });

  it('shows the lateness histogram and the per-minute counts', async () => {
    const delivered = runtime.events.waitFor('alarm.delivered');
    await new AlarmClient(runtime).set(Date.now() + 5, 'Log', { type: 'note', text: 'now' });
    await delivered;
    const page = await open('#stats');
    await page.waitForSelector('#lateness');
    const total = await page.$$eval('#lateness td', (tds) =>
      tds.reduce((n, td) => n + Number(td.textContent?.trim()), 0),
    );
    expect(total).toBe(firedSinceBoard);
    expect(total).toBeGreaterThan(0);
    // Summed over the minutes shown (the test may cross a minute's boundary).
    const sums = await page.$$eval('#minutes tbody tr', (rows) =>
      rows.reduce(
        (sum, row) => {
          const cells = Array.from(row.querySelectorAll('td'))
            .slice(1)
            .map((td) => Number(td.textContent));
          return sum.map((n, i) => n + (cells[i] ?? 0));
        },
        [0, 0, 0],
      ),
    );
    expect(sums).toEqual([deliveredSinceBoard, 0, 0]);
    await shot(page, 'stats');
    await page.close();
  });
});

describe('read-only dashboard', () => {
  it('refuses every action without a configured token', async () => {
    const ro = await dashboard(runtime, { port: 0 });
    try {
      const login = await fetch(`${ro.url}api/login`, {
        method: 'POST',
        body: JSON.stringify({ token: TOKEN }),
      });
      expect(login.status).toBe(403);
      const cancel = await fetch(`${ro.url}api/alarms/1/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(403);
      expect(((await cancel.json()) as { code: string }).code).toBe('READ_ONLY');
      for (const action of ['cancel', 'signal']) {
        const refused = await fetch(`${ro.url}api/runs/invoice-43/${action}`, {
          method: 'POST',
          body: JSON.stringify({ name: 'approve' }),
        });
        expect(refused.status).toBe(403);
        expect(((await refused.json()) as { code: string }).code).toBe('READ_ONLY');
      }
    } finally {
      await ro.close();
    }
  });
});
