/**
 * The CLI's own errors and the exit-code rule. Exit 2 means the command line itself is wrong (an
 * unknown option, a missing argument, an option value of the wrong shape): nothing was attempted.
 * Exit 1 means the command was understood but refused or failed: the library rejected a value
 * (unparseable time, bad message, bad zone), the alarm does not exist, the database cannot be
 * read. Either way nothing was changed.
 */
import { VigilError } from '@vigil/runtime';

/** Exit status of a successful command. */
export const EXIT_OK = 0;
/** Exit status of a command that was understood but failed or was refused. */
export const EXIT_FAILURE = 1;
/** Exit status of a malformed command line. */
export const EXIT_USAGE = 2;

/** A malformed command line: an option value of the wrong shape, options that exclude each other. */
export class UsageError extends VigilError {
  /** `code` defaults to `USAGE`; a more precise one (`INVALID_ZONE`) may be given. */
  constructor(message: string, code = 'USAGE') {
    super(code, message);
  }
}

/** Codes of `CliError`. */
export type CliErrorCode = 'DB_NOT_FOUND' | 'NOT_FOUND' | 'NOT_PENDING' | 'NO_WORKFLOWS';

/** A command that was understood but cannot be carried out (missing database, unknown id, ...). */
export class CliError extends VigilError {
  declare readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * One line for stderr: `vigil: CODE: message`. Control characters (a newline inside a quoted
 * input, an escape sequence stored in a row) are escaped so the line stays one line and cannot
 * drive the terminal.
 */
export function errorLine(err: unknown): string {
  if (err instanceof VigilError) return `vigil: ${err.code}: ${oneLine(err.message)}`;
  const message = err instanceof Error ? err.message : String(err);
  return `vigil: ${oneLine(message)}`;
}

/** Exit status for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Escapes C0/C1 control characters as `\uXXXX`. @internal */
export function oneLine(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
