/**
 * Routing: a node claims only alarms whose target it declares. Nodes publish their declared
 * targets in `vigil_nodes` with a heartbeat (NULL targets: every target, the default when all
 * nodes run the same tree); a row is live until `expires_at`, three heartbeats after the last.
 * A node publishes itself from its first claim on (a store that never claims, such as the CLI's,
 * is not a node), and removes its row when it closes.
 *
 * An alarm that is due but whose target no live node declares is "unrouted": it waits, counted in
 * `stats().unrouted`, until a node that declares its target appears. Or until its tolerance has
 * passed: the alarm's own (a misfire policy `skip` with `toleranceMs`), else the store's
 * `unroutedToleranceMs`; then any live node's heartbeat marks it `failed`, naming the target.
 * Without either tolerance it waits for as long as it takes.
 *
 * A `set` is checked on the node it is made on. A node that routes (declares its targets) also
 * accepts a target that another node declares, or once declared: every heartbeat records the
 * node's names in `vigil_targets`, where they stay after the node is gone (a worker restarting
 * during a deploy must not make the app server's sets fail), and reads the whole list back into
 * `DeclaredTargets`, which the Alarm's synchronous set path consults. A name no node ever declared
 * is refused (`UNKNOWN_TARGET`): typos are still caught at `set`.
 */
import type pg from 'pg';
import { SERVER_NOW } from './clock.js';

/** SQL: a live node declares the target of the alarm row aliased `a`. */
export const ROUTED = `EXISTS (SELECT 1 FROM vigil_nodes n WHERE n.expires_at > ${SERVER_NOW}
  AND (n.targets IS NULL OR a.target = ANY(n.targets)))`;

/** Publishes (or refreshes) this node's declaration, and records its names as declared. */
export async function heartbeat(
  client: pg.ClientBase | pg.Pool,
  nodeId: string,
  targets: readonly string[] | undefined,
  ttlMs: number,
  skewMs: number,
): Promise<void> {
  await client.query(
    `INSERT INTO vigil_nodes (node_id, targets, heartbeat_at, expires_at, skew_ms)
     VALUES ($1, $2, ${SERVER_NOW}, ${SERVER_NOW} + $3::int8, $4)
     ON CONFLICT (node_id) DO UPDATE SET targets = EXCLUDED.targets, heartbeat_at = EXCLUDED.heartbeat_at,
       expires_at = EXCLUDED.expires_at, skew_ms = EXCLUDED.skew_ms`,
    [nodeId, targets === undefined ? null : [...targets], ttlMs, skewMs],
  );
  if (targets === undefined || targets.length === 0) return;
  // Sorted: nodes inserting overlapping names at once take their row locks in one order, so
  // they cannot deadlock. DO NOTHING: a name already known is not rewritten every heartbeat.
  await client.query(
    `INSERT INTO vigil_targets (name, first_declared_at)
     SELECT name, ${SERVER_NOW} FROM unnest($1::text[]) AS name ON CONFLICT (name) DO NOTHING`,
    [[...new Set(targets)].sort()],
  );
}

/**
 * The names any node declares or once declared (`vigil_targets`), as of the last `refresh`: read
 * when the store opens and at each heartbeat, so that the Alarm's `set` can ask synchronously.
 * Until the first read it knows no name.
 */
export class DeclaredTargets {
  #names: ReadonlySet<string> = new Set();

  has(name: string): boolean {
    return this.#names.has(name);
  }

  async refresh(client: pg.ClientBase | pg.Pool): Promise<void> {
    const r = await client.query<{ name: string }>('SELECT name FROM vigil_targets');
    this.#names = new Set(r.rows.map((row) => row.name));
  }
}

/** An unrouted alarm whose tolerance may have passed. */
export interface UnroutedRow {
  id: number;
  target: string;
  fireAt: number;
  misfire: string | null;
  recurrence: string | null;
  occurrence: number;
  scheduledFor: number;
  attempts: number;
  now: number;
}

/** Due alarms (not held under a valid lease) whose target no live node declares, oldest first. */
export async function unroutedDue(client: pg.ClientBase | pg.Pool, limit: number): Promise<UnroutedRow[]> {
  const r = await client.query(
    `SELECT id, target, fire_at AS "fireAt", misfire, recurrence, occurrence, scheduled_for AS "scheduledFor",
       attempts, ${SERVER_NOW} AS now
     FROM vigil_alarms a
     WHERE status = 'pending' AND fire_at <= ${SERVER_NOW}
       AND (claimed_by IS NULL OR lease_until <= ${SERVER_NOW}) AND NOT ${ROUTED}
     ORDER BY fire_at, id LIMIT $1`,
    [limit],
  );
  return r.rows as UnroutedRow[];
}

/** How long an unrouted alarm may wait: its own `skip` tolerance, else the store's (or forever). */
export function toleranceOf(row: UnroutedRow, fallback: number | undefined): number | undefined {
  if (row.misfire !== null) {
    try {
      const m = JSON.parse(row.misfire) as { policy?: unknown; toleranceMs?: unknown };
      if (m.policy === 'skip' && typeof m.toleranceMs === 'number' && m.toleranceMs >= 0)
        return m.toleranceMs;
    } catch {
      // Undecodable: the Alarm that claims it will fail it with the reason; here, the fallback.
    }
  }
  return fallback;
}
