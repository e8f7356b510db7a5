/**
 * crash-recovery: real processes, a real SIGKILL. Every alarm set by the killed process is
 * delivered (by it or by its successor on the same database), none early.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/crash-recovery.js';
import { output } from './helpers.js';

describe('crash-recovery', () => {
  it('delivers all six alarms across a kill -9, none early', async () => {
    const out = output();
    const result = await main({ print: out.print, fast: true });
    expect(result.ok).toBe(true);
    const ids = new Set(result.journal.map((e) => e.alarmId));
    expect([...ids].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const e of result.journal) expect(e.at).toBeGreaterThanOrEqual(e.scheduledFor);
    // Both lives delivered some: the kill really happened mid-way.
    const byKilled = result.journal.filter((e) => e.pid === result.killedPid);
    expect(byKilled.length).toBeGreaterThanOrEqual(2);
    expect(result.journal.length - byKilled.length).toBeGreaterThanOrEqual(4);
    expect(out.text()).toMatch(/read back \d pending alarms from SQLite/);
    expect(out.text()).toContain('✓ all 6 alarms delivered');
  }, 40_000);
});
