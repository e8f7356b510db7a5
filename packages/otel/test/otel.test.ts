/**
 * @vigil/otel against the OpenTelemetry SDK's in-memory exporters: the delivery span linked to
 * the `set` span across a process restart (two runtimes, one database file), the workflow trace,
 * the lateness histogram's counts and the counters, and `shutdown` removing everything it added.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { AlarmClient, type AlarmStore, alarmSupervisor, type Delivery, openSqliteStore } from '@vigil/alarm';
import { createRuntime, Exit, exit, ManualClock, type Runtime, reply, worker } from '@vigil/runtime';
import { defineWorkflow, end, next, schedulerWorker, WorkflowClient } from '@vigil/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import { ATTR, instrument, METRIC, SPAN } from '../src/index.js';

const dirs: string[] = [];
const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) if (r.state === 'running') await r.stop();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dbFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-otel-'));
  dirs.push(dir);
  return path.join(dir, 'vigil.db');
}

/** A target that records what it receives and accepts it. */
function recording(into: Delivery[]) {
  return fromCallback(({ receive }) => {
    receive((event) => {
      into.push(event as unknown as Delivery);
      reply(event, true);
    });
  });
}

/** A worker that crashes on any message. */
const crashy = fromCallback(({ receive, self }) => {
  receive(() => exit(self, Exit.error(new Error('boom'))));
});

function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider };
}

function metering() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<MetricData[]> => {
    exporter.reset();
    await reader.forceFlush();
    return exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  };
  return { provider, collect };
}

function metric(all: MetricData[], name: string): MetricData {
  const found = all.find((m) => m.descriptor.name === name);
  if (!found) throw new Error(`no metric ${name}; have ${all.map((m) => m.descriptor.name).join(', ')}`);
  return found;
}

describe('traces', () => {
  it('links a delivery in a second process life to the set span of the first', async () => {
    const file = dbFile();
    const first = tracing();
    const r1 = createRuntime();
    runtimes.push(r1);
    await r1.start([worker('Log', recording([])), alarmSupervisor({ db: file })]);
    const otel1 = instrument(r1, { tracerProvider: first.provider });
    const alarm = await new AlarmClient(r1).set(Date.now() + 60_000, 'Log', { note: 'later' });
    otel1.shutdown();
    await r1.stop();

    const [setSpan] = first.exporter.getFinishedSpans().filter((s) => s.name === SPAN.set);
    expect(setSpan?.kind).toBe(SpanKind.PRODUCER);
    expect(setSpan?.attributes[ATTR.alarmId]).toBe(alarm.id);
    expect(alarm.trace).toBe(`00-${setSpan?.spanContext().traceId}-${setSpan?.spanContext().spanId}-01`);
    expect(alarm.message).toEqual({ note: 'later' });

    // The second life starts a minute later (a ManualClock), so the alarm is due at once.
    const second = tracing();
    const received: Delivery[] = [];
    const r2 = createRuntime({ clock: new ManualClock(alarm.fireAt + 5_000) });
    runtimes.push(r2);
    const otel2 = instrument(r2, { tracerProvider: second.provider });
    const delivered = r2.events.waitFor('alarm.delivered', (e) => e.id === alarm.id);
    await r2.start([worker('Log', recording(received)), alarmSupervisor({ db: file, pollMs: 0 })]);
    await delivered;
    otel2.shutdown();

    expect(received[0]?.alarm.trace).toBe(alarm.trace);
    expect(received[0]?.note).toBe('later');
    const deliver = second.exporter.getFinishedSpans().find((s) => s.name === SPAN.deliver);
    expect(deliver?.kind).toBe(SpanKind.CONSUMER);
    expect(deliver?.attributes[ATTR.alarmId]).toBe(alarm.id);
    expect(deliver?.attributes[ATTR.lateMs]).toBe(5_000);
    expect(deliver?.links.map((l) => l.context.spanId)).toEqual([setSpan?.spanContext().spanId]);
    expect(deliver?.links[0]?.context.traceId).toBe(setSpan?.spanContext().traceId);
  });

  it('a trace option that is not a traceparent is refused with INVALID_OPTION', async () => {
    const r = createRuntime();
    runtimes.push(r);
    await r.start([worker('Log', recording([])), alarmSupervisor({ db: dbFile() })]);
    const alarms = new AlarmClient(r);
    await expect(alarms.set('in 1 hour', 'Log', {}, { trace: 'not-a-trace' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    expect((await alarms.stats()).total).toBe(0);
  });

  it('a refused outcome (alarm.superseded) ends its delivery span as an error and is counted', async () => {
    // A store that refuses the record of a delivery without applying it, as a node whose lease
    // another node took over sees it (that node's record stands; here, nobody's).
    const file = dbFile();
    const store = (): AlarmStore => {
      const inner = openSqliteStore(file);
      const complete: AlarmStore['complete'] = async (batch) => ({
        cancelled: [],
        refused: batch.map((c) => c.id),
      });
      // The store keeps private fields: every other member is the real store's, bound to it.
      return new Proxy(inner, {
        get: (target, key) => {
          if (key === 'complete') return complete;
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    const { exporter, provider } = tracing();
    const metrics = metering();
    const r = createRuntime();
    runtimes.push(r);
    await r.start([worker('Log', recording([])), alarmSupervisor({ store })]);
    instrument(r, { tracerProvider: provider, meterProvider: metrics.provider });
    let delivered = 0;
    r.events.on('alarm.delivered', () => delivered++);
    const superseded = r.events.waitFor('alarm.superseded', () => true);
    const alarm = await new AlarmClient(r).set(Date.now() + 20, 'Log', {});
    const event = await superseded;
    expect(event).toMatchObject({ id: alarm.id, outcome: 'fired', target: 'Log' });
    expect(delivered).toBe(0);
    const spans = exporter.getFinishedSpans().filter((s) => s.name === SPAN.deliver);
    expect(spans.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR]);
    expect(spans[0]!.status.message).toMatch(/^superseded: /);
    const counted = metric(await metrics.collect(), METRIC.superseded);
    expect(counted.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ [ATTR.target]: 'Log' }, 1]]);
  });

  it('shutdown removes the interceptor and the listeners', async () => {
    const { exporter, provider } = tracing();
    const r = createRuntime();
    runtimes.push(r);
    await r.start([worker('Log', recording([])), alarmSupervisor({ db: dbFile() })]);
    const otel = instrument(r, { tracerProvider: provider });
    otel.shutdown();
    const alarm = await new AlarmClient(r).set('in 1 hour', 'Log', {});
    expect(alarm.trace).toBeNull();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('workflow traces', () => {
  it('puts every step of a run in one trace, derived from the run id', async () => {
    const clock = new ManualClock();
    const { exporter, provider } = tracing();
    const file = dbFile();
    const r = createRuntime({ clock });
    runtimes.push(r);
    const otel = instrument(r, { tracerProvider: provider });
    const twoSteps = defineWorkflow({
      name: 'two-steps',
      start: 'a',
      steps: { a: () => next('b', { after: '1 minute' }), b: () => end({ result: 'ok' }) },
    });
    await r.start([
      alarmSupervisor({ db: file, pollMs: 0 }),
      schedulerWorker({ db: file, workflows: [twoSteps] }),
    ]);
    const ended = r.events.waitFor('workflow.ended', (e) => e.runId === 'run-1');
    const firstStep = r.events.waitFor('workflow.stepped', (e) => e.runId === 'run-1' && e.step === 'a');
    await new WorkflowClient(r).start('two-steps', {}, { runId: 'run-1' });
    await firstStep;
    await clock.advance(60_000);
    await ended;
    otel.shutdown();

    const spans = exporter.getFinishedSpans();
    const steps = spans.filter((s) => s.name === SPAN.step);
    const run = spans.find((s) => s.name === SPAN.run);
    expect(steps.map((s) => s.attributes[ATTR.step])).toEqual(['a', 'b']);
    expect(run?.attributes[ATTR.status]).toBe('completed');
    const traceIds = new Set([...steps, run].map((s) => s?.spanContext().traceId));
    expect(traceIds.size).toBe(1);
    // Step b spans the minute the run waited for it.
    const b = steps[1];
    expect(b && b.endTime[0] - b.startTime[0]).toBe(60);
  });
});

describe('metrics', () => {
  it('counts lateness in histogram buckets, deliveries by target, pending, restarts', async () => {
    // A first life stores the alarms at t0; the second starts 10 s later, so they fire at once
    // with known lateness: 9000, 8000 and 10 ms.
    const file = dbFile();
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const before = createRuntime({ clock: new ManualClock(t0) });
    runtimes.push(before);
    await before.start([worker('Log', recording([])), alarmSupervisor({ db: file, pollMs: 0 })]);
    await new AlarmClient(before).setMany([
      { when: t0 + 1_000, target: 'Log' },
      { when: t0 + 2_000, target: 'Log' },
      { when: t0 + 9_990, target: 'Log' },
      { when: t0 + 3_600_000, target: 'Log' },
    ]);
    await before.stop();

    const { provider, collect } = metering();
    const r = createRuntime({ clock: new ManualClock(t0 + 10_000) });
    runtimes.push(r);
    const otel = instrument(r, { meterProvider: provider });
    let count = 0;
    const three = r.events.waitFor('alarm.delivered', () => ++count === 3);
    await r.start([
      worker('Log', recording([])),
      worker('Crashy', crashy),
      alarmSupervisor({ db: file, pollMs: 0 }),
    ]);
    await three;
    const restarted = r.events.waitFor('actor.restarted', (e) => e.name === 'Crashy');
    r.send('Crashy', { type: 'go' });
    await restarted;

    const all = await collect();
    const lateness = metric(all, METRIC.lateness);
    expect(lateness.descriptor.unit).toBe('ms');
    expect(lateness.dataPointType).toBe(DataPointType.HISTOGRAM);
    const point = lateness.dataPoints[0] as {
      value: { count: number; sum: number; buckets: { boundaries: number[]; counts: number[] } };
      attributes: Record<string, unknown>;
    };
    expect(lateness.dataPoints).toHaveLength(1);
    expect(point.attributes).toEqual({ [ATTR.target]: 'Log' });
    expect(point.value.count).toBe(3);
    expect(point.value.sum).toBe(9_000 + 8_000 + 10);
    // 10 ms falls in (5, 10]; 8000 and 9000 in (5000, 10000].
    const { boundaries, counts } = point.value.buckets;
    expect(counts[boundaries.indexOf(10)]).toBe(1);
    expect(counts[boundaries.indexOf(10_000)]).toBe(2);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3);

    const delivered = metric(all, METRIC.delivered);
    expect(delivered.descriptor.unit).toBe('{alarm}');
    expect(delivered.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ [ATTR.target]: 'Log' }, 3]]);
    expect(metric(all, METRIC.pending).dataPoints.map((p) => p.value)).toEqual([1]);
    expect(metric(all, METRIC.restarts).dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ [ATTR.actor]: 'Crashy' }, 1],
    ]);
    const depths = metric(all, METRIC.mailboxDepth).dataPoints.map((p) => p.attributes[ATTR.actor]);
    expect(depths).toEqual(expect.arrayContaining(['Log', 'Crashy', 'Alarm', 'Timer']));
    otel.shutdown();
  });
});
