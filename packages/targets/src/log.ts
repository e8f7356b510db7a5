/**
 * The Log target: writes one line per delivery (JSON lines by default, or readable text) and
 * acknowledges it. Useful as a first target, for auditing what fired, and in examples.
 *
 * It is the short way to write a target, `defineTarget` with a handler: the writer never throws,
 * so a delivery is always acknowledged.
 */
import type { DeliveryInfo } from '@vigil/alarm';
import { createLogWriter, type LogDelivery } from './log-writer.js';
import { defineTarget } from './target.js';

/** Options of `logTarget`. */
export interface LogTargetOptions {
  /** Where lines go; default `process.stdout`. */
  stream?: NodeJS.WritableStream;
  /** `json` (default): one JSON object per line. `text`: a human-readable line. */
  format?: 'json' | 'text';
}

/**
 * Builds the Log target's logic. Each line holds the target's name, the alarm's id, attempt and
 * instants (when the delivery came from an alarm), and the message without the alarm envelope.
 * Line times come from the runtime's clock.
 *
 * @example
 * await runtime.start([alarmSupervisor({ db: 'vigil.db' }), worker('Log', logTarget({ format: 'text' }))]);
 * await new AlarmClient(runtime).set('in 5 minutes', 'Log', { type: 'backup.done', size: 42 });
 * // 2026-03-02T09:05:00.000Z Log alarm #1 attempt 1 (due 2026-03-02T09:05:00.000Z): {"type":"backup.done","size":42}
 */
export function logTarget(options: LogTargetOptions = {}): ReturnType<typeof defineTarget> {
  const stream = options.stream ?? process.stdout;
  const format = options.format ?? 'json';
  // Fails now on an unknown format, not at the first delivery.
  createLogWriter(stream, { format });
  return defineTarget((delivery, { runtime, name }) => {
    const write = createLogWriter(stream, { format, now: () => runtime.clock.now() });
    const { alarm, ...message } = delivery as typeof delivery & { alarm?: DeliveryInfo };
    const line: LogDelivery = { target: name, message };
    if (alarm && typeof alarm.alarmId === 'number') {
      line.alarmId = alarm.alarmId;
      line.attempt = alarm.attempt;
      line.scheduledFor = alarm.scheduledFor;
      line.firedAt = alarm.firedAt;
    }
    write(line);
  });
}
