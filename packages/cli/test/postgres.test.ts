/**
 * Every `vigil alarms` and `vigil workflows` command against PostgreSQL (`--db postgres://...`),
 * on a throwaway cluster: the same command lines print the same output as on a SQLite file;
 * read commands and `cancel` refuse a database without Vigil's tables and create nothing there;
 * a connection that fails is a typed error that never prints the password.
 */
import { join } from 'node:path';
import { openPostgresRunStore } from '@vigil/postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { withCluster } from '../../postgres/test/with-cluster.js';
import { line, run } from '../../workflow/test/run-store-contract.js';
import { NOW, tempDir, vigil } from './helpers.js';

/** A fresh, empty database. */
const { database } = withCluster('cli');

async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    return r.rows.map((row) => row.tablename);
  } finally {
    await c.end();
  }
}

describe('alarms: the same command lines, the same output as on SQLite', () => {
  const dir = tempDir();
  // Each step is run on both databases; `later` runs it two minutes on, when alarm 1 is due.
  const script: { argv: string[]; later?: boolean }[] = [
    { argv: ['alarms', 'set', 'in 1 minute', '--target', 'Log', '--message', '{"text":"one"}'] },
    {
      argv: ['alarms', 'set', 'tomorrow at 9am', '--target', 'Pushover', '--message', '{"title":"t"}'],
    },
    { argv: ['alarms', 'set', 'in 1 hour', '--target', 'Log', '--message', '{}', '--every', '1 day'] },
    { argv: ['alarms', 'set', 'in 2 hours', '--target', 'Log', '--message', '{}', '--key', 'k1'] },
    { argv: ['alarms', 'set', 'in 3 hours', '--target', 'Log', '--message', '{}', '--key', 'k1', '--json'] },
    { argv: ['alarms', 'list'] },
    { argv: ['alarms', 'list', '--status', 'pending', '--target', 'Log', '--limit', '2', '--json'] },
    { argv: ['alarms', 'list', '--after', '2', '--tz', 'Europe/Paris'] },
    { argv: ['alarms', 'get', '3'] },
    { argv: ['alarms', 'get', '2', '--json'] },
    { argv: ['alarms', 'history', '3'] },
    { argv: ['alarms', 'stats'] },
    { argv: ['alarms', 'stats', '--json'] },
    { argv: ['alarms', 'cancel', '2'] },
    { argv: ['alarms', 'cancel', '2'] },
    { argv: ['alarms', 'cancel', '1'], later: true },
    { argv: ['alarms', 'get', '1', '--json'], later: true },
    { argv: ['alarms', 'get', '99'] },
    { argv: ['alarms', 'set', 'yesterday', '--target', 'Log', '--message', '{}'] },
    { argv: ['alarms', 'list', '--status', 'cancelled'] },
  ];

  it('runs the script on both and compares every exit code, stdout and stderr', async () => {
    const file = join(dir, 'vigil.db');
    const url = database();
    for (const step of script) {
      const io = step.later ? { now: () => NOW + 120_000 } : {};
      const onFile = await vigil([...step.argv, '--db', file], io);
      const onPg = await vigil([...step.argv, '--db', url], io);
      const shared = step.argv[1] === 'stats' ? withoutNodeFigures(onPg) : onPg;
      expect({ step: step.argv.join(' '), ...shared }).toEqual({ step: step.argv.join(' '), ...onFile });
    }
    // The script did what it says, not merely the same wrong thing twice.
    const pending = await vigil(['alarms', 'list', '--status', 'pending', '--json', '--db', url]);
    expect(JSON.parse(pending.stdout).map((a: { id: number }) => a.id)).toEqual([1, 3, 4]);
    const due = await vigil(['alarms', 'get', '1', '--json', '--db', url]);
    expect(JSON.parse(due.stdout).cancelRequestedAt).toBe(NOW + 120_000);
    const cancelled = await vigil(['alarms', 'get', '2', '--json', '--db', url]);
    expect(JSON.parse(cancelled.stdout).status).toBe('cancelled');
    // What only a shared store has: due alarms no live node declares (the CLI is not a node), and
    // the skew of this process's clock against the server's.
    const stats = JSON.parse((await vigil(['alarms', 'stats', '--json', '--db', url])).stdout);
    expect(stats).toMatchObject({ unrouted: expect.any(Number), clockSkewMs: expect.any(Number) });
    const human = await vigil(['alarms', 'stats', '--db', url]);
    expect(human.stdout).toMatch(new RegExp(`unrouted +${stats.unrouted} due, waiting for a node`));
  });
});

/** `stats` output of PostgreSQL without the figures a single-node SQLite file does not have. */
function withoutNodeFigures<T extends { stdout: string }>(result: T): T {
  if (result.stdout.trimStart().startsWith('{')) {
    const { unrouted: _u, clockSkewMs: _c, ...rest } = JSON.parse(result.stdout);
    expect(typeof _u).toBe('number');
    const end = result.stdout.endsWith('\n') ? '\n' : '';
    return { ...result, stdout: `${JSON.stringify(rest, null, 2)}${end}` };
  }
  return { ...result, stdout: result.stdout.replace(/^unrouted .*\n/m, '') };
}

describe('alarms: what a PostgreSQL database must hold', () => {
  it.each([
    [['alarms', 'list']],
    [['alarms', 'get', '1']],
    [['alarms', 'history', '1']],
    [['alarms', 'stats']],
    [['alarms', 'cancel', '1']],
  ])('%j refuses a database without the alarm tables and creates nothing', async (argv) => {
    const url = database();
    const r = await vigil([...argv, '--db', url]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(`vigil: DB_NOT_FOUND: no Vigil alarm tables in the database at ${url}\n`);
    expect(await tables(url)).toEqual([]);
  });

  it('set creates the tables in an empty database', async () => {
    const url = database();
    const r = await vigil([
      'alarms',
      'set',
      'in 5 minutes',
      '--target',
      'Log',
      '--message',
      '{}',
      '--db',
      url,
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^set alarm 1\n/);
    expect(await tables(url)).toContain('vigil_alarms');
  });

  it('an unreachable server: a typed error, exit 1, and the password never printed', async () => {
    for (const argv of [
      ['alarms', 'list'],
      ['alarms', 'set', 'in 5 minutes', '--target', 'Log', '--message', '{}'],
      ['workflows', 'list'],
    ]) {
      const r = await vigil([...argv, '--db', 'postgres://ada:s3cret@127.0.0.1:1/vigil']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^vigil: STORE_(FAILED|UNAVAILABLE): /);
      expect(r.stderr).not.toContain('s3cret');
    }
  });
});

describe('workflows on PostgreSQL', () => {
  it('lists and shows the runs of the PostgreSQL run store, as on SQLite', async () => {
    const url = database();
    const store = await openPostgresRunStore({ connectionString: url });
    await store.insert(
      run('r1', { workflow: 'follow-up', nextAt: NOW + 3_600_000, createdAt: NOW, updatedAt: NOW }),
    );
    await store.insert(run('r2', { workflow: 'other', status: 'completed', createdAt: NOW, updatedAt: NOW }));
    await store.save(
      run('r1', { workflow: 'follow-up', seq: 2, step: 'b', createdAt: NOW, updatedAt: NOW }),
      [line(1, 'next', 'b')],
    );
    await store.close();

    const list = await vigil(['workflows', 'list', '--db', url]);
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+WORKFLOW\s+VERSION\s+STATUS/);
    expect(list.stdout).toMatch(/\nr1\s+follow-up\s+1\s+running\s+b\s/);
    expect(list.stdout).toMatch(/\nr2\s+other\s+1\s+completed\s/);

    const filtered = await vigil(['workflows', 'list', '--status', 'completed', '--json', '--db', url]);
    expect(JSON.parse(filtered.stdout).map((r: { id: string }) => r.id)).toEqual(['r2']);

    const show = await vigil(['workflows', 'show', 'r1', '--json', '--db', url]);
    expect(JSON.parse(show.stdout)).toMatchObject({
      run: { id: 'r1', seq: 2, step: 'b' },
      history: [{ seq: 1, outcome: 'next', detail: 'b' }],
    });
    const missing = await vigil(['workflows', 'show', 'nope', '--db', url]);
    expect(missing).toMatchObject({ code: 1, stderr: 'vigil: NOT_FOUND: no workflow run with id "nope"\n' });
  });

  it('a database with alarms only has no workflow runs table, and none is created', async () => {
    const url = database();
    await vigil(['alarms', 'set', 'in 5 minutes', '--target', 'Log', '--message', '{}', '--db', url]);
    const r = await vigil(['workflows', 'list', '--db', url]);
    expect(r).toMatchObject({
      code: 1,
      stderr: 'vigil: NO_WORKFLOWS: no workflow runs table in this database\n',
    });
    expect(await tables(url)).not.toContain('vigil_workflow_runs');
  });
});
