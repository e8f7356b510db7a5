/**
 * The dashboard in a real browser: a runtime with alarms, a crashing actor and a workflow; the
 * tree, a restart appearing live, the alarms list, cancelling an alarm through the UI (checked
 * in the database), and an action refused without a token. With VIGIL_SCREENSHOTS=1 each view
 * is saved to docs/screenshots/ (`pnpm screenshots`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AlarmClient, alarmSupervisor, openSqliteStore } from '@vigil/alarm';
import { createRuntime, Exit, exit, type Runtime, reply, worker } from '@vigil/runtime';
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

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dashboard-'));
  file = path.join(dir, 'vigil.db');
  runtime = createRuntime();
  await runtime.start([worker('Log', ok), worker('Crashy', crashy), alarmSupervisor({ db: file })]);
  const alarms = new AlarmClient(runtime);
  const delivered = runtime.events.waitFor('alarm.delivered');
  await alarms.set(Date.now() + 5, 'Log', { type: 'note', text: 'soon' });
  pending = (
    await alarms.set('in 2 hours', 'Log', { type: 'note', text: 'water the plants' }, { key: 'plants' })
  ).id;
  await alarms.set('in 3 hours', 'Log', { type: 'note', text: 'call back' });
  await delivered;
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
    expect(await page.$$eval('tbody tr', (rows) => rows.length)).toBe(3);
    await page.select('select[name="status"]', 'pending');
    await page.click('#filter button');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 2);
    await shot(page, 'alarms');
    await page.click(`a[href="#alarm/${pending}"]`);
    await page.waitForSelector('#status');
    expect(await page.$eval('pre', (el) => el.textContent)).toContain('water the plants');
    await shot(page, 'alarm');
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
    expect(total).toBe(1);
    const minute = await page.$$eval('#minutes tbody tr td', (tds) => tds.map((td) => td.textContent));
    expect(minute.slice(1)).toEqual(['1', '0', '0']);
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
    } finally {
      await ro.close();
    }
  });
});
