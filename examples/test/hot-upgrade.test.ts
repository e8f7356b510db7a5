/**
 * hot-upgrade: in process on a ManualClock. The counter is upgraded twice under a stream of
 * increments and loses, reorders or doubles none; the v1 workflow runs move to v2 when v2 is
 * deployed in the live process, and a run started after the deploy starts on v2.
 */
import { ManualClock } from '@vigil/runtime';
import { describe, expect, it } from 'vitest';
import { main } from '../src/hot-upgrade.js';
import { drive, output, T0 } from './helpers.js';

describe('hot-upgrade', () => {
  it('upgrades a counter under load and moves waiting workflow runs to v2, losing nothing', async () => {
    const clock = new ManualClock(T0);
    const out = output();
    const result = await drive(clock, main({ clock, print: out.print, fast: true }));
    expect(result.ok).toBe(true);
    expect(result.counter).toEqual({
      sent: 3000,
      total: 3000,
      gaps: 0,
      upgrades: 2,
      version: '3',
      incarnation: 1,
    });
    expect(result.runs.map((r) => [r.id, r.version, r.result])).toEqual([
      ['greet:ada', 2, 'v2 bids farewell to ada'],
      ['greet:bob', 2, 'v2 bids farewell to bob'],
      ['greet:cy', 2, 'v2 bids farewell to cy'],
      ['greet:dee', 2, 'v2 bids farewell to dee'],
    ]);
    // The v1 runs were moved (a 'migrated' line), the run started after the deploy was not.
    const migrated = result.runs.map((r) => r.history.some((h) => h.outcome === 'migrated'));
    expect(migrated).toEqual([true, true, true, false]);
    const text = out.text();
    expect(text).toContain('Counter v1 → v2 (incarnation 1)');
    expect(text).toContain('Counter v2 → v3 (incarnation 1)');
    expect(text).toContain('✓ 3000 increments counted once and in order across 2 upgrades');
  }, 60_000);
});
