/**
 * The PostgreSQL server of the PG rows: one throwaway cluster (the tests' helper, Debian's
 * binaries, loopback, a free port) started by the orchestrator for the whole run, with
 * PostgreSQL's durability on (fsync, full page writes: the rows measure durable writes), and a
 * fresh database for each case so that no system reads another's rows or leftovers. The cluster
 * is remembered so that an error or SIGINT in the orchestrator still stops it.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { type Cluster, startCluster } from '../../packages/postgres/test/cluster.js';

let cluster: Cluster | undefined;
let databases = 0;

/** Starts the run's cluster (once). */
export async function startPostgres(): Promise<void> {
  cluster ??= await startCluster({ durable: true });
}

/** A new empty database on the run's cluster, as a `postgres://` URL. */
export function freshDatabase(prefix: string): string {
  if (!cluster) throw new Error('startPostgres() first');
  const name = `${prefix.replace(/[^a-z0-9]/g, '_')}_${++databases}`;
  cluster.createDatabase(name);
  return cluster.url(name);
}

/** Stops the run's cluster; idempotent. */
export function stopPostgres(): void {
  const c = cluster;
  cluster = undefined;
  c?.stop();
}

/** The server's version, from the binaries the cluster runs. */
export function postgresVersion(): string {
  const root = '/usr/lib/postgresql';
  const major = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const out = execFileSync(`${root}/${major}/bin/postgres`, ['--version'], { encoding: 'utf8' });
  return /(\d+(\.\d+)*)/.exec(out)?.[1] ?? out.trim();
}
