/**
 * Text output: aligned tables, key/value blocks, instants in a zone and short relative durations.
 * Every cell goes through `cell`, which escapes control characters: keys, messages and last errors
 * are user data, and an escape sequence stored in a row must not reach the terminal raw.
 */
import { formatInstant } from '@vigil/alarm';
import { oneLine } from './errors.js';

/** Placeholder for an absent value in tables. */
export const NONE = '-';

/** Printable, single-line, length-capped form of a value. */
export function cell(
  value: string | number | null | undefined,
  maxLength = Number.POSITIVE_INFINITY,
): string {
  if (value === null || value === undefined || value === '') return NONE;
  const text = oneLine(String(value));
  return text.length > maxLength ? `${text.slice(0, Math.max(1, maxLength - 1))}…` : text;
}

/**
 * Renders rows under a header, columns separated by two spaces, the last column unpadded so lines
 * carry no trailing blanks.
 *
 * @example table(['ID', 'STATUS'], [['1', 'pending']]) // 'ID  STATUS\n1   pending'
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Renders `label  value` lines with the labels aligned. */
export function fields(entries: readonly (readonly [string, string])[]): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `${label.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

/**
 * A short duration with its two largest units, rounded down: '23h 12m', '3d 4h', '45s', '250ms'.
 * A zero second unit is left out ('2h', not '2h 0m').
 */
export function formatDuration(ms: number): string {
  const abs = Math.abs(Math.trunc(ms));
  if (abs < 1000) return `${abs}ms`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const first = units.findIndex(([, size]) => abs >= size);
  const [bigName, bigSize] = units[first]!;
  const big = Math.floor(abs / bigSize);
  const next = units[first + 1];
  if (!next) return `${big}${bigName}`;
  const small = Math.floor((abs - big * bigSize) / next[1]);
  return small === 0 ? `${big}${bigName}` : `${big}${bigName} ${small}${next[0]}`;
}

/** 'in 23h 12m', '5m ago' or 'now', for an instant relative to `now`. */
export function relative(at: number, now: number): string {
  if (at === now) return 'now';
  return at > now ? `in ${formatDuration(at - now)}` : `${formatDuration(now - at)} ago`;
}

/** Wall-clock time in a zone without the zone's name, for table columns headed by the zone. */
export function wallClock(at: number, zone: string): string {
  const text = formatInstant(at, zone);
  return text.slice(0, text.length - zone.length - 1);
}

/** '2026-11-28 09:00 Europe/Paris (2026-11-28T08:00:00.000Z)'. */
export function instant(at: number, zone: string): string {
  return `${formatInstant(at, zone)} (${new Date(at).toISOString()})`;
}

/** `instant` followed by the relative time: '..., in 23h 12m'. */
export function instantFromNow(at: number, zone: string, now: number): string {
  return `${instant(at, zone)}, ${relative(at, now)}`;
}

/** JSON for `--json` output: two-space indented, one document per command. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
