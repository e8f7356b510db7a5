/**
 * standup-reminder: 'tomorrow at 9am' names 09:00 the next day in the zone; in fast mode the
 * reminder reaches the fake Pushover server once, after one failed attempt is retried.
 */
import { describe, expect, it } from 'vitest';
import { main, reminderInstant } from '../src/standup-reminder.js';
import { output, T0 } from './helpers.js';

describe('standup-reminder', () => {
  it("reads 'tomorrow at 9am' as 09:00 local time the next day", () => {
    // T0 is Monday 2026-03-02 08:00 UTC: 09:00 in Paris on Tuesday is 08:00 UTC.
    expect(reminderInstant(false, T0, 'Europe/Paris')).toBe(Date.UTC(2026, 2, 3, 8));
    expect(reminderInstant(false, T0, 'America/New_York')).toBe(Date.UTC(2026, 2, 3, 14));
    expect(reminderInstant(true, T0, 'UTC')).toBe(T0 + 3000);
  });

  it('fast mode: the reminder reaches the (fake) Pushover API once, after a retried 500', async () => {
    const out = output();
    const result = await main({ print: out.print, fast: true, zone: 'UTC', env: {} });
    expect(result.ok).toBe(true);
    expect(result.attempts).toBe(2);
    expect(result.received).toEqual([
      { title: 'Stand-up', message: 'Stand-up in the usual room, 9:00 sharp.' },
    ]);
    expect(result.deliveredAt!).toBeGreaterThanOrEqual(result.scheduledFor + 1000);
    expect(out.text()).toMatch(/'in 3 seconds' → \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC/);
    expect(out.text()).toContain('attempt 1 failed (HTTP 500)');
  }, 20_000);
});
