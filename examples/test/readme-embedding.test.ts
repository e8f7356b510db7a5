/**
 * The README's "Embedding Vigil" snippet, taken from README.md as it is and run as an app would
 * run it: an ES module in its own process, twice on the same database, stopped each time with
 * SIGTERM. It promises that starting again schedules nothing twice (one note alarm, one run) and
 * that SIGTERM stops the runtime and lets the process exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
// The driver the alarm package uses, to read both tables as they are on disk.
const Database = createRequire(path.join(here, '../../packages/alarm/package.json'))(
  'better-sqlite3',
) as new (
  file: string,
  options: { readonly: boolean },
) => { prepare(sql: string): { all(): unknown[] }; close(): void };
const readme = fs.readFileSync(path.join(here, '../../README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Embedding Vigil'));
const snippet = /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

// Beside the examples' sources, so that its `@vigil/*` imports resolve as an app's would.
const file = path.join(here, `../src/.readme-embedding-${process.pid}.mjs`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-readme-'));
afterAll(() => {
  fs.rmSync(file, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the snippet until it prints its run line, then sends SIGTERM; resolves with its exit. */
async function runOnce(): Promise<{ code: number | null; stdout: string }> {
  // tsx resolved from here: the app's directory (cwd, where vigil.db goes) is a bare temp dir.
  const child: ChildProcess = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), file], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^run onboarding-ada: /m.test(stdout)) resolve();
    });
    child.once('exit', () => reject(new Error(`the snippet exited before its run line:\n${stdout}`)));
  });
  child.kill('SIGTERM');
  return { code: await exited, stdout };
}

describe("README's embedding snippet", () => {
  it('is in the README, as an ES module with top-level await', () => {
    expect(snippet).toContain("from '@vigil/alarm'");
    expect(section).toMatch(/must be\s+ESM/);
  });

  it('run twice on one database: one note alarm, one run; SIGTERM stops it and the process exits', async () => {
    fs.writeFileSync(file, snippet);
    const first = await runOnce();
    const second = await runOnce();
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const db = new Database(path.join(dir, 'vigil.db'), { readonly: true });
    try {
      expect(db.prepare(`SELECT key FROM alarms WHERE target = 'Inbox'`).all()).toEqual([
        { key: 'stand-up-note' },
      ]);
      expect(db.prepare('SELECT id FROM workflow_runs').all()).toEqual([{ id: 'onboarding-ada' }]);
    } finally {
      db.close();
    }
  }, 60_000);
});
