/**
 * All time in Vigil goes through a `Clock`, so tests can move time instead of sleeping.
 *
 * `now()` is the wall clock (UTC epoch milliseconds); `setTimeout` measures elapsed time
 * the way Node's timers do (monotonic). The two can disagree after a wall-clock jump or a
 * host suspend; code that fires at wall-clock instants re-reads `now()` on every wake.
 */
export interface Clock {
  /** Wall-clock time, UTC epoch milliseconds. */
  now(): number;
  /** Runs `fn` after about `ms` milliseconds of elapsed (monotonic) time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Monotonic milliseconds (any origin), for measuring intervals such as restart-intensity
   * windows, which must not stretch or shrink when the wall clock jumps. Defaults to `now()`.
   */
  monotonic?(): number;
}

/** Opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

/** The real clock: `Date.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface ManualTimer {
  readonly id: number;
  readonly dueElapsed: number;
  readonly fn: () => void;
}

/**
 * A clock for tests. Time moves only when told to:
 * - `advance(ms)` moves both the wall clock and elapsed time, firing due timers in order;
 * - `jump(ms)` moves only the wall clock (a wall-clock jump, NTP step), firing nothing;
 * - `suspend(ms)` moves the wall clock and then fires every overdue timer at once,
 *   the way a host waking from sleep does.
 *
 * @example
 * const clock = new ManualClock(Date.parse('2026-11-27T09:00:00Z'));
 * clock.setTimeout(() => console.log('tick'), 1000);
 * await clock.advance(1000); // prints "tick"
 */
export class ManualClock implements Clock {
  private wall: number;
  private elapsed = 0;
  private nextId = 1;
  private timers: ManualTimer[] = [];

  constructor(startMs = Date.parse('2026-01-01T00:00:00Z')) {
    this.wall = startMs;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.elapsed;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer = { id: this.nextId++, dueElapsed: this.elapsed + delay, fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Number of armed timers. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves wall clock and elapsed time forward by `ms`, running each timer at its due time in
   * order, and letting promise callbacks and `setImmediate` work run between timers.
   */
  async advance(ms: number): Promise<void> {
    const target = this.elapsed + ms;
    for (;;) {
      await settle();
      const next = this.earliest();
      if (!next || next.dueElapsed > target) break;
      this.wall += next.dueElapsed - this.elapsed;
      this.elapsed = next.dueElapsed;
      this.timers = this.timers.filter((t) => t !== next);
      next.fn();
    }
    this.wall += target - this.elapsed;
    this.elapsed = target;
    await settle();
  }

  /** Moves the wall clock by `ms` (negative goes back); elapsed time and timers are untouched. */
  jump(ms: number): void {
    this.wall += ms;
  }

  /** Simulates a host suspend of `ms`: the wall clock moves, then all overdue timers fire late. */
  async suspend(ms: number): Promise<void> {
    this.wall += ms;
    const target = this.elapsed + ms;
    const due = this.timers.filter((t) => t.dueElapsed <= target).sort(byDue);
    this.timers = this.timers.filter((t) => t.dueElapsed > target);
    this.elapsed = target;
    for (const t of due) {
      t.fn();
      await settle();
    }
    await settle();
  }

  private earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) if (!best || byDue(t, best) < 0) best = t;
    return best;
  }
}

function byDue(a: ManualTimer, b: ManualTimer): number {
  return a.dueElapsed - b.dueElapsed || a.id - b.id;
}

/** Lets queued microtasks and `setImmediate` callbacks (the mailbox drain) run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
