/**
 * `when` is read against the instant the caller asked, not the instant the Alarm's mailbox got
 * to the request: `set(Date.now(), ...)` means "now" even when the request waited in the queue
 * while the clock moved. The caller's instant is trusted only within a short skew, so it is no
 * way to set alarms in the past.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, recorder, startAlarms, T0, tempDb } from './helpers.js';

let h: Harness | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await h?.stop();
  cleanup?.();
  h = undefined;
});

async function harness(): Promise<Harness> {
  const db = tempDb();
  cleanup = db.cleanup;
  h = await startAlarms({ file: db.file, targets: { Log: recorder().logic } });
  return h;
}

const setAt = (h: Harness, when: number, requestedAt?: number) =>
  h.runtime.call('Alarm', { type: 'alarm.set', when, target: 'Log', message: { type: 'x' }, requestedAt });

describe('the reference instant of a set', () => {
  it('accepts "now" as the caller saw it, after the clock moved while the request waited', async () => {
    const h = await harness();
    const asked = h.clock.now();
    h.clock.jump(25);
    await expect(setAt(h, asked, asked)).resolves.toMatchObject({ fireAt: asked, status: 'pending' });
  });

  it('without the caller’s instant, the same time is in the past and refused', async () => {
    const h = await harness();
    const asked = h.clock.now();
    h.clock.jump(25);
    await expect(setAt(h, asked)).rejects.toMatchObject({ code: 'TIME_IN_PAST' });
  });

  it('a caller’s instant more than a minute old is ignored: no setting alarms in the past', async () => {
    const h = await harness();
    const old = T0 - 3_600_000;
    await expect(setAt(h, old + 1, old)).rejects.toMatchObject({ code: 'TIME_IN_PAST' });
    expect(await h.client.stats()).toMatchObject({ total: 0 });
  });

  it('a caller’s instant in the future is ignored too', async () => {
    const h = await harness();
    const now = h.clock.now();
    await expect(setAt(h, now + 10, now + 1000)).resolves.toMatchObject({ fireAt: now + 10 });
    await expect(setAt(h, now - 10, now + 1000)).rejects.toMatchObject({ code: 'TIME_IN_PAST' });
  });

  it('AlarmClient sends its own call instant', async () => {
    const h = await harness();
    await expect(h.client.set(h.clock.now(), 'Log', { type: 'x' })).resolves.toMatchObject({
      status: 'pending',
    });
  });
});
