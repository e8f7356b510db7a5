/**
 * The documented ways to write a target, each receiving real alarm deliveries:
 *
 *   way                                  returns / replies   throws / replyError       crashes
 *   defineTarget(handler)                fired               retried; Permanent: failed   -
 *   hand-written machine calling reply   fired               per the error's kind         retried, restarted
 */

import type { Delivery } from '@vigil/alarm';
import { type ChildSpec, reply, replyError, worker } from '@vigil/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { TransientDeliveryError } from '../src/http-target.js';
import { defineTarget, PermanentFailure, type TargetContext } from '../src/target.js';
import { type Harness, START, startHarness, tempDb } from './target-harness.js';

let h: Harness | undefined;
let db: ReturnType<typeof tempDb>;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  db?.cleanup();
});

async function start(targets: ChildSpec[]): Promise<Harness> {
  db = tempDb();
  h = await startHarness(targets, { db: db.path });
  return h;
}

type Reminder = Delivery<{ type: 'remind'; text: string }>;

describe('defineTarget', () => {
  it('hands the handler the delivery and its context; returning acknowledges', async () => {
    const seen: { delivery: Reminder; name: string }[] = [];
    const { alarms, advanceUntilSettled } = await start([
      worker(
        'Reminders',
        defineTarget(async (delivery: Reminder, ctx: TargetContext) => {
          seen.push({ delivery, name: ctx.name });
        }),
      ),
    ]);
    const alarm = await alarms.set(START + 1000, 'Reminders', { type: 'remind', text: 'water the plants' });
    expect(await advanceUntilSettled(alarm.id, 1000)).toEqual({ kind: 'delivered', attempt: 1 });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.name).toBe('Reminders');
    expect(seen[0]?.delivery).toMatchObject({
      type: 'remind',
      text: 'water the plants',
      alarm: { alarmId: alarm.id, attempt: 1, scheduledFor: START + 1000, firedAt: START + 1000 },
    });
    expect((await alarms.get(alarm.id))?.status).toBe('fired');
  });

  it('retries a delivery whose handler throws, then acknowledges it', async () => {
    let calls = 0;
    const { alarms, advanceUntilSettled, clock } = await start([
      worker(
        'Flaky',
        defineTarget(async () => {
          calls += 1;
          if (calls === 1) throw new Error('upstream busy');
        }),
      ),
    ]);
    const alarm = await alarms.set(START + 1000, 'Flaky', { type: 'work' });
    const first = await advanceUntilSettled(alarm.id, 1000);
    expect(first).toMatchObject({
      kind: 'retried',
      attempt: 1,
      reason: expect.stringContaining('upstream busy'),
    });
    const wait = first.kind === 'retried' ? first.nextAt - clock.now() : 0;
    expect(await advanceUntilSettled(alarm.id, wait)).toEqual({ kind: 'delivered', attempt: 2 });
    expect(calls).toBe(2);
  });

  it('marks the alarm failed when the handler throws a PermanentFailure', async () => {
    const { alarms, advanceUntilSettled, clock } = await start([
      worker(
        'Strict',
        defineTarget(async () => {
          throw new PermanentFailure('no such customer');
        }),
      ),
    ]);
    const alarm = await alarms.set(START + 1000, 'Strict', { type: 'bill' });
    const outcome = await advanceUntilSettled(alarm.id, 1000);
    expect(outcome).toEqual({ kind: 'failed', reason: expect.stringContaining('no such customer') });
    await clock.advance(3_600_000);
    expect(await alarms.get(alarm.id)).toMatchObject({ status: 'failed', attempts: 1 });
  });
});

describe('a hand-written XState machine', () => {
  /**
   * Counts reminders and answers each call with `reply`; `mode` in the message picks the answer,
   * and `crash` throws in an action, which crashes the actor (its supervisor restarts it).
   */
  const counter = setup({
    types: {
      context: {} as { count: number },
      events: {} as Delivery<{ type: 'remind'; mode?: 'ok' | 'permanent' | 'later' | 'crash' }>,
    },
  }).createMachine({
    id: 'counter',
    context: { count: 0 },
    on: {
      remind: {
        actions: [
          assign({ count: ({ context }) => context.count + 1 }),
          ({ context, event }) => {
            switch (event.mode) {
              case 'permanent':
                replyError(event, new PermanentFailure('refused by the counter'));
                return;
              case 'later':
                replyError(
                  event,
                  new TransientDeliveryError('come back in a minute', { retryAfterMs: 60_000 }),
                );
                return;
              case 'crash':
                if (event.alarm.attempt === 1) throw new Error('counter broke');
                reply(event, context.count);
                return;
              default:
                reply(event, context.count);
            }
          },
        ],
      },
    },
  });

  it('acknowledges with reply', async () => {
    const { alarms, advanceUntilSettled, runtime } = await start([worker('Counter', counter)]);
    const alarm = await alarms.set(START + 1000, 'Counter', { type: 'remind' });
    expect(await advanceUntilSettled(alarm.id, 1000)).toEqual({ kind: 'delivered', attempt: 1 });
    expect(runtime.snapshot('Counter')).toMatchObject({ context: { count: 1 } });
  });

  it('fails the alarm with replyError(PermanentFailure)', async () => {
    const { alarms, advanceUntilSettled } = await start([worker('Counter', counter)]);
    const alarm = await alarms.set(START + 1000, 'Counter', { type: 'remind', mode: 'permanent' });
    expect(await advanceUntilSettled(alarm.id, 1000)).toEqual({
      kind: 'failed',
      reason: expect.stringContaining('refused by the counter'),
    });
  });

  it('asks for a retry at a given delay with replyError(TransientDeliveryError)', async () => {
    const { alarms, advanceUntilSettled, clock } = await start([worker('Counter', counter)]);
    const alarm = await alarms.set(START + 1000, 'Counter', { type: 'remind', mode: 'later' });
    const first = await advanceUntilSettled(alarm.id, 1000);
    expect(first.kind === 'retried' && first.nextAt - clock.now()).toBe(60_000);
  });

  it('is retried after a crash, once its supervisor restarted it', async () => {
    const { alarms, advanceUntilSettled, clock, events } = await start([worker('Counter', counter)]);
    const alarm = await alarms.set(START + 1000, 'Counter', { type: 'remind', mode: 'crash' });
    const first = await advanceUntilSettled(alarm.id, 1000);
    expect(first).toMatchObject({ kind: 'retried', attempt: 1 });
    expect(
      events.some((e) => e.name === 'actor.crashed' && (e.payload as { name: string }).name === 'Counter'),
    ).toBe(true);
    const wait = first.kind === 'retried' ? first.nextAt - clock.now() : 0;
    expect(await advanceUntilSettled(alarm.id, wait)).toEqual({ kind: 'delivered', attempt: 2 });
  });
});
