/**
 * The Alarm's prefetch window: the next pending alarms, read ahead of time, so that a Timer wake
 * fires what is due without a store read on its path.
 *
 * Invariant, while `valid`: every pending row of the store that is not in flight and sorts (by
 * fireAt, id) at or before the window's tail is in the window; when the window is `complete`
 * (its last read returned fewer rows than asked), every such row is, whatever its key. So the
 * rows due at `now` are exactly the window's rows with fireAt <= now, as long as the window is
 * complete or its tail is after now (`covers`).
 *
 * The Alarm keeps the invariant: a set adds its row (`add`); a cancel removes it (`remove`);
 * anything it cannot follow row by row (a retry or a series' next occurrence moving a row, a
 * write by another connection, a target getting room after being passed over) drops the whole
 * window (`invalidate`), and due rows are read from the store again until a read shows nothing
 * due is left behind (then the window is filled again).
 *
 * Every change bumps `generation`: a read that was in flight across a change may have missed it
 * (a row inserted or cancelled meanwhile), so its rows are dropped (`fill` and `extend` refuse).
 *
 * Memory is bounded, whatever the number of pending alarms: at most `maxRows` rows, and no more
 * than `maxBytes` of stored messages beyond the first row.
 */
import type { AlarmRow, DueCursor } from './store/types.js';

/** The next pending alarms, in (fireAt, id) order. */
export class AheadWindow {
  /** Rows from `head` on are the window; the ones before it were taken (no O(n) shift per take). */
  private rows: AlarmRow[] = [];
  private head = 0;
  private bytes = 0;
  /** The key the window covers up to (its tail when it was read or trimmed); undefined: complete. */
  private to: DueCursor | undefined;
  private gen = 0;
  /** True while the invariant holds (see the header). */
  valid = false;

  constructor(
    readonly maxRows: number,
    readonly maxBytes: number,
  ) {}

  /** Changes whenever the window does: compare before and after a read (see the header). */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.rows.length - this.head;
  }

  /** The earliest row in the window. */
  first(): AlarmRow | undefined {
    return this.rows[this.head];
  }

  /** Where the next read of `extend` starts: the tail's key, or undefined when nothing follows it. */
  readFrom(): DueCursor | undefined {
    return this.valid ? this.to : undefined;
  }

  /** Whether every row due at `now` is in the window. */
  covers(now: number): boolean {
    return this.valid && (this.to === undefined || this.to.fireAt > now);
  }

  /** Whether a read should top the window up (it is half empty and rows follow its tail). */
  wantsMore(): boolean {
    return this.valid && this.to !== undefined && this.size <= this.maxRows / 2;
  }

  invalidate(): void {
    this.valid = false;
    this.rows = [];
    this.head = 0;
    this.bytes = 0;
    this.to = undefined;
    this.gen++;
  }

  /**
   * Starts the window from a read of the next `limit` pending rows made when nothing due was left
   * behind (every pending row before them in flight). Refused if the window changed since
   * `generation` was `gen`.
   */
  fill(rows: readonly AlarmRow[], limit: number, gen: number): boolean {
    if (gen !== this.gen) return false;
    this.invalidate();
    this.valid = true;
    this.append(rows, limit);
    return true;
  }

  /** Adds a read of the rows after `readFrom()`. Refused if the window changed since `gen`. */
  extend(rows: readonly AlarmRow[], limit: number, gen: number): boolean {
    if (gen !== this.gen || !this.valid || this.to === undefined) return false;
    this.compact();
    this.to = undefined;
    this.append(rows, limit);
    return true;
  }

  /** Takes the first row if it is due at `now`. */
  takeDue(now: number): AlarmRow | undefined {
    const row = this.rows[this.head];
    if (row === undefined || row.fireAt > now) return undefined;
    this.rows[this.head] = undefined as unknown as AlarmRow; // let it be collected
    this.head++;
    this.bytes -= row.message.length;
    if (this.head === this.rows.length) {
      this.rows = [];
      this.head = 0;
    }
    return row;
  }

  /**
   * A new pending row (a set committed by this connection). Returns false if the window is not
   * valid (the caller must then read from the store). A row after the tail of a window that is
   * not complete is left out: the invariant does not cover it, a later read finds it.
   */
  add(row: AlarmRow): boolean {
    if (!this.valid) return false;
    this.gen++;
    if (this.to !== undefined && !before(row, this.to)) return true;
    this.compact();
    let i = this.rows.length;
    while (i > 0 && before(row, this.rows[i - 1]!)) i--;
    this.rows.splice(i, 0, row);
    this.bytes += row.message.length;
    this.trim();
    return true;
  }

  /** Takes the row out if it is in the window (a cancel). Returns whether it was. */
  remove(id: number): boolean {
    this.gen++;
    for (let i = this.head; i < this.rows.length; i++) {
      const row = this.rows[i]!;
      if (row.id !== id) continue;
      this.rows.splice(i, 1);
      this.bytes -= row.message.length;
      return true;
    }
    return false;
  }

  private append(rows: readonly AlarmRow[], limit: number): void {
    for (const row of rows) {
      this.rows.push(row);
      this.bytes += row.message.length;
    }
    // A full read may have more rows after it: the window covers up to its last row only.
    const last = rows[rows.length - 1];
    if (rows.length >= limit && last !== undefined) this.to = { fireAt: last.fireAt, id: last.id };
    this.trim();
  }

  /** Drops rows from the tail past the bounds; the window then covers up to its new tail. */
  private trim(): void {
    while (this.size > 1 && (this.size > this.maxRows || this.bytes > this.maxBytes)) {
      const row = this.rows.pop()!;
      this.bytes -= row.message.length;
      const last = this.rows[this.rows.length - 1]!;
      this.to = { fireAt: last.fireAt, id: last.id };
    }
  }

  private compact(): void {
    if (this.head === 0) return;
    this.rows = this.rows.slice(this.head);
    this.head = 0;
  }
}

/** (fireAt, id) order. */
function before(a: DueCursor, b: DueCursor): boolean {
  return a.fireAt < b.fireAt || (a.fireAt === b.fireAt && a.id < b.id);
}
