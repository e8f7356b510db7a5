/**
 * rate-limited-calls: 20 calls, each made once and in order, no two closer than the spacing,
 * including across a full restart of the runtime with an outage longer than the spacing.
 */
import { ManualClock } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { main } from '../src/rate-limited-calls.js';
import { drive, output, T0 } from './helpers.js';

describe('rate-limited-calls', () => {
  it.each([
    { fast: false, spacingMs: 5000 },
    { fast: true, spacingMs: 250 },
  ])('fast=$fast: every gap ≥ $spacingMs ms, restart included', async ({ fast, spacingMs }) => {
    const clock = new ManualClock(T0);
    const out = output();
    const result = await drive(clock, main({ clock, print: out.print, fast }), 50, 300_000);
    expect(result.ok).toBe(true);
    expect(result.spacingMs).toBe(spacingMs);
    expect(result.calls.map((c) => c.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const gaps = result.calls.slice(1).map((c, i) => c.at - result.calls[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(spacingMs);
    // Call 11 came due during the outage: it is made when the new runtime starts, not before,
    // and call 12 still waits a full spacing after it (no catch-up burst).
    const restartedAt = result.restartedAt!;
    expect(result.calls[9]!.at).toBeLessThan(restartedAt);
    expect(result.calls[10]!.at).toBeGreaterThanOrEqual(restartedAt);
    expect(result.calls[11]!.at - result.calls[10]!.at).toBeGreaterThanOrEqual(spacingMs);
    expect(out.text()).toContain('read back 1 pending: call 11');
    expect(out.text()).toContain('← across the restart');
  });
});
