/** The shared RunStore contract, run on a throwaway PostgreSQL cluster, with two stores as two nodes. */
import type { RunStore } from '@vigil/workflow';
import { afterAll, beforeAll } from 'vitest';
import { runStoreContract } from '../../workflow/test/run-store-contract.js';
import { openPostgresRunStore } from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';
import { lockWaited } from './lock-waited.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

let n = 0;
let url = '';

runStoreContract('PostgreSQL', {
  async open(): Promise<RunStore> {
    // A fresh database per test: nothing leaks between tests.
    const name = `runs_${++n}`;
    cluster.createDatabase(name);
    url = cluster.url(name);
    return openPostgresRunStore({ connectionString: url });
  },
  openOther: () => openPostgresRunStore({ connectionString: url }),
  lockWaited: () => lockWaited(url),
});
