/**
 * The demo, in process on a ManualClock: the chain completes, the Alarm crashes once and reads
 * the pending alarms back, nothing fires early, and the summary shows every alarm.
 */
import { ManualClock } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { main } from '../src/demo.js';
import { drive, output, T0 } from './helpers.js';

describe('demo', () => {
  it('runs the hand-off chain through a crash of the Alarm, losing nothing', async () => {
    const clock = new ManualClock(T0);
    const out = output();
    const result = await drive(clock, main({ clock, print: out.print, zone: 'UTC' }));

    expect(result.ok).toBe(true);
    expect(result.alarmIncarnation).toBe(2);
    expect(result.readBack).toBe(2);
    expect(result.rows.map((r) => r.target)).toEqual([
      'Researcher',
      'Notifier',
      'Writer',
      'Reviewer',
      'Notifier',
    ]);
    for (const r of result.rows) {
      expect(r.status).toBe('fired');
      expect(r.firstFiredAt!).toBeGreaterThanOrEqual(r.scheduledFor);
      expect(r.lateMs!).toBeLessThan(1000);
    }
    // The announcement failed once and was retried.
    expect(result.rows.at(-1)!.attempts).toBe(2);
    expect(result.rows.slice(0, -1).every((r) => r.attempts === 1)).toBe(true);

    const text = out.text();
    expect(text).toContain("'in 2 seconds'");
    expect(text).toContain('2026-03-02 08:00:01 UTC');
    expect(text).toContain('Alarm crashed: demo: simulated crash');
    expect(text).toMatch(/Alarm restarted \(#2\), read back 2 pending/);
    expect(text).toContain('✓ 5 alarms set, 5 delivered, none lost');
    expect(text).not.toMatch(/\n\s+at /); // no stack traces
  });

  it('fails (ok: false) when the chain cannot finish before the deadline', async () => {
    const clock = new ManualClock(T0);
    const out = output();
    const result = await drive(clock, main({ clock, print: out.print, zone: 'UTC', deadlineMs: 3000 }));
    expect(result.ok).toBe(false);
    expect(out.text()).toMatch(/✗ \d+ of \d+ alarms not delivered before the deadline/);
  });
});
