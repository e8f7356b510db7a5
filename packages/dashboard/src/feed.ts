/**
 * The live feed: runtime events gathered into one batch per interval (250 ms by default) and
 * sent to every Server-Sent-Events client, so 10k alarms firing per second become four small
 * messages per second, whatever the rate. A batch holds counts by kind, whether the tree
 * changed, and the last few events (at most `recent`), never one message per event. It also
 * keeps the per-minute counts and the lateness histogram the stats view shows.
 */
import type { ServerResponse } from 'node:http';
import type { Runtime } from '@vigil/runtime';
import '@vigil/alarm';

/** Bucket upper bounds (ms) of the dashboard's lateness histogram; the last bucket is open. */
export const LATENESS_BOUNDS = [10, 100, 1000, 10_000, 60_000];

interface Minute {
  minute: number;
  delivered: number;
  failed: number;
  retried: number;
}

/** One batch as the client receives it. */
export interface Batch {
  counts: Record<string, number>;
  treeChanged: boolean;
  recent: { event: string; name: string; at: number }[];
}

export class Feed {
  private readonly clients = new Set<ServerResponse>();
  private batch: Batch = { counts: {}, treeChanged: false, recent: [] };
  private dirty = false;
  private readonly timer: NodeJS.Timeout;
  private readonly offs: (() => void)[] = [];
  private readonly minutes: Minute[] = [];
  readonly lateness = LATENESS_BOUNDS.map(() => 0).concat(0);
  /** Restarts per actor name since the dashboard started. */
  readonly restarts: Record<string, number> = {};

  /** Without a runtime (a database only) the feed stays silent: clients connect and get nothing. */
  constructor(
    runtime: Runtime | undefined,
    intervalMs: number,
    private readonly recent = 20,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
    if (!runtime) return;
    const tree = ['actor.started', 'actor.crashed', 'actor.stopped', 'actor.restarted'] as const;
    for (const event of tree) {
      this.offs.push(runtime.events.on(event, (e) => this.add(event, e.name, e.at, true)));
    }
    const alarms = [
      'alarm.set',
      'alarm.delivered',
      'alarm.failed',
      'alarm.retried',
      'alarm.cancelled',
    ] as const;
    for (const event of alarms) {
      this.offs.push(runtime.events.on(event, (e) => this.add(event, `#${e.id}`, e.at, false)));
    }
    this.offs.push(
      runtime.events.on('actor.restarted', (e) => {
        this.restarts[e.name] = (this.restarts[e.name] ?? 0) + 1;
      }),
    );
    this.offs.push(
      runtime.events.on('alarm.fired', (e) => {
        const i = LATENESS_BOUNDS.findIndex((b) => e.lateMs <= b);
        const bucket = i === -1 ? LATENESS_BOUNDS.length : i;
        this.lateness[bucket] = (this.lateness[bucket] ?? 0) + 1;
      }),
    );
  }

  /** Adds an SSE client; it is dropped when its connection closes. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': vigil\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  /** Delivered, failed and retried per minute, oldest first (the last 60 minutes seen). */
  perMinute(): Minute[] {
    return [...this.minutes];
  }

  close(): void {
    clearInterval(this.timer);
    for (const off of this.offs) off();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private add(event: string, name: string, at: number, tree: boolean): void {
    const b = this.batch;
    b.counts[event] = (b.counts[event] ?? 0) + 1;
    if (tree) b.treeChanged = true;
    b.recent.push({ event, name, at });
    if (b.recent.length > this.recent) b.recent.shift();
    this.dirty = true;
    const kind =
      event === 'alarm.delivered'
        ? 'delivered'
        : event === 'alarm.failed'
          ? 'failed'
          : event === 'alarm.retried'
            ? 'retried'
            : null;
    if (kind) {
      const minute = Math.floor(at / 60_000) * 60_000;
      let last = this.minutes[this.minutes.length - 1];
      if (!last || last.minute !== minute) {
        last = { minute, delivered: 0, failed: 0, retried: 0 };
        this.minutes.push(last);
        if (this.minutes.length > 60) this.minutes.shift();
      }
      last[kind] += 1;
    }
  }

  private flush(): void {
    if (!this.dirty) return;
    const data = `data: ${JSON.stringify(this.batch)}\n\n`;
    this.batch = { counts: {}, treeChanged: false, recent: [] };
    this.dirty = false;
    for (const res of this.clients) res.write(data);
  }
}
