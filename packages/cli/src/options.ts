/**
 * Parsers of option and argument values. Each throws commander's `InvalidArgumentError`, which
 * commander reports as a usage error (exit 2) naming the option, before any command runs.
 */
import { ALARM_STATUSES, type AlarmStatus } from '@vigil/alarm';
import { InvalidArgumentError } from 'commander';

/** An alarm id: a positive integer. */
export function parseId(value: string): number {
  const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer id.');
  return n;
}

/** A positive integer up to `max`. */
export function positiveInt(max: number): (value: string) => number {
  return (value) => {
    const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`expected an integer from 1 to ${max}.`);
    return n;
  };
}

/** A comma-separated list of statuses, e.g. 'pending,fired'. */
export function parseStatuses(value: string): AlarmStatus[] {
  const statuses = value.split(',').map((s) => s.trim());
  for (const s of statuses) {
    if (!(ALARM_STATUSES as readonly string[]).includes(s))
      throw new InvalidArgumentError(`expected statuses among ${ALARM_STATUSES.join(', ')}.`);
  }
  return [...new Set(statuses)] as AlarmStatus[];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * An actor name of the form the runtime accepts: 1 to 200 characters, no control characters. The
 * CLI cannot know whether a running runtime declares it.
 */
export function parseName(value: string): string {
  if (value.length === 0 || value.length > 200 || CONTROL_CHARS.test(value))
    throw new InvalidArgumentError('expected an actor name of 1 to 200 printable characters.');
  return value;
}
