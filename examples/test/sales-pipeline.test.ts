/**
 * sales-pipeline: a Scheduler workflow that follows up weekly until a reply. Ada replies after
 * the second follow-up and signs (won); Bob never replies (lost after three follow-ups). Run in fast
 * mode on a ManualClock.
 */
import { ManualClock } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { main } from '../src/sales-pipeline.js';
import { drive, output, T0 } from './helpers.js';

describe('sales-pipeline', () => {
  // Fast mode only: with real weeks the Timer's one-second slices make millions of wakes.
  it('fast mode: Ada is won after 2 follow-ups, Bob lost after 3', async () => {
    const fast = true;
    const clock = new ManualClock(T0);
    const out = output();
    const result = await drive(clock, main({ clock, print: out.print, fast }), 50, 60_000);
    expect(result.ok).toBe(true);
    const [ada, bob] = result.runs;
    // Steps run, leaving out the entries that record a deadline passing or a signal arriving.
    const steps = ada!.history
      .filter((h) => h.outcome !== 'timeout' && h.outcome !== 'signal')
      .map((h) => h.step);
    expect(steps).toEqual(['introduce', 'followUp', 'followUp', 'qualify', 'propose', 'won']);
    expect(ada!.history.filter((h) => h.outcome === 'signal').map((h) => h.step)).toEqual([
      'reply',
      'signed',
    ]);
    expect(ada!.result).toBe('won');
    expect(bob!.result).toBe('lost');
    expect(bob!.history.filter((h) => h.step === 'followUp')).toHaveLength(4); // 3 sent, the 4th gives up
    // Follow-ups are a week apart (a second in fast mode).
    const week = 1000;
    const starts = bob!.history.filter((h) => h.step === 'followUp').map((h) => h.startedAt);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(week);
    expect(out.text()).toContain('✓ Ada won after 2 follow-ups; Bob lost after 3 unanswered ones');
  });
});
