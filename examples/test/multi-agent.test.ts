/**
 * multi-agent: the Planner, Coder and Tester hand off through alarms alone, in order, each at
 * the instant its predecessor chose, in fast mode and with the real delays (30 minutes, 2 hours).
 */
import { ManualClock } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { main } from '../src/multi-agent.js';
import { drive, output, T0 } from './helpers.js';

describe('multi-agent', () => {
  it('fast mode: Planner → Coder (3 s later) → Tester (2 s later), notes carried along', async () => {
    const clock = new ManualClock(T0);
    const out = output();
    const result = await drive(clock, main({ clock, print: out.print, fast: true }));
    expect(result.ok).toBe(true);
    const [planner, coder, tester] = result.deliveries;
    expect(result.deliveries.map((d) => d.target)).toEqual(['Planner', 'Coder', 'Tester']);
    expect(coder!.scheduledFor - planner!.at).toBeGreaterThanOrEqual(3000);
    expect(coder!.scheduledFor - planner!.at).toBeLessThan(3100);
    expect(tester!.scheduledFor - coder!.at).toBeGreaterThanOrEqual(2000);
    expect(result.notes).toEqual([
      'Planner: split the feature into 3 steps',
      'Coder: wrote the code for the 3 steps',
      'Tester: ran 42 tests, all green',
    ]);
    expect(out.text()).toContain('✓ Planner → Coder → Tester');
  });

  it('real delays: the Coder hears 30 minutes after the Planner, the Tester 2 hours after the Coder', async () => {
    const clock = new ManualClock(T0);
    const out = output();
    const result = await drive(clock, main({ clock, print: out.print, fast: false }), 60_000, 4 * 3_600_000);
    expect(result.ok).toBe(true);
    const [planner, coder, tester] = result.deliveries;
    expect(coder!.at - planner!.at).toBeGreaterThanOrEqual(30 * 60_000);
    expect(coder!.at - planner!.at).toBeLessThan(30 * 60_000 + 1000);
    expect(tester!.at - coder!.at).toBeGreaterThanOrEqual(2 * 3_600_000);
    expect(out.text()).toContain("hands off to Coder 'in 30 minutes'");
  });
});
