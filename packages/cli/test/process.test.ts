/**
 * The real `vigil` process, end to end: exit statuses as a shell sees them, stderr without stack
 * traces, and a `set` that is committed by the time the process has exited.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { snapshot, tempDir } from './helpers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const packageVersion = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;

// tsx's loader by absolute URL, so the process may run in any directory.
const tsx = pathToFileURL(createRequire(packageDir).resolve('tsx')).href;

function vigilProcess(args: string[], where: { cwd?: string; initCwd?: string } = {}) {
  const r = spawnSync(process.execPath, ['--import', tsx, join(packageDir, 'src/main.ts'), ...args], {
    cwd: where.cwd ?? packageDir,
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: where.initCwd ?? '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the vigil process', () => {
  it('exits 0, 1 and 2 as documented, and set is durable when it exits', async () => {
    const db = join(tempDir(), 'alarms.db');

    const set = vigilProcess([
      'alarms',
      'set',
      'in 1 hour',
      '--target',
      'Log',
      '--message',
      '{"n":1}',
      '--db',
      db,
    ]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^set alarm 1\n/);

    const missing = vigilProcess(['alarms', 'get', '7', '--db', db]);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'vigil: NOT_FOUND: no alarm with id 7\n' });

    const usage = vigilProcess(['alarms', 'list', '--db', db, '--limit', 'many']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^vigil: USAGE: option '--limit <n>' argument 'many' is invalid/);

    // The entry point answers --version itself, before loading the program.
    const version = vigilProcess(['--version']);
    expect(version).toEqual({ code: 0, stdout: `${packageVersion}\n`, stderr: '' });

    return snapshot(db).then((rows) =>
      expect(rows).toMatchObject([{ id: 1, target: 'Log', message: '{"n":1}' }]),
    );
  });

  it('resolves a relative --db against its own working directory, not INIT_CWD', () => {
    // Inside another project's npm script INIT_CWD names where npm was invoked; vigil may run
    // anywhere else (a `cd` in the script, a child process with its own cwd).
    const here = tempDir();
    const npmInvokedIn = tempDir();
    const r = vigilProcess(
      ['alarms', 'set', 'in 1 hour', '--target', 'Log', '--message', '{}', '--db', 'rel.db'],
      {
        cwd: here,
        initCwd: npmInvokedIn,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(here, 'rel.db'))).toBe(true);
    expect(existsSync(join(npmInvokedIn, 'rel.db'))).toBe(false);
  });
});
