/**
 * One throwaway PostgreSQL cluster per test file: started before the file's tests, stopped after
 * them, with a fresh empty database per call of `database()`, so nothing leaks between tests.
 * Apart from cluster.ts because it registers vitest hooks: the torture and the benchmarks import
 * cluster.ts outside vitest.
 */
import { afterAll, beforeAll } from 'vitest';
import { type Cluster, type ClusterOptions, startCluster } from './cluster.js';

export interface ClusterFixture {
  /** Creates a fresh database, named `<prefix>_<n>`, and returns its `postgres://` URL. */
  database(): string;
  /** The running cluster (inside tests and hooks only). */
  cluster(): Cluster;
}

/**
 * Registers the cluster's start (`beforeAll`) and stop (`afterAll`) for the calling test file.
 *
 * @example
 * const pg = withCluster('leases');
 * it('...', async () => { const url = pg.database(); ... });
 */
export function withCluster(prefix: string, options: ClusterOptions = {}): ClusterFixture {
  let started: Cluster | undefined;
  let n = 0;
  beforeAll(async () => {
    started = await startCluster(options);
  }, 60_000);
  afterAll(() => started?.stop());
  const cluster = (): Cluster => {
    if (!started) throw new Error('the PostgreSQL cluster is not started: use it inside a test or hook');
    return started;
  };
  return {
    cluster,
    database() {
      const name = `${prefix}_${++n}`;
      cluster().createDatabase(name);
      return cluster().url(name);
    },
  };
}
