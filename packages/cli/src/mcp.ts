/**
 * `vigil mcp`: the MCP server for agents (package @vigil/mcp). Over stdio for one user
 * (`--user`), or over Streamable HTTP with bearer tokens (`--http`). Serves no workflows: an
 * application that has workflows calls `createMcpServer({ workflows })` itself.
 */
import { readUsersFile, serveStdio } from '@vigil/mcp';
import type { Command } from 'commander';
import type { Context } from './context.js';
import { UsageError } from './errors.js';

/** Adds the `mcp` command to `program`. @internal */
export function registerMcp(program: Command, ctx: Context): void {
  program
    .command('mcp')
    .description('serve the MCP tools to an agent: stdio for one --user, or --http with bearer tokens')
    .requiredOption('--data <dir>', "directory of the users' databases (<dir>/<user>.db)")
    .option('--user <id>', 'the user of a stdio session')
    .action(async (o: { data: string; user?: string }) => {
      const data = ctx.path(o.data);
      if (!o.user) throw new UsageError('give --user ID for a stdio session');
      await serveStdio({ data, user: o.user, users: readUsersFile(data) });
    });
}
