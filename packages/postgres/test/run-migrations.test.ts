/**
 * The run tables' own schema on PostgreSQL: created and versioned apart from the alarm tables,
 * migrated once when several nodes open at once, a newer schema refused and left untouched, and
 * the read-only opening the CLI uses (never creates, never writes).
 */
import { RunSchemaTooNewError } from '@vigil/workflow';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../workflow/test/run-store-contract.js';
import {
  openPostgresRunStore,
  openPostgresStore,
  POSTGRES_RUN_SCHEMA_VERSION,
  POSTGRES_SCHEMA_VERSION,
  postgresRunStore,
} from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

async function sql<T = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const runVersion = async (url: string) =>
  (await sql<{ version: number }>(url, 'SELECT version FROM vigil_workflow_schema'))[0]?.version;

it('creates the run tables at the current version, beside the alarm tables and their own version', async () => {
  cluster.createDatabase('r1');
  const url = cluster.url('r1');
  await (await openPostgresStore({ connectionString: url })).close();
  const runs = await openPostgresRunStore({ connectionString: url });
  await runs.insert(run('a'));
  await runs.close();
  const again = await openPostgresRunStore({ connectionString: url });
  expect((await again.get('a'))?.workflow).toBe('wf');
  await again.close();
  expect(await runVersion(url)).toBe(POSTGRES_RUN_SCHEMA_VERSION);
  expect(await sql(url, 'SELECT version FROM vigil_schema')).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
});

it('several stores opening at once migrate exactly once', async () => {
  cluster.createDatabase('r2');
  const url = cluster.url('r2');
  const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresRunStore({ connectionString: url })));
  await Promise.all(stores.map((s) => s.close()));
  expect(await sql(url, 'SELECT version FROM vigil_workflow_schema')).toEqual([
    { version: POSTGRES_RUN_SCHEMA_VERSION },
  ]);
});

it('refuses run tables from a newer schema with a typed error and leaves them untouched', async () => {
  cluster.createDatabase('r3');
  const url = cluster.url('r3');
  await (await openPostgresRunStore({ connectionString: url })).close();
  await sql(url, 'UPDATE vigil_workflow_schema SET version = $1', [POSTGRES_RUN_SCHEMA_VERSION + 1]);
  for (const readonly of [false, true]) {
    const err = await openPostgresRunStore({ connectionString: url, readonly }).catch((e) => e);
    expect(err).toBeInstanceOf(RunSchemaTooNewError);
    expect(err).toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW', found: POSTGRES_RUN_SCHEMA_VERSION + 1 });
  }
  expect(await runVersion(url)).toBe(POSTGRES_RUN_SCHEMA_VERSION + 1);
});

it('the Scheduler factory connects in the background: a refused schema rejects its first call', async () => {
  cluster.createDatabase('r4');
  const url = cluster.url('r4');
  await (await openPostgresRunStore({ connectionString: url })).close();
  await sql(url, 'UPDATE vigil_workflow_schema SET version = $1', [POSTGRES_RUN_SCHEMA_VERSION + 1]);
  const store = postgresRunStore({ connectionString: url })();
  await expect(store.active()).rejects.toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW' });
  await expect(store.withRun('x', async () => 1)).rejects.toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW' });
  await store.close();
});

it('read-only: refuses a database without run tables and creates nothing there', async () => {
  cluster.createDatabase('r5');
  const url = cluster.url('r5');
  const err = await openPostgresRunStore({ connectionString: url, readonly: true }).catch((e) => e);
  expect(err).toMatchObject({ code: 'NO_WORKFLOW_TABLES' });
  expect(await sql(url, `SELECT to_regclass('vigil_workflow_schema') AS t`)).toEqual([{ t: null }]);
});

it('read-only: reads what a writer stored, and the server refuses its writes', async () => {
  cluster.createDatabase('r6');
  const url = cluster.url('r6');
  const writer = await openPostgresRunStore({ connectionString: url });
  await writer.insert(run('a'));
  await writer.close();
  const reader = await openPostgresRunStore({ connectionString: url, readonly: true });
  try {
    expect((await reader.list()).map((r) => r.id)).toEqual(['a']);
    await expect(reader.insert(run('b'))).rejects.toMatchObject({
      code: 'STORE_READONLY',
      operation: 'insert',
    });
  } finally {
    await reader.close();
  }
  expect((await sql(url, 'SELECT id FROM vigil_workflow_runs')).length).toBe(1);
});

it('an unreachable server rejects with a typed RunStoreError (STORE_UNAVAILABLE)', async () => {
  const err = await openPostgresRunStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none' }).catch(
    (e) => e,
  );
  expect(err).toMatchObject({ name: 'RunStoreError', code: 'STORE_UNAVAILABLE', operation: 'open' });
  expect(err.message).toMatch(/^workflow run store open failed: /);
});

it.each([
  ['(options)', null],
  ['connectionString', { connectionString: '' }],
  ['max', { connectionString: 'postgres://x', max: 0 }],
  ['maxLocks', { connectionString: 'postgres://x', maxLocks: 1.5 }],
])('bad option %s: INVALID_OPTION before anything connects', (field, options) => {
  expect(() => postgresRunStore(options as never)).toThrow(
    expect.objectContaining({ code: 'INVALID_OPTION', field }),
  );
});
