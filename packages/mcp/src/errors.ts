/**
 * Errors of the MCP server. Each is a `VigilError` with a stable `code`; a tool answers one as an
 * MCP tool error (`isError: true`) whose structured content is `{ code, message }`, never a stack.
 */
import { VigilError } from '@vigil/runtime';

/** A user id that is not /^[a-z0-9][a-z0-9_-]{0,63}$/i (path tricks, NUL bytes, huge strings). */
export class InvalidUserError extends VigilError {
  constructor(value: unknown) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
    super('INVALID_USER', `invalid user id ${shown}: use 1 to 64 letters, digits, '_' or '-'`);
  }
}

/** Arguments that do not match the tool's input schema. */
export class InvalidInputError extends VigilError {
  constructor(tool: string, detail: string) {
    super('INVALID_INPUT', `invalid arguments for ${tool}: ${detail}`);
  }
}

/** The user's policy does not allow this (a target, a workflow). Nothing was changed. */
export class ForbiddenError extends VigilError {
  constructor(detail: string) {
    super('FORBIDDEN', detail);
  }
}

/** A quota of the user's policy would be exceeded. Nothing was changed. */
export class QuotaExceededError extends VigilError {
  constructor(
    readonly quota: 'maxPendingAlarms' | 'maxSetsPerMinute' | 'maxMessageBytes',
    detail: string,
  ) {
    super('QUOTA_EXCEEDED', `${quota}: ${detail}`);
  }
}

/**
 * No alarm or run with this id for this user. Ids of other users' data get exactly this error,
 * so no answer tells whether an id exists elsewhere.
 */
export class NotFoundError extends VigilError {
  constructor(kind: 'alarm' | 'run', id: string | number) {
    super('NOT_FOUND', `no ${kind} ${JSON.stringify(id)}`);
  }
}

/** A token file or server option that cannot be used. */
export class McpConfigError extends VigilError {
  constructor(detail: string) {
    super('INVALID_OPTION', detail);
  }
}
