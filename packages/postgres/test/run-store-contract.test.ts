/** The shared RunStore contract, run on a throwaway PostgreSQL cluster, with two stores as two nodes. */
import type { RunStore } from '@vigil/workflow';
import { runStoreContract } from '../../workflow/test/run-store-contract.js';
import { openPostgresRunStore } from '../src/index.js';
import { lockWaited } from './lock-waited.js';
import { withCluster } from './with-cluster.js';

const pg = withCluster('runs');
let url = '';

runStoreContract('PostgreSQL', {
  async open(): Promise<RunStore> {
    // A fresh database per test: nothing leaks between tests.
    url = pg.database();
    return openPostgresRunStore({ connectionString: url });
  },
  openOther: () => openPostgresRunStore({ connectionString: url }),
  lockWaited: () => lockWaited(url),
});
