/**
 * Test helper: resolves once a session of the database at `url` waits for a per-run lock (a
 * second node's `withRun` blocked behind the first). It asks the server every 10 ms: the wait is
 * in another connection, and the server is the only one that can see it.
 */
import pg from 'pg';

export async function lockWaited(url: string, capMs = 20_000): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const deadline = Date.now() + capMs; Date.now() < deadline; ) {
      const r = await client.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%vigil_workflow_locks%'`,
      );
      if (r.rows[0].n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no session waited for a run lock within ${capMs} ms`);
  } finally {
    await client.end();
  }
}
