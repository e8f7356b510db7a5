/**
 * `<data>/users.json`: the configured users (zone and policy), read by `vigil mcp`. Optional; a
 * user not listed is served with `DEFAULT_POLICY` in UTC.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpConfigError } from './errors.js';
import { principalOf, type UserConfig } from './principal.js';

/** Reads and checks `<data>/users.json` (`[{ "id", "zone"?, "policy"? }]`); [] if absent. */
export function readUsersFile(data: string): UserConfig[] {
  const path = join(data, 'users.json');
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new McpConfigError(`${path} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new McpConfigError(`${path} must hold an array of users`);
  for (const u of parsed) principalOf(u as UserConfig); // throws on a bad id or zone
  return parsed as UserConfig[];
}
