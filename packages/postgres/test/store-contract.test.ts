/** The shared AlarmStore contract, run on a throwaway PostgreSQL cluster. */
import type { AlarmStore } from '@vigil/alarm';
import { storeContract } from '../../alarm/test/store-contract.js';
import { openPostgresStore } from '../src/index.js';
import { withCluster } from './with-cluster.js';

const pg = withCluster('contract');
let url = '';

storeContract('PostgreSQL', {
  async open(): Promise<AlarmStore> {
    // A fresh database per test: ids start at 1 and nothing leaks between tests.
    url = pg.database();
    return openPostgresStore({ connectionString: url });
  },
  openOther: () => openPostgresStore({ connectionString: url }),
});
