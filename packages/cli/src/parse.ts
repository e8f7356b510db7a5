/**
 * `vigil parse WHEN`: shows the instant `set` would store for WHEN, read exactly as the Alarm actor
 * reads it (`parseWhen`), so a user can check 'next friday 17:30' before relying on it.
 */
import { parseWhen } from '@vigil/alarm';
import type { Command } from 'commander';
import type { Context } from './context.js';
import { UsageError } from './errors.js';
import { instant, json, relative } from './format.js';

/** Adds the `parse` command to `program`. @internal */
export function registerParse(program: Command, ctx: Context): void {
  program
    .command('parse')
    .description('preview the instant a time expression names')
    .argument('<when>', "'tomorrow at 9am', 'in 5 minutes', '2026-12-01T09:00', ...")
    .option('--tz <zone>', 'IANA zone wall-clock times are read in (default: the system zone)')
    .option('--now <iso>', 'reference instant, ISO-8601 (default: now)')
    .option('--json', 'print JSON: { input, kind, at, iso, local, zone, inMs }')
    .action((when: string, o: { tz?: string; now?: string; json?: boolean }) => {
      const zone = ctx.zone(o.tz);
      const now = o.now === undefined ? ctx.now() : referenceInstant(o.now, zone, ctx.now());
      const parsed = parseWhen(when, { now, zone });
      const line = `${instant(parsed.at, zone)}, ${relative(parsed.at, now)}`;
      if (!o.json) return ctx.out(line);
      ctx.out(
        json({
          input: parsed.input,
          kind: parsed.kind,
          at: parsed.at,
          iso: new Date(parsed.at).toISOString(),
          local: instant(parsed.at, zone).replace(/ \(.*\)$/, ''),
          zone,
          inMs: parsed.at - now,
        }),
      );
    });
}

/** `--now` must be an ISO-8601 instant; without an offset it is wall-clock time in the zone. */
function referenceInstant(text: string, zone: string, clock: number): number {
  let parsed: ReturnType<typeof parseWhen> | undefined;
  try {
    parsed = parseWhen(text, { now: clock, zone, allowPast: true });
  } catch {
    // Reported below, as a usage error.
  }
  if (parsed?.kind !== 'iso')
    throw new UsageError(
      `--now ${JSON.stringify(text)} is not an ISO-8601 instant such as 2026-11-27T09:48Z`,
    );
  return parsed.at;
}
