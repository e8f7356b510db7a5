/**
 * `@vigil/mcp`: the MCP server for AI agents. Tools for alarms, workflows and the inbox over
 * stdio or Streamable HTTP; one database and one supervised subtree per user; policies, quotas,
 * audit; bearer tokens stored as scrypt hashes.
 */
export {
  ForbiddenError,
  InvalidInputError,
  InvalidUserError,
  McpConfigError,
  NotFoundError,
  QuotaExceededError,
} from './errors.js';
export type { HttpEndpoint, HttpOptions } from './http.js';
export { serveHttp } from './http.js';
export type { Policy, Principal, UserConfig } from './principal.js';
export { checkUserId, DEFAULT_POLICY, principalOf } from './principal.js';
export type { McpServerOptions, McpSession, VigilMcpServer } from './server.js';
export { createMcpServer } from './server.js';
export { ERROR_META, INBOX_URI } from './session.js';
export { serveStdio } from './stdio.js';
export { addToken, listTokens, revokeToken } from './tokens.js';
export type { AuditEntry, InboxItem } from './user-store.js';
export { MCP_SCHEMA_VERSION } from './user-store.js';
export { readUsersFile } from './users-file.js';
