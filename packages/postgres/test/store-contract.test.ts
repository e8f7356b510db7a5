/** The shared AlarmStore contract, run on a throwaway PostgreSQL cluster. */
import type { AlarmStore } from '@vigil/alarm';
import { afterAll, beforeAll } from 'vitest';
import { storeContract } from '../../alarm/test/store-contract.js';
import { openPostgresStore } from '../src/index.js';
import { type Cluster, startCluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(() => cluster?.stop());

let n = 0;
let url = '';

storeContract('PostgreSQL', {
  async open(): Promise<AlarmStore> {
    // A fresh database per test: ids start at 1 and nothing leaks between tests.
    const name = `contract_${++n}`;
    cluster.createDatabase(name);
    url = cluster.url(name);
    return openPostgresStore({ connectionString: url });
  },
  openOther: () => openPostgresStore({ connectionString: url }),
});
