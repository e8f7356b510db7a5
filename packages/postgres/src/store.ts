/**
 * The PostgreSQL alarm store: the `AlarmStore` contract of `@vigil/alarm` on a `pg` pool, with the
 * same rows and the same outcomes as the SQLite store (the shared contract suite checks both),
 * shared by several nodes.
 *
 * Invariants:
 * - every write is one transaction (a rejected write stored nothing); instants are `bigint` epoch
 *   milliseconds, returned as JavaScript numbers (safe integers, checked on insert);
 * - a database whose schema is newer than this code knows is refused before anything is written;
 * - a due alarm is held by one node at a time: `due` claims the rows it returns (`FOR UPDATE SKIP
 *   LOCKED`, so two nodes reading at once never get the same row) for `leaseMs`, recording the
 *   node; rows another node holds under a valid lease are not returned; a lease that expired is
 *   claimable by any node, and such a reclaim counts the lost holder's attempt (attempts + 1);
 * - `complete` applies only to rows unclaimed or claimed by this node: a node whose lease expired
 *   and was taken over cannot overwrite the new holder's record;
 * - "due" is judged against the server's clock (see clock.ts): never early, whatever the node's.
 */

import { hostname } from 'node:os';
import {
  ALARM_STATUSES,
  type AlarmRow,
  type AlarmStatus,
  type AlarmStore,
  type CheckedAlarm,
  type CompleteResult,
  type Completion,
  checkNewAlarm,
  type DueCursor,
  InvalidOptionError,
  type ListFilter,
  type NewAlarm,
  type OccurrenceOutcome,
  type OccurrenceRow,
  oneShotHistory,
  StoreError,
  type StoreStats,
} from '@vigil/alarm';
import pg from 'pg';
import { type ClockSkew, measureSkew, SERVER_NOW } from './clock.js';
import { isUnavailable, toStoreError } from './errors.js';
import { CHANNEL, Listener, payload } from './listen.js';
import { migratePostgres } from './migrations.js';
import { DeclaredTargets, heartbeat, ROUTED, toleranceOf, unroutedDue } from './routing.js';

/** Options of `postgresStore` and `openPostgresStore`. */
export interface PostgresStoreOptions {
  /** A `postgres://` URL. */
  connectionString: string;
  /** Pool size. Default 4. */
  max?: number;
  /**
   * This node's id, recorded on the alarms it claims. Default: host name, process id and a random
   * suffix, chosen once per `postgresStore(...)` call (so an Alarm restarted in the same process
   * takes its own claims back at once). Give a stable id to let a node restarted after a crash
   * take back its claims at once instead of after their lease.
   */
  nodeId?: string;
  /**
   * How long a claim on a due alarm lasts, ms (default 60 000: twice the Alarm's default
   * `deliveryTimeoutMs`). Keep it above `deliveryTimeoutMs` plus a commit: a delivery still
   * running when its lease ends may be delivered again by another node (at least once). A node
   * that dies with claims loses nothing: another node reclaims them once the lease has passed
   * (and its next poll, `pollMs`, has seen it).
   */
  leaseMs?: number;
  /** This node's clock, for the skew measurement (default `Date.now`). Tests pass a skewed one. */
  now?: () => number;
  /**
   * The targets this node delivers to: it claims only their alarms, and publishes them (see
   * routing.ts). Default: every target (all nodes run the same tree).
   */
  targets?: readonly string[];
  /** How often a claiming node refreshes its published declaration, ms (default 5000; live for 3). */
  heartbeatMs?: number;
  /**
   * How long a due alarm whose target no live node declares may wait before it is marked
   * `failed`, ms, for alarms without a misfire tolerance of their own (`skip`). Default: forever.
   */
  unroutedToleranceMs?: number;
}

/** An `AlarmStore` on PostgreSQL, with what a node sharing the database can report. */
export interface PostgresAlarmStore extends AlarmStore {
  /** The id this node records on its claims. */
  readonly nodeId: string;
  /** This node's clock against the server's, measured when the store connected. */
  clockSkew(): Promise<ClockSkew>;
}

export type { ClockSkew } from './clock.js';

const COLUMNS = `id, fire_at AS "fireAt", target, message, status, attempts, last_error AS "lastError",
  created_at AS "createdAt", fired_at AS "firedAt", settled_at AS "settledAt", key, recurrence, misfire,
  max_attempts AS "maxAttempts", backoff, scheduled_for AS "scheduledFor", occurrence,
  delivered_count AS "deliveredCount", missed_count AS "missedCount", failed_count AS "failedCount",
  cancel_requested_at AS "cancelRequestedAt"`;
const OCCURRENCE_COLUMNS = `alarm_id AS "alarmId", seq, scheduled_for AS "scheduledFor", attempts, outcome,
  error, settled_at AS "settledAt"`;
const SELECT = `SELECT ${COLUMNS} FROM vigil_alarms`;
const UNTOUCHED = `status = 'pending' AND cancel_requested_at IS NULL`;
const DEFAULT_LIMIT = 100;
const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_HEARTBEAT_MS = 5000;
/** Unrouted alarms looked at per heartbeat. */
const SWEEP_LIMIT = 100;

// int8 (20) comes back as text by default: every bigint column here holds a safe integer.
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20) return (v: string) => Number(v);
    // bytea (the raw JSON columns) back to the text it was stored from.
    if (oid === 17) return (v: string) => Buffer.from(v.slice(2), 'hex').toString('utf8');
    return (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

type Client = pg.PoolClient;

interface Resolved {
  connectionString: string;
  max: number;
  nodeId: string;
  leaseMs: number;
  now: () => number;
  targets: readonly string[] | undefined;
  heartbeatMs: number;
  unroutedToleranceMs: number | undefined;
}

function resolve(options: PostgresStoreOptions): Resolved {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionError('(options)', options, 'must be an object');
  const { connectionString, max = 4, leaseMs = DEFAULT_LEASE_MS, now = Date.now } = options;
  if (typeof connectionString !== 'string' || connectionString === '')
    throw new InvalidOptionError('connectionString', connectionString, 'must be a postgres:// URL');
  if (!Number.isSafeInteger(max) || max < 1)
    throw new InvalidOptionError('max', max, 'must be an integer >= 1');
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1)
    throw new InvalidOptionError('leaseMs', leaseMs, 'must be an integer number of ms >= 1');
  if (typeof now !== 'function') throw new InvalidOptionError('now', now, 'must be a function');
  const nodeId = options.nodeId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  if (typeof nodeId !== 'string' || nodeId === '')
    throw new InvalidOptionError('nodeId', nodeId, 'must be a non-empty string');
  const { targets, heartbeatMs = DEFAULT_HEARTBEAT_MS, unroutedToleranceMs } = options;
  if (
    targets !== undefined &&
    (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string' && t !== ''))
  )
    throw new InvalidOptionError('targets', targets, 'must be an array of target names');
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 1)
    throw new InvalidOptionError('heartbeatMs', heartbeatMs, 'must be an integer number of ms >= 1');
  if (
    unroutedToleranceMs !== undefined &&
    !(Number.isFinite(unroutedToleranceMs) && unroutedToleranceMs >= 0)
  )
    throw new InvalidOptionError('unroutedToleranceMs', unroutedToleranceMs, 'must be a number of ms >= 0');
  return {
    connectionString,
    max,
    nodeId,
    leaseMs,
    now,
    targets: targets === undefined ? undefined : [...targets],
    heartbeatMs,
    unroutedToleranceMs,
  };
}

/**
 * The PostgreSQL alarm store as the `store` option of `alarmSupervisor`: a factory the Alarm
 * calls at each (re)start. Options are checked now (`InvalidOptionError`); the store connects
 * (and creates or migrates its tables) on its first call, so the factory stays synchronous. A
 * database that cannot be reached then rejects calls with `STORE_UNAVAILABLE` (the Alarm backs
 * off and retries), one from a newer Vigil with `STORE_SCHEMA_TOO_NEW` (the Alarm fails to run).
 * Every store the factory makes is the same node (one `nodeId`).
 *
 * @example
 * alarmSupervisor({ store: postgresStore({ connectionString: 'postgres://localhost/vigil' }) });
 */
export function postgresStore(options: PostgresStoreOptions): () => PostgresAlarmStore {
  const resolved = resolve(options);
  return () => new Store(resolved);
}

/**
 * Opens a PostgreSQL alarm store, creating or migrating its tables. Rejects with
 * `SchemaTooNewError` for a database from a newer Vigil, `StoreError` when it cannot connect
 * (`STORE_UNAVAILABLE` when the server cannot be reached).
 *
 * @example
 * const store = await openPostgresStore({ connectionString: 'postgres://localhost/vigil' });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresAlarmStore> {
  const store = new Store(resolve(options));
  try {
    await store.ready('open');
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

class Store implements PostgresAlarmStore {
  readonly nodeId: string;
  readonly #options: Resolved;
  readonly #pool: pg.Pool;
  #closed = false;
  #writes = 0;
  /** The connection, migration and skew measurement; forgotten when it fails, so a call retries. */
  #opening: Promise<void> | undefined;
  #skew: ClockSkew = { skewMs: 0, rttMs: 0, appliedMs: 0, measuredAt: 0 };
  /** Distinct tokens handed out while some claim has expired (see `changeToken`). */
  #expiredWakes = 0;
  #listener: Listener | undefined;
  /** Publishing this node's declaration (from its first claim on), and the next heartbeat. */
  #publishing: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Targets declared by any node (routing.ts), for `declaredElsewhere`. */
  readonly #declared = new DeclaredTargets();

  constructor(options: Resolved) {
    this.#options = options;
    this.nodeId = options.nodeId;
    this.#pool = new pg.Pool({ connectionString: options.connectionString, max: options.max, types });
    // An idle client's error (the server went away) must not crash the process: the next query fails.
    this.#pool.on('error', () => {});
  }

  /** Connects, migrates and measures the clock once; rejects (and retries on the next call) on failure. */
  ready(operation: string): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreError('STORE_CLOSED', operation, 'the store is closed'));
    this.#opening ??= this.#open().catch((err) => {
      this.#opening = undefined;
      throw toStoreError(err, 'open');
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const client = await this.#pool.connect();
    client.on('error', ignore);
    try {
      await migratePostgres(client, this.#options.connectionString);
      this.#skew = await measureSkew(client, this.#options.now);
      await this.#declared.refresh(client);
    } finally {
      client.off('error', ignore);
      client.release();
    }
  }

  /**
   * Calls `onChange(fireAt)` when another connection commits alarms, the earliest due at
   * `fireAt` (0: unknown, after the listening connection was lost and came back: read again).
   */
  subscribe(onChange: (fireAt: number) => void): () => void {
    if (this.#closed) return () => {};
    this.#listener ??= new Listener(this.#options.connectionString, this.nodeId);
    return this.#listener.subscribe(onChange);
  }

  /** Only a node that routes: one that claims every target would claim, and fail, this name's alarms. */
  declaredElsewhere(name: string): boolean {
    return this.#options.targets !== undefined && this.#declared.has(name);
  }

  clockSkewMs(): number {
    return this.#skew.appliedMs;
  }

  async clockSkew(): Promise<ClockSkew> {
    await this.ready('clockSkew');
    return { ...this.#skew };
  }

  /**
   * Inserts in input order. A run of alarms without a key is one statement (`unnest` of one array
   * per column): a group commit of a thousand sets is one round trip, not a thousand. An alarm
   * with a key takes its own path, under an advisory lock on the key.
   */
  async insert(alarms: readonly NewAlarm[]): Promise<{ row: AlarmRow; created: boolean }[]> {
    const checked = alarms.map(checkNewAlarm);
    return this.#tx('insert', async (c) => {
      const out: { row: AlarmRow; created: boolean }[] = [];
      for (let i = 0; i < checked.length; ) {
        let end = i;
        while (end < checked.length && checked[end]!.key === null) end++;
        if (end - i > 1) {
          for (const row of await insertRun(c, checked.slice(i, end))) out.push({ row, created: true });
          i = end;
          continue;
        }
        const a = checked[i++]!;
        if (a.key !== null) {
          // Serialises inserts of one key across connections, so a duplicate returns the first row.
          await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [a.key]);
          const existing = await c.query(`${SELECT} WHERE key = $1`, [a.key]);
          if (existing.rows[0]) {
            out.push({ row: existing.rows[0] as AlarmRow, created: false });
            continue;
          }
        }
        const r = await c.query(
          `INSERT INTO vigil_alarms (fire_at, scheduled_for, target, message, key, recurrence, misfire, max_attempts, backoff, created_at)
           VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
          [
            a.fireAt,
            a.target,
            bytes(a.message),
            a.key,
            bytes(a.recurrence),
            bytes(a.misfire),
            a.maxAttempts,
            bytes(a.backoff),
            a.createdAt,
          ],
        );
        out.push({ row: r.rows[0] as AlarmRow, created: true });
      }
      // Wakes the other nodes (sent only if this commits); each compares it with its armed instant.
      const created = out.filter((r) => r.created).map((r) => r.row.fireAt);
      if (created.length > 0)
        await c.query('SELECT pg_notify($1, $2)', [CHANNEL, payload(this.nodeId, Math.min(...created))]);
      return out;
    });
  }

  async get(id: number): Promise<AlarmRow | undefined> {
    return (await this.#query('get', `${SELECT} WHERE id = $1`, [id]))[0] as AlarmRow | undefined;
  }

  async list(filter: ListFilter = {}): Promise<AlarmRow[]> {
    const params: unknown[] = [filter.afterId ?? 0];
    let sql = `${SELECT} WHERE id > $1`;
    if (filter.status !== undefined) {
      params.push(([] as AlarmStatus[]).concat(filter.status));
      sql += ` AND status = ANY($${params.length}::text[])`;
    }
    if (filter.target !== undefined) {
      params.push(filter.target);
      sql += ` AND target = $${params.length}`;
    }
    if (filter.key !== undefined) {
      params.push(filter.key);
      sql += ` AND key = $${params.length}`;
    }
    if (filter.fireFrom !== undefined) {
      params.push(filter.fireFrom);
      sql += ` AND fire_at >= $${params.length}`;
    }
    if (filter.fireTo !== undefined) {
      params.push(filter.fireTo);
      sql += ` AND fire_at < $${params.length}`;
    }
    params.push(Math.max(0, Math.trunc(filter.limit ?? DEFAULT_LIMIT)));
    sql += ` ORDER BY id LIMIT $${params.length}`;
    return (await this.#query('list', sql, params)) as AlarmRow[];
  }

  async cancel(id: number, at: number, inFlight = false): Promise<AlarmRow | undefined> {
    return this.#tx('cancel', async (c) => {
      if (inFlight === true) {
        await c.query(
          `UPDATE vigil_alarms SET cancel_requested_at = $1 WHERE id = $2 AND status = 'pending' AND cancel_requested_at IS NULL`,
          [at, id],
        );
      } else {
        // Held by another node under a valid lease: that node may be delivering it now, and this
        // caller cannot know. Cancelling it outright would record `cancelled` for an alarm that is
        // then delivered; so, as for a delivery in flight here, only the request is recorded, and
        // the holder's outcome (or, if the holder dies, the next claimer) settles it.
        const cancelled = await c.query(
          `UPDATE vigil_alarms SET status = 'cancelled', settled_at = $1, cancel_requested_at = coalesce(cancel_requested_at, $1)
           WHERE id = $2 AND status = 'pending'
             AND (claimed_by IS NULL OR claimed_by = $3 OR lease_until <= ${SERVER_NOW})`,
          [at, id, this.nodeId],
        );
        if (cancelled.rowCount === 0) {
          await c.query(
            `UPDATE vigil_alarms SET cancel_requested_at = $1 WHERE id = $2 AND status = 'pending' AND cancel_requested_at IS NULL`,
            [at, id],
          );
        }
      }
      return (await c.query(`${SELECT} WHERE id = $1`, [id])).rows[0] as AlarmRow | undefined;
    });
  }

  async history(id: number, limit = DEFAULT_LIMIT, afterSeq = 0): Promise<OccurrenceRow[]> {
    const n = Math.max(0, Math.trunc(limit));
    const rows = (await this.#query(
      'history',
      `SELECT ${OCCURRENCE_COLUMNS} FROM vigil_occurrences WHERE alarm_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [id, afterSeq, n],
    )) as OccurrenceRow[];
    if (rows.length > 0) return rows;
    // A one-shot alarm writes no history: its row is its one occurrence, once settled.
    return n === 0 || afterSeq >= 1 ? rows : oneShotHistory(await this.get(id), n, afterSeq);
  }

  async nextPending(after?: number): Promise<AlarmRow | undefined> {
    // `after` is the node's now: translated to the server's clock, and never past the server's
    // now, so an alarm due by the node's clock but not yet by the server's is still the next one.
    // A node that declares targets waits only for theirs.
    const mine = this.#options.targets;
    const params: unknown[] = mine === undefined ? [] : [mine];
    let sql = `${SELECT} WHERE status = 'pending'${mine === undefined ? '' : ' AND target = ANY($1::text[])'}`;
    if (after !== undefined) {
      params.push(after - this.#skew.appliedMs);
      sql += ` AND fire_at > LEAST($${params.length}::int8, ${SERVER_NOW})`;
    }
    const rows = await this.#query('nextPending', `${sql} ORDER BY fire_at, id LIMIT 1`, params);
    return rows[0] as AlarmRow | undefined;
  }

  /**
   * Claims and returns the due rows this node may deliver: pending, due by the server's clock
   * (and by `now` translated to it), and unclaimed, claimed by this node, or under an expired
   * lease. Rows another transaction has locked are skipped, not waited for.
   */
  async due(
    now: number,
    limit: number,
    after?: DueCursor,
    exceptTargets?: readonly string[],
  ): Promise<AlarmRow[]> {
    const n = Math.max(0, Math.trunc(limit));
    if (n === 0) return [];
    await this.ready('due');
    // A node is published before its first claim, so others see what it declares.
    this.#publishing ??= this.#beat(false);
    await this.#publishing;
    const params: unknown[] = [this.nodeId, this.#options.leaseMs, now - this.#skew.appliedMs, n];
    let where = '';
    if (this.#options.targets !== undefined) {
      params.push(this.#options.targets);
      where += ` AND a.target = ANY($${params.length}::text[])`;
    }
    if (after !== undefined) {
      params.push(after.fireAt, after.id);
      where += ` AND (a.fire_at, a.id) > ($${params.length - 1}::int8, $${params.length}::int8)`;
    }
    if (exceptTargets !== undefined && exceptTargets.length > 0) {
      params.push([...exceptTargets]);
      where += ` AND a.target <> ALL($${params.length}::text[])`;
    }
    const rows = (await this.#query(
      'due',
      `WITH srv AS (SELECT ${SERVER_NOW} AS t),
       c AS (
         SELECT a.id AS cid, a.claimed_by AS prev FROM vigil_alarms a, srv
         WHERE a.status = 'pending' AND a.fire_at <= LEAST($3::int8, srv.t)
           AND (a.claimed_by IS NULL OR a.claimed_by = $1 OR a.lease_until <= srv.t)${where}
         ORDER BY a.fire_at, a.id LIMIT $4
         FOR UPDATE OF a SKIP LOCKED
       )
       UPDATE vigil_alarms SET claimed_by = $1, lease_until = (SELECT t FROM srv) + $2::int8,
         -- a lease that expired in another node's hands: its attempt counts, delivered or not
         attempts = attempts + CASE WHEN c.prev IS NOT NULL AND c.prev <> $1 THEN 1 ELSE 0 END
       FROM c WHERE id = c.cid
       RETURNING ${COLUMNS}`,
      params,
    )) as AlarmRow[];
    return rows.sort((x, y) => x.fireAt - y.fireAt || x.id - y.id);
  }

  /**
   * Applies a batch in one transaction, in batch order. A run of one-shot deliveries (the drain's
   * bulk) is one statement; every other outcome, and a delivery that statement did not apply,
   * takes the per-row path below, so each record is exactly what the per-row path would write.
   */
  async complete(batch: readonly Completion[]): Promise<CompleteResult> {
    if (batch.length === 0) return { cancelled: [], refused: [] };
    return this.#tx('complete', async (c) => {
      const result: CompleteResult = { cancelled: [], refused: [] };
      const slowPath = async (x: Completion) => {
        const settled = await settleCancelled(c, x);
        if (settled === 'cancelled') result.cancelled.push(x.id);
        else if (settled === 'refused') result.refused.push(x.id);
      };
      for (let i = 0; i < batch.length; i++) {
        const x = batch[i]!;
        if (oneShotFired(x)) {
          // A run ends before an id it already holds: a second outcome for the same row must
          // meet the first one's result (a final row: refused), as one by one.
          const ids = new Set([x.id]);
          let end = i + 1;
          while (end < batch.length && oneShotFired(batch[end]!) && !ids.has(batch[end]!.id)) {
            ids.add(batch[end]!.id);
            end++;
          }
          if (end - i > 1) {
            const run = batch.slice(i, end) as FiredCompletion[];
            const changed = await firedRun(c, run, this.nodeId);
            for (const f of run) if (!changed.has(f.id)) await slowPath(f);
            i = end - 1;
            continue;
          }
        }
        let changed = 0;
        // Only a row nobody else holds: once another node has reclaimed it, its record is theirs.
        const run = async (sql: string, params: unknown[]) =>
          (
            await c.query(
              `UPDATE vigil_alarms SET ${sql}, claimed_by = NULL, lease_until = NULL
               WHERE id = $1 AND ${UNTOUCHED} AND (claimed_by IS NULL OR claimed_by = $${params.length + 2})`,
              [x.id, ...params, this.nodeId],
            )
          ).rowCount ?? 0;
        switch (x.kind) {
          case 'fired':
            changed =
              x.next === undefined
                ? await run(
                    `status = 'fired', fired_at = $2, settled_at = $2, attempts = $3, delivered_count = delivered_count + 1`,
                    [x.firedAt, x.attempts],
                  )
                : await run(
                    `fire_at = $2, scheduled_for = $2, attempts = 0, last_error = NULL, fired_at = $3, occurrence = occurrence + 1, delivered_count = delivered_count + 1`,
                    [x.next, x.firedAt],
                  );
            if (changed > 0) await record(c, x, 'delivered', x.attempts, null, x.firedAt);
            break;
          case 'failed':
            changed =
              x.next === undefined
                ? await run(
                    `status = 'failed', settled_at = $2, attempts = $3, last_error = $4, failed_count = failed_count + 1`,
                    [x.at, x.attempts, x.reason],
                  )
                : await run(
                    `fire_at = $2, scheduled_for = $2, attempts = 0, last_error = $3, occurrence = occurrence + 1, failed_count = failed_count + 1`,
                    [x.next, x.reason],
                  );
            if (changed > 0) await record(c, x, 'failed', x.attempts, x.reason, x.at);
            break;
          case 'missed': {
            const reason = `missed: ${x.lateMs} ms late`;
            changed =
              x.next === undefined
                ? await run(
                    `status = 'missed', settled_at = $2, last_error = $3, missed_count = missed_count + 1`,
                    [x.at, reason],
                  )
                : await run(
                    `fire_at = $2, scheduled_for = $2, attempts = 0, last_error = $3, occurrence = occurrence + 1, missed_count = missed_count + 1`,
                    [x.next, reason],
                  );
            if (changed > 0) await record(c, x, 'missed', 0, reason, x.at);
            break;
          }
          case 'retry':
            changed = await run(`fire_at = $2, attempts = $3, last_error = $4`, [
              x.fireAt,
              x.attempts,
              x.reason,
            ]);
            break;
          case 'cancelled':
            break;
          default:
            throw new StoreError(
              'STORE_INVALID_ROW',
              'complete',
              `unknown completion kind ${JSON.stringify((x as { kind: unknown }).kind)}`,
            );
        }
        if (changed === 0) await slowPath(x);
      }
      return result;
    });
  }

  async stats(): Promise<StoreStats> {
    const byStatus = Object.fromEntries(ALARM_STATUSES.map((s) => [s, 0])) as Record<AlarmStatus, number>;
    let total = 0;
    for (const r of (await this.#query(
      'stats',
      `SELECT status, count(*)::int8 AS n FROM vigil_alarms GROUP BY status`,
      [],
    )) as {
      status: AlarmStatus;
      n: number;
    }[]) {
      byStatus[r.status] = r.n;
      total += r.n;
    }
    const [o] = (await this.#query(
      'stats',
      `SELECT coalesce(sum(delivered_count), 0)::int8 AS delivered, coalesce(sum(missed_count), 0)::int8 AS missed,
         coalesce(sum(failed_count), 0)::int8 AS failed FROM vigil_alarms`,
      [],
    )) as Record<OccurrenceOutcome, number>[];
    const next = await this.nextPending();
    const [u] = (await this.#query(
      'stats',
      `SELECT count(*)::int8 AS n FROM vigil_alarms a WHERE status = 'pending' AND fire_at <= ${SERVER_NOW} AND NOT ${ROUTED}`,
      [],
    )) as { n: number }[];
    return {
      byStatus,
      occurrences: { ...o! },
      total,
      nextFireAt: next?.fireAt ?? null,
      clockSkewMs: this.#skew.skewMs,
      unrouted: u!.n,
    };
  }

  async changeToken(): Promise<number> {
    // Every write transaction draws from this sequence just before COMMIT; minus this store's own
    // draws, it changes only when another connection wrote. (A draw whose COMMIT then failed
    // changes it too: a spurious re-read, never a missed one.) A claim whose lease has expired
    // (its node died or hangs) is a change too, though nobody wrote: while one exists the token
    // is a fresh negative number (never a sequence value), so the Alarm's poll reads again and
    // its `due` reclaims the row.
    const [r] = (await this.#query(
      'changeToken',
      `SELECT (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM vigil_change_seq) AS v,
         EXISTS (SELECT 1 FROM vigil_alarms WHERE status = 'pending' AND claimed_by IS NOT NULL
           AND claimed_by <> $1 AND lease_until <= ${SERVER_NOW}
           AND ($2::text[] IS NULL OR target = ANY($2::text[]))) AS expired`,
      [this.nodeId, this.#options.targets ?? null],
    )) as { v: number; expired: boolean }[];
    if (r!.expired) return -++this.#expiredWakes;
    return r!.v - this.#writes;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener?.close();
    if (this.#heartbeat !== undefined) clearTimeout(this.#heartbeat);
    // A node that closes stops declaring its targets at once (a crashed one: when its row expires).
    if (this.#publishing !== undefined)
      await this.#pool.query('DELETE FROM vigil_nodes WHERE node_id = $1', [this.nodeId]).catch(() => {});
    await this.#pool.end();
  }

  /**
   * Publishes this node's declaration, then fails the unrouted alarms whose tolerance has passed,
   * and plans the next heartbeat. Its own failures wait for the next heartbeat (a node that
   * cannot reach the database cannot claim either).
   */
  async #beat(sweep: boolean): Promise<void> {
    const o = this.#options;
    try {
      await heartbeat(this.#pool, this.nodeId, o.targets, o.heartbeatMs * 3, this.#skew.skewMs);
      await this.#declared.refresh(this.#pool);
      if (sweep) await this.#sweep();
    } catch {
      // Next heartbeat.
    }
    if (this.#closed) return;
    this.#heartbeat = setTimeout(() => void this.#beat(true), o.heartbeatMs);
    this.#heartbeat.unref();
  }

  async #sweep(): Promise<void> {
    for (const row of await unroutedDue(this.#pool, SWEEP_LIMIT)) {
      const tolerance = toleranceOf(row, this.#options.unroutedToleranceMs);
      const waited = row.now - row.fireAt;
      if (tolerance === undefined || waited <= tolerance) continue;
      const reason = `no live node declares target '${row.target}' (waited ${waited} ms, tolerance ${tolerance} ms)`;
      await this.#tx('route', async (c) => {
        const r = await c.query(
          `UPDATE vigil_alarms a SET status = 'failed', settled_at = $2, last_error = $3,
             failed_count = failed_count + 1, claimed_by = NULL, lease_until = NULL
           WHERE id = $1 AND status = 'pending' AND (claimed_by IS NULL OR lease_until <= ${SERVER_NOW})
             AND NOT ${ROUTED}`,
          [row.id, row.now, reason],
        );
        // A series fails as a whole (no occurrence of it can be delivered); its history says so.
        if ((r.rowCount ?? 0) > 0 && row.recurrence !== null)
          await c.query(
            `INSERT INTO vigil_occurrences (alarm_id, seq, scheduled_for, attempts, outcome, error, settled_at)
             VALUES ($1, $2, $3, $4, 'failed', $5, $6) ON CONFLICT DO NOTHING`,
            [row.id, row.occurrence, row.scheduledFor, row.attempts, reason, row.now],
          );
      });
    }
  }

  async #query(operation: string, sql: string, params: unknown[]): Promise<unknown[]> {
    await this.ready(operation);
    try {
      return (await this.#pool.query(sql, params)).rows;
    } catch (err) {
      throw toStoreError(err, operation);
    }
  }

  async #tx<T>(operation: string, fn: (c: Client) => Promise<T>): Promise<T> {
    await this.ready(operation);
    let client: Client;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw toStoreError(err, operation);
    }
    let broken: Error | undefined;
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query(`SELECT nextval('vigil_change_seq')`);
      await client.query('COMMIT');
      this.#writes++;
      return result;
    } catch (err) {
      // A connection that died must leave the pool, not serve the next call.
      if (isUnavailable(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch(() => {});
      throw toStoreError(err, operation);
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  }
}

/**
 * The error listener of a client checked out of the pool. The pool listens for errors only on
 * idle clients; a server that ends the connection (57P01 at shutdown) between two queries of a
 * checked-out client makes it emit 'error', which without a listener kills the process (seen in
 * the 3-node torture when PostgreSQL restarted). The next query on it fails, and is handled there.
 */
function ignore(): void {}

type FiredCompletion = Extract<Completion, { kind: 'fired' }>;

/** A delivery of a one-shot alarm: what the set-based statement of `firedRun` applies. */
function oneShotFired(x: Completion): x is FiredCompletion {
  return x.kind === 'fired' && x.next === undefined && x.occurrence === undefined;
}

/**
 * Marks a run of one-shot deliveries fired in one statement, joined by primary key to arrays of
 * (id, firedAt, attempts); the same conditions as the per-row path (pending, no cancel asked, not
 * held by another node). Returns the ids it changed; the others take the per-row path.
 */
async function firedRun(c: Client, run: readonly FiredCompletion[], nodeId: string): Promise<Set<number>> {
  const r = await c.query(
    `UPDATE vigil_alarms a SET status = 'fired', fired_at = u.fired_at, settled_at = u.fired_at,
       attempts = u.attempts, delivered_count = a.delivered_count + 1, claimed_by = NULL, lease_until = NULL
     FROM unnest($1::int8[], $2::int8[], $3::int4[]) AS u(id, fired_at, attempts)
     WHERE a.id = u.id AND a.status = 'pending' AND a.cancel_requested_at IS NULL
       AND (a.claimed_by IS NULL OR a.claimed_by = $4)
     RETURNING a.id`,
    [run.map((f) => f.id), run.map((f) => f.firedAt), run.map((f) => f.attempts), nodeId],
  );
  return new Set((r.rows as { id: number }[]).map((row) => row.id));
}

/**
 * Inserts a run of alarms without a key in one statement, one array per column, and returns their
 * rows in input order. Ids follow input order: the rows are inserted in ordinality order, each
 * drawing its id then, so sorting the returned rows by id restores the input order.
 */
async function insertRun(c: Client, run: readonly CheckedAlarm[]): Promise<AlarmRow[]> {
  const r = await c.query(
    `INSERT INTO vigil_alarms (fire_at, scheduled_for, target, message, recurrence, misfire, max_attempts, backoff, created_at)
     SELECT u.fire_at, u.fire_at, u.target, u.message, u.recurrence, u.misfire, u.max_attempts, u.backoff, u.created_at
     FROM unnest($1::int8[], $2::text[], $3::bytea[], $4::bytea[], $5::bytea[], $6::int4[], $7::bytea[], $8::int8[])
       WITH ORDINALITY AS u(fire_at, target, message, recurrence, misfire, max_attempts, backoff, created_at, n)
     ORDER BY u.n
     RETURNING ${COLUMNS}`,
    [
      run.map((a) => a.fireAt),
      run.map((a) => a.target),
      run.map((a) => bytes(a.message)),
      run.map((a) => bytes(a.recurrence)),
      run.map((a) => bytes(a.misfire)),
      run.map((a) => a.maxAttempts),
      run.map((a) => bytes(a.backoff)),
      run.map((a) => a.createdAt),
    ],
  );
  return (r.rows as AlarmRow[]).sort((x, y) => x.id - y.id);
}

async function record(
  c: Client,
  x: Completion,
  outcome: OccurrenceOutcome,
  attempts: number,
  error: string | null,
  at: number,
): Promise<void> {
  if (!('occurrence' in x) || !x.occurrence) return;
  await c.query(
    `INSERT INTO vigil_occurrences (alarm_id, seq, scheduled_for, attempts, outcome, error, settled_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [x.id, x.occurrence.seq, x.occurrence.scheduledFor, attempts, outcome, error, at],
  );
}

/**
 * The slow path of an outcome the fast statements did not apply; same rules as the SQLite store.
 * A row whose cancel met its delivery gets the outcome recorded ('cancelled' if this moved it to
 * `cancelled`, else 'applied'); any other row is refused: absent, already final, or held by
 * another node (its lease here ran out and that node reclaimed it: its record is theirs).
 */
async function settleCancelled(c: Client, x: Completion): Promise<'cancelled' | 'applied' | 'refused'> {
  const row = (await c.query(`${SELECT} WHERE id = $1 FOR UPDATE`, [x.id])).rows[0] as AlarmRow | undefined;
  if (!row) return 'refused';
  const asked = row.status === 'pending' && row.cancelRequestedAt !== null;
  if (!asked && row.status !== 'cancelled') return 'refused';
  const settledAt = row.settledAt ?? row.cancelRequestedAt ?? 0;
  let status: AlarmStatus = 'cancelled';
  let firedAt: number | null = null;
  let attempts = row.attempts;
  let error: string | null = null;
  let counts = [0, 0, 0];
  let at = settledAt;
  switch (x.kind) {
    case 'fired':
      await record(c, x, 'delivered', x.attempts, null, x.firedAt);
      if (!x.occurrence) status = 'fired';
      firedAt = x.firedAt;
      attempts = x.attempts;
      counts = [1, 0, 0];
      at = status === 'fired' ? x.firedAt : row.status === 'cancelled' ? settledAt : x.firedAt;
      break;
    case 'failed':
      await record(c, x, 'failed', x.attempts, x.reason, x.at);
      attempts = x.attempts;
      error = x.reason;
      counts = [0, 0, 1];
      if (asked) at = x.at;
      break;
    case 'missed':
      await record(c, x, 'missed', 0, `missed: ${x.lateMs} ms late`, x.at);
      counts = [0, 1, 0];
      if (asked) at = x.at;
      break;
    case 'retry':
      attempts = x.attempts;
      error = x.reason;
      break;
    case 'cancelled':
      error = x.reason;
      if (asked) at = x.at;
      break;
  }
  await c.query(
    `UPDATE vigil_alarms SET status = $1, fired_at = coalesce($2, fired_at), attempts = $3,
       claimed_by = NULL, lease_until = NULL,
       last_error = coalesce($4, last_error), settled_at = $5, delivered_count = delivered_count + $6,
       missed_count = missed_count + $7, failed_count = failed_count + $8 WHERE id = $9`,
    [status, firedAt, attempts, error, at, ...counts, x.id],
  );
  return asked && status === 'cancelled' ? 'cancelled' : 'applied';
}

function bytes(v: string | null): Buffer | null {
  return v === null ? null : Buffer.from(v, 'utf8');
}
