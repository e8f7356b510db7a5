/**
 * Alarm spans. A `set` span is opened around each alarm a client sets (through the alarm
 * package's `interceptSets`), as a child of the caller's active context; its traceparent goes
 * into the alarm's `trace` option, which the store keeps inside the alarm's row. Each delivery
 * attempt is a span of its own, opened on `alarm.fired` and ended on `alarm.delivered`,
 * `alarm.retried`, `alarm.failed` or `alarm.superseded` (an error: the store refused this node's
 * record, another holder's stands), with a link to the stored `set` span: the delivery may come
 * hours later, in another process life, when the `set` span is long exported, so it is a link
 * (as for a message consumed from a queue), not a parent.
 */
import { context, type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { interceptSets } from '@vigil/alarm';
import type { Runtime } from '@vigil/runtime';
import { ATTR, SPAN } from './names.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/** Starts the alarm spans; returns the function that removes every listener and the interceptor. */
export function traceAlarms(runtime: Runtime, tracer: Tracer): () => void {
  const removeInterceptor = interceptSets(runtime, async (inputs, proceed) => {
    const parent = context.active();
    const spans = inputs.map((input) =>
      tracer.startSpan(
        SPAN.set,
        { kind: SpanKind.PRODUCER, attributes: { [ATTR.target]: String(input.target) } },
        parent,
      ),
    );
    const traced = inputs.map((input, i) => {
      // A caller that passes its own trace context keeps it.
      if (input.options?.trace !== undefined) return input;
      const traceparent = formatTraceparent((spans[i] as Span).spanContext());
      return traceparent === undefined
        ? input
        : { ...input, options: { ...input.options, trace: traceparent } };
    });
    try {
      const alarms = await proceed(traced);
      alarms.forEach((alarm, i) => {
        spans[i]?.setAttribute(ATTR.alarmId, alarm.id);
      });
      return alarms;
    } catch (err) {
      for (const span of spans) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      }
      throw err;
    } finally {
      for (const span of spans) span.end();
    }
  });

  // Open delivery spans by `id:attempt`: an alarm has at most one attempt in flight.
  const open = new Map<string, Span>();
  const finish = (key: string, at: number, error?: string) => {
    const span = open.get(key);
    if (!span) return;
    open.delete(key);
    if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    span.end(at);
  };
  const offs = [
    runtime.events.on('alarm.fired', (e) => {
      const linked = e.trace === undefined ? undefined : parseTraceparent(e.trace);
      const span = tracer.startSpan(SPAN.deliver, {
        kind: SpanKind.CONSUMER,
        startTime: e.at,
        links: linked ? [{ context: linked }] : [],
        attributes: {
          [ATTR.alarmId]: e.id,
          [ATTR.target]: e.target,
          [ATTR.attempt]: e.attempt,
          [ATTR.lateMs]: e.lateMs,
        },
      });
      open.set(`${e.id}:${e.attempt}`, span);
    }),
    runtime.events.on('alarm.delivered', (e) => finish(`${e.id}:${e.attempt}`, e.at)),
    runtime.events.on('alarm.retried', (e) => finish(`${e.id}:${e.attempt}`, e.at, e.reason)),
    runtime.events.on('alarm.failed', (e) => {
      for (const key of open.keys()) if (key.startsWith(`${e.id}:`)) finish(key, e.at, e.reason);
    }),
    // The outcome was refused (another node holds the alarm now): no other event ends this span.
    runtime.events.on('alarm.superseded', (e) => {
      const reason = `superseded: the store refused this node's '${e.outcome}' record; another holder's stands`;
      for (const key of open.keys()) if (key.startsWith(`${e.id}:`)) finish(key, e.at, reason);
    }),
  ];
  return () => {
    removeInterceptor();
    for (const off of offs) off();
    // Attempts still in flight are ended as they stand, so no span is left open for ever.
    for (const span of open.values()) span.end();
    open.clear();
  };
}
