/**
 * The Log target's writer: one line per delivered alarm, as JSON lines (for machines) or as a
 * readable text line (for a terminal). A line is always exactly one line, whatever the message
 * holds, and writing never throws: a message that cannot be serialised is logged as a placeholder
 * rather than taking the Log actor down.
 */

/** One alarm delivery, as the Log actor sees it. Instants are epoch milliseconds. */
export interface LogDelivery {
  /** Name of the target the alarm was addressed to. */
  target?: string;
  alarmId?: number;
  /** 1 for the first attempt; higher for retries. */
  attempt?: number;
  /** When the alarm was due. */
  scheduledFor?: number;
  /** When it actually fired; with `scheduledFor`, shows lateness (e.g. after a restart). */
  firedAt?: number;
  /** The alarm's payload. */
  message: unknown;
}

/** Options of `createLogWriter`. */
export interface LogWriterOptions {
  /** `json` (default): one JSON object per line. `text`: a human-readable line. */
  format?: 'json' | 'text';
  /** Wall clock in epoch ms for the line's `time`; default `Date.now`. */
  now?: () => number;
}

/** Writes one delivery as one line. */
export type LogWriter = (delivery: LogDelivery) => void;

/**
 * Creates a writer bound to a stream. Backpressure is ignored on purpose: log lines are small,
 * and an alarm delivery must not wait on a slow terminal; the stream buffers.
 *
 * JSON lines keep instants as epoch ms (lossless, like the alarm store) and add `time` (ISO) and
 * `lateMs` when both `scheduledFor` and `firedAt` are known.
 *
 * @example
 * const write = createLogWriter(process.stdout, { format: 'text' });
 * write({ target: 'log', alarmId: 3, attempt: 1, message: { type: 'backup' } });
 * // 2025-01-01T09:00:00.000Z log alarm #3 attempt 1: {"type":"backup"}
 */
export function createLogWriter(stream: NodeJS.WritableStream, options: LogWriterOptions = {}): LogWriter {
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'text') throw new RangeError(`unknown log format '${String(format)}'`);
  const now = options.now ?? Date.now;
  return (delivery) => {
    const line = format === 'json' ? jsonLine(delivery, now()) : textLine(delivery, now());
    stream.write(`${line}\n`);
  };
}

function jsonLine(d: LogDelivery, nowMs: number): string {
  const record: Record<string, unknown> = { time: iso(nowMs) };
  if (d.target !== undefined) record.target = d.target;
  if (d.alarmId !== undefined) record.alarmId = d.alarmId;
  if (d.attempt !== undefined) record.attempt = d.attempt;
  if (d.scheduledFor !== undefined) record.scheduledFor = d.scheduledFor;
  if (d.firedAt !== undefined) record.firedAt = d.firedAt;
  const late = lateness(d);
  if (late !== undefined) record.lateMs = late;
  record.message = d.message;
  try {
    return JSON.stringify(record, jsonReplacer());
  } catch {
    // A cyclic or otherwise unserialisable message: keep the envelope, lose the payload.
    record.message = '[unserialisable message]';
    return JSON.stringify(record);
  }
}

function textLine(d: LogDelivery, nowMs: number): string {
  const parts = [iso(nowMs)];
  if (d.target !== undefined) parts.push(oneLine(d.target));
  if (d.alarmId !== undefined) parts.push(`alarm #${d.alarmId}`);
  if (d.attempt !== undefined) parts.push(`attempt ${d.attempt}`);
  const timing: string[] = [];
  if (d.scheduledFor !== undefined) timing.push(`due ${iso(d.scheduledFor)}`);
  const late = lateness(d);
  if (late !== undefined && late !== 0) timing.push(late > 0 ? `${late} ms late` : `${-late} ms early`);
  if (timing.length > 0) parts.push(`(${timing.join(', ')})`);
  return `${parts.join(' ')}: ${describeMessage(d.message)}`;
}

function lateness(d: LogDelivery): number | undefined {
  return d.scheduledFor !== undefined && d.firedAt !== undefined ? d.firedAt - d.scheduledFor : undefined;
}

/** A string message reads best bare; anything else as JSON. Both forced onto one line. */
function describeMessage(message: unknown): string {
  if (typeof message === 'string') return oneLine(message);
  try {
    return JSON.stringify(message, jsonReplacer()) ?? String(message);
  } catch {
    return '[unserialisable message]';
  }
}

/** Escapes line breaks so one delivery can never forge a second log line. */
function oneLine(text: string): string {
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/** BigInts become strings and Errors keep their name and message instead of becoming `{}`. */
function jsonReplacer(): (key: string, value: unknown) => unknown {
  return (_key, value) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message };
    return value;
  };
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
