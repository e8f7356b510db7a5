/** Formatting instants and durations for the examples' output. */

/** '09:30:02.004' in `zone`. */
export function clockTime(at: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  return `${parts}.${String(Math.floor(at % 1000)).padStart(3, '0')}`;
}

/** '2.004s' since `start`. */
export function elapsed(at: number, start: number): string {
  return `${((at - start) / 1000).toFixed(3)}s`;
}

/** The zone this machine runs in (what natural-language times are read in). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
