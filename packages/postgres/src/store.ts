/**
 * The PostgreSQL alarm store: the `AlarmStore` contract of `@vigil/alarm` on a `pg` pool, with the
 * same rows and the same outcomes as the SQLite store (the shared contract suite checks both).
 *
 * Invariants: every write is one transaction (a rejected write stored nothing); instants are
 * `bigint` epoch milliseconds, returned as JavaScript numbers (safe integers, checked on insert);
 * a database whose schema is newer than this code knows is refused before anything is written.
 */
import {
  ALARM_STATUSES,
  type AlarmRow,
  type AlarmStatus,
  type AlarmStore,
  type Completion,
  type DueCursor,
  type ListFilter,
  type NewAlarm,
  type OccurrenceOutcome,
  type OccurrenceRow,
  StoreError,
  type StoreStats,
} from '@vigil/alarm';
import pg from 'pg';
import { migratePostgres } from './migrations.js';

/** Options of `openPostgresStore`. */
export interface PostgresStoreOptions {
  /** A `postgres://` URL. */
  connectionString: string;
  /** Pool size. Default 4. */
  max?: number;
}

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

/**
 * Opens a PostgreSQL alarm store, creating or migrating its tables. Rejects with
 * `SchemaTooNewError` for a database from a newer Vigil, `StoreError` when it cannot connect.
 *
 * @example
 * const store = await openPostgresStore({ connectionString: 'postgres://localhost/vigil' });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<AlarmStore> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 4, types });
  // An idle client's error (the server went away) must not crash the process: the next query fails.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await migratePostgres(client, options.connectionString);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw toStoreError(err, 'open');
  }
  return new PostgresAlarmStore(pool);
}

class PostgresAlarmStore implements AlarmStore {
  readonly #pool: pg.Pool;
  #closed = false;
  #writes = 0;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async insert(alarms: readonly NewAlarm[]): Promise<{ row: AlarmRow; created: boolean }[]> {
    const checked = alarms.map(checkNewAlarm);
    return this.#tx('insert', async (c) => {
      const out: { row: AlarmRow; created: boolean }[] = [];
      for (const a of checked) {
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
        await c.query(
          `UPDATE vigil_alarms SET status = 'cancelled', settled_at = $1, cancel_requested_at = coalesce(cancel_requested_at, $1)
           WHERE id = $2 AND status = 'pending'`,
          [at, id],
        );
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
    const row = await this.get(id);
    if (!row || row.recurrence !== null || afterSeq >= 1 || n === 0) return rows;
    const outcome: OccurrenceOutcome | undefined =
      row.status === 'fired'
        ? 'delivered'
        : row.status === 'missed' || row.status === 'failed'
          ? row.status
          : undefined;
    if (outcome === undefined) return rows;
    return [
      {
        alarmId: row.id,
        seq: 1,
        scheduledFor: row.scheduledFor,
        attempts: row.attempts,
        outcome,
        error: outcome === 'delivered' ? null : row.lastError,
        settledAt: row.settledAt ?? row.firedAt ?? row.fireAt,
      },
    ];
  }

  async nextPending(after?: number): Promise<AlarmRow | undefined> {
    const rows =
      after === undefined
        ? await this.#query(
            'nextPending',
            `${SELECT} WHERE status = 'pending' ORDER BY fire_at, id LIMIT 1`,
            [],
          )
        : await this.#query(
            'nextPending',
            `${SELECT} WHERE status = 'pending' AND fire_at > $1 ORDER BY fire_at, id LIMIT 1`,
            [after],
          );
    return rows[0] as AlarmRow | undefined;
  }

  async due(now: number, limit: number, after?: DueCursor): Promise<AlarmRow[]> {
    const n = Math.max(0, Math.trunc(limit));
    return (
      after === undefined
        ? await this.#query(
            'due',
            `${SELECT} WHERE status = 'pending' AND fire_at <= $1 ORDER BY fire_at, id LIMIT $2`,
            [now, n],
          )
        : await this.#query(
            'due',
            `${SELECT} WHERE status = 'pending' AND fire_at <= $1 AND (fire_at, id) > ($2, $3) ORDER BY fire_at, id LIMIT $4`,
            [now, after.fireAt, after.id, n],
          )
    ) as AlarmRow[];
  }

  async complete(batch: readonly Completion[]): Promise<number[]> {
    if (batch.length === 0) return [];
    return this.#tx('complete', async (c) => {
      const cancelled: number[] = [];
      for (const x of batch) {
        let changed = 0;
        const run = async (sql: string, params: unknown[]) =>
          (await c.query(`UPDATE vigil_alarms SET ${sql} WHERE id = $1 AND ${UNTOUCHED}`, [x.id, ...params]))
            .rowCount ?? 0;
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
        if (changed === 0 && (await settleCancelled(c, x))) cancelled.push(x.id);
      }
      return cancelled;
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
    return { byStatus, occurrences: { ...o! }, total, nextFireAt: next?.fireAt ?? null };
  }

  async changeToken(): Promise<number> {
    // Every write transaction draws from this sequence just before COMMIT; minus this store's own
    // draws, it changes only when another connection wrote. (A draw whose COMMIT then failed
    // changes it too: a spurious re-read, never a missed one.)
    const [r] = (await this.#query(
      'changeToken',
      `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM vigil_change_seq`,
      [],
    )) as { v: number }[];
    return r!.v - this.#writes;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async #query(operation: string, sql: string, params: unknown[]): Promise<unknown[]> {
    if (this.#closed) throw new StoreError('STORE_CLOSED', operation, 'the store is closed');
    try {
      return (await this.#pool.query(sql, params)).rows;
    } catch (err) {
      throw toStoreError(err, operation);
    }
  }

  async #tx<T>(operation: string, fn: (c: Client) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('STORE_CLOSED', operation, 'the store is closed');
    let client: Client;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw toStoreError(err, operation);
    }
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query(`SELECT nextval('vigil_change_seq')`);
      await client.query('COMMIT');
      this.#writes++;
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw toStoreError(err, operation);
    } finally {
      client.release();
    }
  }
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

/** The slow path of a completion whose cancel met its delivery; same rules as the SQLite store. */
async function settleCancelled(c: Client, x: Completion): Promise<boolean> {
  const row = (await c.query(`${SELECT} WHERE id = $1 FOR UPDATE`, [x.id])).rows[0] as AlarmRow | undefined;
  if (!row) return false;
  const asked = row.status === 'pending' && row.cancelRequestedAt !== null;
  if (!asked && row.status !== 'cancelled') return false;
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
       last_error = coalesce($4, last_error), settled_at = $5, delivered_count = delivered_count + $6,
       missed_count = missed_count + $7, failed_count = failed_count + $8 WHERE id = $9`,
    [status, firedAt, attempts, error, at, ...counts, x.id],
  );
  return asked && status === 'cancelled';
}

function bytes(v: string | null): Buffer | null {
  return v === null ? null : Buffer.from(v, 'utf8');
}

function bad(field: string): StoreError {
  return new StoreError('STORE_INVALID_ROW', 'insert', `field '${field}' is missing or has the wrong type`);
}

function text(field: string, v: string | null | undefined): string | null {
  if (v !== undefined && v !== null && typeof v !== 'string') throw bad(field);
  return v ?? null;
}

function checkNewAlarm(a: NewAlarm) {
  if (a === null || typeof a !== 'object') throw bad('alarm');
  if (!Number.isSafeInteger(a.fireAt)) throw bad('fireAt');
  if (!Number.isSafeInteger(a.createdAt)) throw bad('createdAt');
  if (typeof a.target !== 'string' || a.target === '') throw bad('target');
  if (typeof a.message !== 'string') throw bad('message');
  const maxAttempts = a.maxAttempts ?? 1;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw bad('maxAttempts');
  return {
    fireAt: a.fireAt,
    createdAt: a.createdAt,
    target: a.target,
    message: a.message,
    key: text('key', a.key),
    recurrence: text('recurrence', a.recurrence),
    misfire: text('misfire', a.misfire),
    backoff: text('backoff', a.backoff),
    maxAttempts,
  };
}

/** Maps a `pg` error to a typed `StoreError`, keeping it as `cause`. */
export function toStoreError(err: unknown, operation: string): StoreError {
  if (err instanceof StoreError || (err as { code?: unknown })?.code === 'STORE_SCHEMA_TOO_NEW')
    return err as StoreError;
  const code = (err as { code?: unknown })?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (code === '53100') return new StoreError('STORE_FULL', operation, detail, { cause: err });
  if (code === '40001' || code === '40P01' || code === '55P03')
    return new StoreError('STORE_BUSY', operation, detail, { cause: err });
  if (code === '25006') return new StoreError('STORE_READONLY', operation, detail, { cause: err });
  return new StoreError('STORE_FAILED', operation, detail, { cause: err });
}
