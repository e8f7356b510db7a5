export type { Instrumentation, InstrumentOptions } from './instrument.js';
export { instrument } from './instrument.js';
export type { MetricsOptions } from './metrics.js';
export { LATENESS_BUCKETS_MS } from './metrics.js';
export { ATTR, METRIC, SCOPE, SPAN } from './names.js';
export { formatTraceparent, parseTraceparent } from './traceparent.js';
export { runContext } from './workflow-traces.js';
