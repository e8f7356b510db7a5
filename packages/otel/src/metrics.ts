/**
 * Vigil's metrics, from the runtime's events (counters, the lateness histogram) and, at each
 * collection, from the runtime itself (pending alarms, mailbox depths). Names and units follow
 * OpenTelemetry's conventions: dotted lower-case names, UCUM units, `{thing}` for counts.
 */
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { AlarmClient } from '@vigil/alarm';
import type { Runtime, TreeNode } from '@vigil/runtime';
import { ATTR, METRIC } from './names.js';

/** Bucket bounds of the lateness histogram, in ms: from on time to an hour late. */
export const LATENESS_BUCKETS_MS = [
  0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 3_600_000,
];

/** Options of the metrics (a subset of `InstrumentOptions`). */
export interface MetricsOptions {
  /** Name the Alarm actor is registered under (default 'Alarm'). */
  alarmName?: string;
  /** Timeout of the `stats` call made for the pending gauge at each collection (default 1000 ms). */
  statsTimeoutMs?: number;
}

/** Creates the instruments and their listeners; returns the function that removes them. */
export function recordMetrics(runtime: Runtime, meter: Meter, options: MetricsOptions = {}): () => void {
  const lateness = meter.createHistogram(METRIC.lateness, {
    description: 'How late an alarm fired: the instant of the attempt minus the instant it was due.',
    unit: 'ms',
    advice: { explicitBucketBoundaries: LATENESS_BUCKETS_MS },
  });
  const counter = (name: string, description: string, unit: string) =>
    meter.createCounter(name, { description, unit });
  const delivered = counter(METRIC.delivered, 'Alarms whose target accepted the delivery.', '{alarm}');
  const failed = counter(METRIC.failed, 'Alarms marked failed (will not be delivered).', '{alarm}');
  const retried = counter(
    METRIC.retried,
    'Delivery attempts that failed and were scheduled again.',
    '{attempt}',
  );
  const missed = counter(METRIC.missed, 'Alarms skipped by the misfire policy.', '{alarm}');
  const superseded = counter(
    METRIC.superseded,
    'Outcomes the store refused: another node holds the alarm now, its record stands.',
    '{outcome}',
  );
  const restarts = counter(METRIC.restarts, 'Restarts of an actor by its supervisor.', '{restart}');
  const crashes = counter(METRIC.crashes, 'Abnormal exits of an actor.', '{crash}');
  const deadLetters = counter(
    METRIC.deadLetters,
    'Messages dropped: their addressee was not running.',
    '{message}',
  );

  const byTarget = (target: string): Attributes => ({ [ATTR.target]: target });
  const offs = [
    runtime.events.on('alarm.fired', (e) => lateness.record(Math.max(0, e.lateMs), byTarget(e.target))),
    runtime.events.on('alarm.delivered', (e) => delivered.add(1, byTarget(e.target))),
    runtime.events.on('alarm.failed', (e) => failed.add(1, byTarget(e.target))),
    runtime.events.on('alarm.retried', (e) => retried.add(1, byTarget(e.target))),
    runtime.events.on('alarm.missed', (e) => missed.add(1, byTarget(e.target))),
    runtime.events.on('alarm.superseded', (e) =>
      superseded.add(1, e.target === undefined ? {} : byTarget(e.target)),
    ),
    runtime.events.on('actor.restarted', (e) => restarts.add(1, { [ATTR.actor]: e.name })),
    runtime.events.on('actor.crashed', (e) => crashes.add(1, { [ATTR.actor]: e.name })),
    runtime.events.on('deadLetter', (e) =>
      deadLetters.add(1, { [ATTR.actor]: e.to, [ATTR.reason]: e.reason }),
    ),
  ];

  const pending = meter.createObservableGauge(METRIC.pending, {
    description: 'Alarms stored and waiting to fire.',
    unit: '{alarm}',
  });
  const alarms = new AlarmClient(runtime, {
    name: options.alarmName,
    timeoutMs: options.statsTimeoutMs ?? 1000,
  });
  const observePending = async (result: ObservableResult) => {
    // No observation while the Alarm is down or the runtime stopped: a gap, never a made-up 0.
    if (runtime.state !== 'running' || runtime.mailboxDepth(options.alarmName ?? 'Alarm') === undefined)
      return;
    try {
      const count = (await alarms.stats()).byStatus.pending;
      if (count !== undefined) result.observe(count);
    } catch {}
  };
  pending.addCallback(observePending);

  const mailbox = meter.createObservableGauge(METRIC.mailboxDepth, {
    description: 'Messages waiting in an actor’s mailbox.',
    unit: '{message}',
  });
  const observeMailboxes = (result: ObservableResult) => {
    const root = runtime.tree();
    if (!root) return;
    for (const name of workerNames(root)) {
      const depth = runtime.mailboxDepth(name);
      if (depth !== undefined) result.observe(depth, { [ATTR.actor]: name });
    }
  };
  mailbox.addCallback(observeMailboxes);

  return () => {
    for (const off of offs) off();
    pending.removeCallback(observePending);
    mailbox.removeCallback(observeMailboxes);
  };
}

function workerNames(node: TreeNode, into: string[] = []): string[] {
  if (node.kind === 'worker') into.push(node.name);
  for (const child of node.children ?? []) workerNames(child, into);
  return into;
}
