/**
 * `vigil mcp`: the MCP server for agents (package @vigil/mcp). Over stdio for one user
 * (`--user`), or over Streamable HTTP with bearer tokens (`--http`); `vigil mcp token add|revoke`
 * manages the tokens (`<data>/tokens.json`, scrypt hashes). Serves no workflows: an application
 * that has workflows calls `createMcpServer({ workflows })` itself.
 */
import { addToken, createMcpServer, readUsersFile, revokeToken, serveHttp, serveStdio } from '@vigil/mcp';
import type { Command } from 'commander';
import type { Context } from './context.js';
import { CliError, UsageError } from './errors.js';

/** Adds the `mcp` command and its `token` subcommands to `program`. @internal */
export function registerMcp(program: Command, ctx: Context): void {
  const mcp = program
    .command('mcp')
    .description('serve the MCP tools to an agent: stdio for one --user, or --http with bearer tokens')
    .option('--data <dir>', "directory of the users' databases (<dir>/<user>.db)")
    .option('--user <id>', 'the user of a stdio session')
    .option('--http', 'serve Streamable HTTP on /mcp instead of stdio')
    .option('--port <n>', 'HTTP port (default 8787)', '8787')
    .option('--host <addr>', 'HTTP interface (default 127.0.0.1, loopback only)', '127.0.0.1')
    .action(async (o: { data?: string; user?: string; http?: boolean; port: string; host: string }) => {
      if (!o.data) throw new UsageError('give --data DIR');
      const data = ctx.path(o.data);
      const users = readUsersFile(data);
      if (!o.http) {
        if (!o.user) throw new UsageError('give --user ID for a stdio session, or --http');
        await serveStdio({ data, user: o.user, users });
        return;
      }
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${o.port} is not a port`);
      const server = await createMcpServer({ data, users });
      const http = await serveHttp(server, { data, port, host: o.host });
      ctx.err(`vigil mcp: listening on ${http.url}`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await http.close();
      await server.close();
    });
  const token = mcp.command('token').description('manage the bearer tokens of the HTTP transport');
  token
    .command('add')
    .description('create a token for a user; it is printed once and stored only as a hash')
    .option('--data <dir>', "directory of the users' databases")
    .option('--user <id>', 'the user the token authenticates')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { data?: string; user?: string };
      if (!o.data || !o.user) throw new UsageError('give --data DIR and --user ID');
      const { id, token: secret } = await addToken(ctx.path(o.data), o.user);
      ctx.out(secret);
      ctx.err(`vigil mcp: token ${id} added for ${o.user}; it is not shown again`);
    });
  token
    .command('revoke')
    .description('revoke a token by its id (or the token itself)')
    .option('--data <dir>', "directory of the users' databases")
    .argument('<id>', 'the token id printed by token add, or the token')
    .action((id: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { data?: string };
      if (!o.data) throw new UsageError('give --data DIR');
      if (!revokeToken(ctx.path(o.data), id))
        throw new CliError('NOT_FOUND', `no token ${JSON.stringify(id.slice(0, 12))}`);
      ctx.out(`revoked ${id.slice(0, 12)}`);
    });
}
