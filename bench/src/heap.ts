/**
 * The limit for a single-timer design: every pending job in a binary min-heap, one `setTimeout`
 * armed for the root. It is what Vigil's Timer does with the store replaced by memory, so the
 * gap between the two is the cost of SQLite and the actor hops.
 */
export class HeapTimer {
  private readonly due: number[] = [];
  private readonly jobs: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  /** Runs `job` at or after the epoch-ms instant `at`. */
  add(at: number, job: () => void): void {
    this.due.push(at);
    this.jobs.push(job);
    this.up(this.due.length - 1);
    if (at < this.armedAt) this.arm();
  }

  get size(): number {
    return this.due.length;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = this.due[0] ?? Number.POSITIVE_INFINITY;
    if (this.due.length === 0) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.armedAt - this.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.now();
    while (this.due.length > 0 && this.due[0]! <= now) this.pop()();
    this.arm();
  }

  private pop(): () => void {
    const job = this.jobs[0]!;
    const lastDue = this.due.pop()!;
    const lastJob = this.jobs.pop()!;
    if (this.due.length > 0) {
      this.due[0] = lastDue;
      this.jobs[0] = lastJob;
      this.down(0);
    }
    return job;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.due[parent]! <= this.due[i]!) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.due.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.due[l]! < this.due[m]!) m = l;
      if (r < n && this.due[r]! < this.due[m]!) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    [this.due[a], this.due[b]] = [this.due[b]!, this.due[a]!];
    [this.jobs[a], this.jobs[b]] = [this.jobs[b]!, this.jobs[a]!];
  }
}
