/**
 * `vigil mcp --http` and `vigil mcp token add|revoke` as a user runs them: child processes of the
 * CLI entry, reached by the SDK's `Client` over Streamable HTTP.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, httpClient, ok, ROOT, tempDir } from './helpers.js';

const vigil = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=@vigil/source', '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Starts `vigil mcp --http --port 0` and resolves with the URL it prints on stderr. */
function serve(data: string): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--conditions=@vigil/source', '--import', 'tsx', CLI, 'mcp', '--data', data, '--http', '--port', '0'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /listening on (http:\S+)/.exec(err);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`vigil mcp exited ${code}: ${err}`)));
  });
}

describe('vigil mcp --http and vigil mcp token', () => {
  // Four CLI processes start from TypeScript sources (tsx) one after another: seconds each on a
  // loaded 2-core machine, so this test gets more than the default 30 s. A bound, not a retry.
  it('a token from `token add` opens a session; the file holds only a hash; `token revoke` ends it', {
    timeout: 120_000,
  }, async () => {
    const data = tempDir();
    const added = vigil('mcp', 'token', 'add', '--data', data, '--user', 'ada');
    expect(added.status).toBe(0);
    const token = added.stdout.trim();
    expect(token).toMatch(/^vgl_[0-9a-f]{8}_/);
    const file = readFileSync(join(data, 'tokens.json'), 'utf8');
    expect(file).not.toContain(token.slice(13));
    expect(JSON.parse(file).tokens[0]).toMatchObject({ user: 'ada' });

    const url = await serve(data);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const { client } = await httpClient(url, token);
    const set = await ok<{ alarm: { id: number; target: string } }>(client, 'alarm_set', {
      when: 'in 1 hour',
      target: 'Inbox',
      message: 'hello',
    });
    expect(set.alarm.target).toBe('Inbox');
    expect((await ok<{ alarms: unknown[] }>(client, 'alarm_list', {})).alarms).toHaveLength(1);

    const id = token.slice(4, 12);
    expect(vigil('mcp', 'token', 'revoke', '--data', data, id).status).toBe(0);
    await expect(client.callTool({ name: 'alarm_list', arguments: {} })).rejects.toThrow();
    expect(vigil('mcp', 'token', 'revoke', '--data', data, id).status).toBe(1);
    expect(vigil('mcp', 'token', 'add', '--data', data, '--user', '../x').stderr).toMatch(/INVALID_USER/);
  });
});
