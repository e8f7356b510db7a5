/**
 * Users: a principal is `{ id, zone, policy }`. The id names the user's database file
 * (`<data>/<id>.db`) and their actors (`Alarm:<id>`), so it is checked before any use: no path
 * separator, no dot, no NUL, at most 64 characters.
 */
import { checkZone } from '@vigil/alarm';
import { InvalidUserError } from './errors.js';

/** What a user may do. Every field has a default (see `DEFAULT_POLICY`). */
export interface Policy {
  /** Targets the user may address besides `Inbox` (their own inbox is always allowed). */
  targets: string[];
  /** Pending alarms at most (default 1000). */
  maxPendingAlarms: number;
  /** `alarm_set` calls per rolling minute at most (default 60). */
  maxSetsPerMinute: number;
  /** Largest `message`, in UTF-8 bytes (default 4096). */
  maxMessageBytes: number;
  /** Workflows the user may start, by name (default none). `['*']` allows every configured one. */
  workflows: string[];
}

/** A user of the MCP server. */
export interface Principal {
  id: string;
  /** IANA zone in which the user's natural-language times are read (default 'UTC'). */
  zone: string;
  policy: Policy;
}

/** The policy of a user for whom nothing is configured: only their own inbox, modest quotas. */
export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  targets: [],
  maxPendingAlarms: 1000,
  maxSetsPerMinute: 60,
  maxMessageBytes: 4096,
  workflows: [],
});

const USER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/** Returns `id` if it is a valid user id; throws `InvalidUserError` (code `INVALID_USER`) otherwise. */
export function checkUserId(id: unknown): string {
  if (typeof id !== 'string' || !USER_ID.test(id)) throw new InvalidUserError(id);
  return id;
}

/** A user as configured: every field but the id optional. */
export interface UserConfig {
  id: string;
  zone?: string;
  policy?: Partial<Policy>;
}

/** Builds a principal from its configuration, with defaults; checks the id and the zone. */
export function principalOf(config: UserConfig): Principal {
  const id = checkUserId(config.id);
  const zone = checkZone(config.zone ?? 'UTC');
  return { id, zone, policy: { ...DEFAULT_POLICY, ...(config.policy ?? {}) } };
}
