/**
 * The database's clock is the clock of record: "never early" is judged against the server's
 * time, whatever the node's own clock says. Each node measures how far its clock is from the
 * server's when it connects (the skew), reports it, and uses it to translate its own instants
 * into the server's: a node whose clock runs ahead arms its Timer later (instead of waking
 * early, finding nothing due and waking again at once), one that runs behind arms it earlier
 * (instead of firing late). The server's `now()` still bounds every `due` read, so a wrong
 * estimate can make a node late or wake it for nothing, never fire early.
 */
import type pg from 'pg';

/** The server's current time in epoch milliseconds, rounded down (never ahead of the server). */
export const SERVER_NOW = `(floor(extract(epoch from clock_timestamp()) * 1000))::int8`;

/** A skew smaller than the measurement's uncertainty plus this is taken as none. */
const SKEW_SLACK_MS = 25;
/** Samples per measurement; the one with the shortest round trip is kept. */
const SAMPLES = 3;

/** How far a node's clock is from the database server's, measured when the store connected. */
export interface ClockSkew {
  /** Node clock minus server clock, ms (positive: the node's clock runs ahead). */
  skewMs: number;
  /** Round trip of the measuring query, ms: the measurement is good to about half of it. */
  rttMs: number;
  /**
   * The skew the store corrects by: `skewMs`, or 0 when it is within the measurement's
   * uncertainty (plus 25 ms), so that a healthy node is not shifted by noise.
   */
  appliedMs: number;
  /** When it was measured, on the node's clock (epoch ms). */
  measuredAt: number;
}

/** Measures the skew of `now` against the server on `client`. */
export async function measureSkew(client: pg.ClientBase, now: () => number): Promise<ClockSkew> {
  let best: ClockSkew | undefined;
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = now();
    const r = await client.query<{ t: number }>(`SELECT ${SERVER_NOW} AS t`);
    const t1 = now();
    const rttMs = t1 - t0;
    if (best !== undefined && rttMs >= best.rttMs) continue;
    const skewMs = Math.round((t0 + t1) / 2 - Number(r.rows[0]!.t));
    const appliedMs = Math.abs(skewMs) > Math.ceil(rttMs / 2) + SKEW_SLACK_MS ? skewMs : 0;
    best = { skewMs, rttMs, appliedMs, measuredAt: t1 };
  }
  return best!;
}
