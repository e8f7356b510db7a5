/**
 * `serveStdio`: one session of one user over the process's stdin/stdout. Resolves when the
 * client closes stdin (or `SIGTERM`/`SIGINT`), after the server has stopped. Nothing else may write
 * to stdout: it carries the protocol.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer, type McpServerOptions } from './server.js';

/** Serves `user` over stdio until the client goes away. */
export async function serveStdio(options: McpServerOptions & { user: string }): Promise<void> {
  const server = await createMcpServer(options);
  try {
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      process.stdin.once('end', resolve);
      process.stdin.once('close', resolve);
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await server.connect(options.user, transport);
    await closed;
  } finally {
    await server.close();
  }
}
