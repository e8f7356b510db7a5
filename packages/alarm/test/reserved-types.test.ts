/**
 * The runtime's protocol types can't be stored: `set` and `setMany` refuse a message whose `type`
 * is reserved (`vigil.*`, `xstate.*`) with INVALID_PAYLOAD, and nothing is stored. Before this, a
 * stored `vigil.shutdown` made a trapExit target exit at every delivery.
 */
import { describe, expect, it } from 'vitest';
import { perTest, rawRows, recorder, startAlarms, T0 } from './helpers.js';

const t = perTest();

describe('reserved message types', () => {
  it.each(['vigil.shutdown', 'vigil.down', 'xstate.init'])(
    'set of %s: INVALID_PAYLOAD, nothing stored',
    async (type) => {
      t.h = await startAlarms({ file: t.db.file, targets: { Log: recorder().logic } });
      await expect(t.h.client.set(T0 + 1000, 'Log', { type })).rejects.toMatchObject({
        code: 'INVALID_PAYLOAD',
        path: '$.type',
      });
      expect(rawRows(t.db.file)).toEqual([]);
    },
  );

  it('setMany with one reserved type stores none of its items', async () => {
    t.h = await startAlarms({ file: t.db.file, targets: { Log: recorder().logic } });
    await expect(
      t.h.client.setMany([
        { when: T0 + 1000, target: 'Log', message: { type: 'ping' } },
        { when: T0 + 2000, target: 'Log', message: { type: 'vigil.shutdown' } },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(rawRows(t.db.file)).toEqual([]);
  });

  it('a type that merely contains the word is accepted', async () => {
    t.h = await startAlarms({ file: t.db.file, targets: { Log: recorder().logic } });
    const alarm = await t.h.client.set(T0 + 1000, 'Log', { type: 'vigilance.check' });
    expect(alarm.message).toEqual({ type: 'vigilance.check' });
  });
});
