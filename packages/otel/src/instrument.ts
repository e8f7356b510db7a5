/**
 * `instrument(runtime)`: OpenTelemetry traces and metrics from a runtime's event bus. Only
 * `@opentelemetry/api` is used: the application chooses the SDK and exporters and passes its
 * providers (or registers them globally). Invariant: everything `instrument` adds to the runtime
 * (event listeners, the `set` interceptor, metric callbacks) is removed by `shutdown()`.
 */
import { type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api';
import type { Runtime } from '@vigil/runtime';
import { traceAlarms } from './alarm-traces.js';
import { type MetricsOptions, recordMetrics } from './metrics.js';
import { SCOPE } from './names.js';
import { traceWorkflows } from './workflow-traces.js';

/** Options of `instrument`. */
export interface InstrumentOptions extends MetricsOptions {
  /** Where spans go (default: the global provider, `trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go (default: the global provider, `metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Version reported as the instrumentation scope's version. */
  version?: string;
}

/** What `instrument` returns. */
export interface Instrumentation {
  /** Removes every listener, the `set` interceptor and the metric callbacks. Idempotent. */
  shutdown(): void;
  /** The same as `shutdown`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * Sends the runtime's alarm, workflow and actor telemetry to OpenTelemetry.
 *
 * @example
 * const otel = instrument(runtime, { tracerProvider, meterProvider });
 * // ... later
 * otel.shutdown();
 */
export function instrument(runtime: Runtime, options: InstrumentOptions = {}): Instrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE, options.version);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE, options.version);
  let stops: (() => void)[] = [
    traceAlarms(runtime, tracer),
    traceWorkflows(runtime, tracer),
    recordMetrics(runtime, meter, options),
  ];
  const shutdown = () => {
    const now = stops;
    stops = [];
    for (const stop of now) stop();
  };
  return { shutdown, [Symbol.dispose]: shutdown };
}
