/**
 * Waiting for a signal with a deadline: a follow-up that repeats weekly until the contact
 * replies, resumed by the signal (which makes the pending deadline stale) or by the deadline.
 */
import { ManualClock } from '@vigil/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineWorkflow, end, waitFor } from '../src/workflow.js';
import { boot, quiesce, T0, tempDb, WEEK } from './scheduler-helpers.js';

let db: string;
let cleanup: () => void;
let clock: ManualClock;
let sent: { to: string; at: number; n: number }[];

beforeEach(() => {
  ({ db, cleanup } = tempDb());
  clock = new ManualClock(T0);
  sent = [];
});
afterEach(() => cleanup());

const followUp = () =>
  defineWorkflow<{ contact: string; reminders: number }>({
    name: 'follow-up',
    start: 'remind',
    steps: {
      remind: ({ context }) => {
        const reminders = context.reminders + 1;
        sent.push({ to: context.contact, at: clock.now(), n: reminders });
        if (reminders >= 10) return end({ result: 'gave up' });
        return waitFor('reply', {
          timeout: '1 week',
          onTimeout: 'remind',
          onSignal: 'thank',
          context: { ...context, reminders },
        });
      },
      thank: ({ context, event }) => end({ result: { reminders: context.reminders, reply: event?.text } }),
    },
  });

describe('a follow-up that repeats weekly until a signal arrives', () => {
  it('reminds every week, stops on the signal, and the stale deadline does nothing', async () => {
    const { runtime, workflows, alarms } = await boot(db, clock, [followUp()]);
    await workflows.start('follow-up', { contact: 'ada@example.com', reminders: 0 }, { runId: 'f1' });
    await quiesce();
    for (let i = 0; i < 3; i++) {
      await clock.advance(WEEK);
      await quiesce();
    }
    expect(sent.map((s) => [s.n, s.at])).toEqual([
      [1, T0],
      [2, T0 + WEEK],
      [3, T0 + 2 * WEEK],
      [4, T0 + 3 * WEEK],
    ]);
    const waiting = await workflows.get('f1');
    expect(waiting?.status).toBe('waiting');
    expect(waiting?.waiting).toMatchObject({ signal: 'reply', deadline: T0 + 4 * WEEK });

    await clock.advance(WEEK / 2);
    await expect(workflows.signal('f1', 'unsubscribe')).rejects.toMatchObject({ code: 'SIGNAL_NOT_AWAITED' });
    await workflows.signal('f1', 'reply', { text: 'Sorry, yes!' });
    await quiesce();
    const done = await workflows.get('f1');
    expect(done?.status).toBe('completed');
    expect(done?.result).toEqual({ reminders: 4, reply: 'Sorry, yes!' });
    expect(done?.history.map((h) => h.outcome)).toEqual([
      'wait',
      'timeout',
      'wait',
      'timeout',
      'wait',
      'timeout',
      'wait',
      'signal',
      'end',
    ]);

    await clock.advance(3 * WEEK);
    await quiesce();
    expect(sent).toHaveLength(4);
    expect(await alarms.list({ status: 'pending' })).toEqual([]);
    await expect(workflows.signal('f1', 'reply')).rejects.toMatchObject({ code: 'RUN_ENDED' });
    await runtime.stop();
  });

  it('keeps waiting through a restart and resumes on the deadline', async () => {
    let booted = await boot(db, clock, [followUp()]);
    await booted.workflows.start('follow-up', { contact: 'bob@example.com', reminders: 0 }, { runId: 'f2' });
    await quiesce();
    await booted.runtime.stop();
    await clock.advance(WEEK - 1);
    booted = await boot(db, clock, [followUp()]);
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    await quiesce();
    expect(sent.map((s) => s.at)).toEqual([T0, T0 + WEEK]);
    await booted.workflows.signal('f2', 'reply', { text: 'ok' });
    await quiesce();
    expect((await booted.workflows.get('f2'))?.result).toEqual({ reminders: 2, reply: 'ok' });
    await booted.runtime.stop();
  });
});
