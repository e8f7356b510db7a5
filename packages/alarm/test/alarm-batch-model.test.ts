/**
 * Batch delivery against per-alarm delivery, as a property: over random outcomes per alarm and
 * attempt (handled, refused, retryable), a batch target and a per-alarm target leave the same
 * records (status, attempts, last error, next instant, fired instant) and the same history, and
 * each alarm's attempts are delivered with the same attempt numbers.
 */
import { reply, replyError, VigilError } from '@vigil/runtime';
import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { type AnyActorLogic, fromCallback } from 'xstate';
import type { AlarmBatch } from '../src/batch.js';
import type { Delivery } from '../src/request.js';
import { type Harness, rawRows, startAlarms, T0, tempDb } from './helpers.js';

type Outcome = 'ok' | 'refuse' | 'retryable';

const MAX_ATTEMPTS = 3;

function errorOf(kind: Exclude<Outcome, 'ok'>): Error {
  return kind === 'refuse'
    ? new VigilError('REFUSED', 'not for me')
    : Object.assign(new VigilError('BUSY', 'try later'), { retryable: true });
}

/** A target 'T' answering `plan[i][attempt - 1]` for the alarm whose message has `i`. */
function target(plan: Outcome[][], batch: boolean, seen: string[]): AnyActorLogic {
  const decide = (d: Delivery): Outcome => plan[d.i as number]![d.alarm.attempt - 1]!;
  return fromCallback(({ receive }) => {
    receive((event) => {
      if (batch) {
        const { alarms } = event as unknown as AlarmBatch;
        for (const d of alarms) seen.push(`${d.i}@${d.alarm.attempt}`);
        reply(
          event,
          alarms.map((d) => {
            const kind = decide(d);
            return kind === 'ok' ? true : errorOf(kind);
          }),
        );
        return;
      }
      const d = event as unknown as Delivery;
      seen.push(`${d.i}@${d.alarm.attempt}`);
      const kind = decide(d);
      if (kind === 'ok') reply(event, true);
      else replyError(event, errorOf(kind));
    });
  });
}

const running: { h: Harness; cleanup: () => void }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.h.stop();
    r.cleanup();
  }
});

/** Runs the plan to the end (every alarm settled) and returns what is on disk and what was seen. */
async function run(plan: Outcome[][], batch: boolean) {
  const db = tempDb();
  const seen: string[] = [];
  const h = await startAlarms({
    file: db.file,
    targets: { T: target(plan, batch, seen) },
    options: { maxAttempts: MAX_ATTEMPTS, ...(batch ? { batchTargets: { T: {} } } : {}) },
  });
  running.push({ h, cleanup: db.cleanup });
  const { client, clock, runtime } = h;
  await client.setMany(plan.map((_, i) => ({ when: T0 + 1000 + (i % 3), target: 'T', message: { i } })));
  // Step the clock to each next pending instant and wait for one outcome per alarm due by then.
  for (let step = 0; step < 20; step++) {
    const pending = await client.list({ status: 'pending' });
    if (pending.length === 0) break;
    const at = Math.min(...pending.map((a) => a.fireAt));
    const due = pending.filter((a) => a.fireAt <= at).length;
    let n = 0;
    const settled = new Promise<void>((resolve) => {
      for (const e of ['alarm.delivered', 'alarm.retried', 'alarm.failed'] as const)
        runtime.events.on(e, () => ++n === due && resolve());
    });
    await clock.advance(at - clock.now());
    await settled;
  }
  const rows = rawRows(db.file).map(({ id: _id, createdAt: _c, message, ...rest }) => ({ message, ...rest }));
  return { rows, seen: [...seen].sort() };
}

it('a batch target and a per-alarm target leave the same records over random outcomes', async () => {
  const outcome = fc.constantFrom<Outcome>('ok', 'refuse', 'retryable');
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(outcome, { minLength: MAX_ATTEMPTS, maxLength: MAX_ATTEMPTS }), {
        minLength: 1,
        maxLength: 8,
      }),
      async (plan) => {
        const single = await run(plan, false);
        const batch = await run(plan, true);
        expect(batch.rows).toEqual(single.rows);
        expect(batch.seen).toEqual(single.seen);
        for (const r of running.splice(0)) {
          await r.h.stop();
          r.cleanup();
        }
      },
    ),
    { numRuns: 15 },
  );
});
