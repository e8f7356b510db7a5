/**
 * What every command receives: where to write, the clock, the default zone and how to resolve
 * paths. Injected so that tests run the CLI in-process with a fixed instant and capture output.
 */
import { resolve } from 'node:path';
import { checkZone } from '@vigil/alarm';
import { UsageError } from './errors.js';

/** The outside world of one CLI run. Only `stdout` and `stderr` are required. */
export interface CliIo {
  /** Receives standard output; each call is one or more whole lines ending in '\n'. */
  stdout(text: string): void;
  /** Receives standard error, in the same way. */
  stderr(text: string): void;
  /** The current instant, UTC ms (default `Date.now`). */
  now?: () => number;
  /** Zone used when `--tz` is not given (default: the system's zone, which honours `TZ`). */
  zone?: string;
  /** Directory relative `--db` paths are resolved against (default `process.cwd()`). */
  cwd?: string;
  /**
   * What `vigil demo` runs (default: the demo shipped in this package): it writes through `print`
   * and resolves true on success (exit 0), false on failure (exit 1).
   */
  demo?: (print: (line?: string) => void) => Promise<boolean>;
}

/** `CliIo` with defaults filled in, plus helpers shared by the commands. @internal */
export interface Context {
  out(text: string): void;
  err(text: string): void;
  now(): number;
  /** The zone of `--tz`, or the default; throws a usage error for an invalid zone. */
  zone(tz: string | undefined): string;
  path(p: string): string;
  demo: CliIo['demo'];
  /** Exit status of a command that succeeds but reports one of its own (`demo`). */
  setExitCode(code: number): void;
  exitCode: number;
}

/** Builds the context of one run. @internal */
export function makeContext(io: CliIo): Context {
  const defaultZone = io.zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  const cwd = io.cwd ?? process.cwd();
  return {
    out: (text) => io.stdout(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => io.stderr(text.endsWith('\n') ? text : `${text}\n`),
    now: io.now ?? Date.now,
    zone: (tz) => {
      const zone = tz ?? defaultZone;
      try {
        return checkZone(zone);
      } catch {
        throw new UsageError(
          `--tz ${JSON.stringify(zone)} is not an IANA time zone such as Europe/Paris`,
          'INVALID_ZONE',
        );
      }
    },
    path: (p) => resolve(cwd, p),
    demo: io.demo,
    exitCode: 0,
    setExitCode(code) {
      this.exitCode = code;
    },
  };
}
