import { SchemaTooNewError } from '@vigil/alarm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore, POSTGRES_SCHEMA_VERSION } from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

async function version(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query('SELECT version FROM vigil_schema')).rows[0].version;
  } finally {
    await c.end();
  }
}

it('creates the schema at the current version; opening again changes nothing', async () => {
  cluster.createDatabase('m1');
  const url = cluster.url('m1');
  const a = await openPostgresStore({ connectionString: url });
  await a.insert([{ fireAt: 1, target: 'Log', message: '{}', createdAt: 1 }]);
  await a.close();
  const b = await openPostgresStore({ connectionString: url });
  expect((await b.stats()).total).toBe(1);
  await b.close();
  expect(await version(url)).toBe(POSTGRES_SCHEMA_VERSION);
});

it('several stores opening at once migrate exactly once', async () => {
  cluster.createDatabase('m2');
  const url = cluster.url('m2');
  const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ connectionString: url })));
  await Promise.all(stores.map((s) => s.close()));
  expect(await version(url)).toBe(POSTGRES_SCHEMA_VERSION);
});

it('refuses a database from a newer schema with a typed error and leaves it untouched', async () => {
  cluster.createDatabase('m3');
  const url = cluster.url('m3');
  await (await openPostgresStore({ connectionString: url })).close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('UPDATE vigil_schema SET version = $1', [POSTGRES_SCHEMA_VERSION + 1]);
  await c.end();
  const err = await openPostgresStore({ connectionString: url }).catch((e) => e);
  expect(err).toBeInstanceOf(SchemaTooNewError);
  expect(err).toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW', found: POSTGRES_SCHEMA_VERSION + 1 });
  expect(await version(url)).toBe(POSTGRES_SCHEMA_VERSION + 1);
});

it('an unreachable server rejects with STORE_UNAVAILABLE', async () => {
  const err = await openPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none' }).catch(
    (e) => e,
  );
  expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', operation: 'open' });
});
