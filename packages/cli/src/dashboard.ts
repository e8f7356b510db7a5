/**
 * `vigil dashboard --db FILE`: the web dashboard of a database file, without a runtime (alarms
 * and stats; no supervision tree, no live feed). The action token comes from the environment
 * (`VIGIL_DASHBOARD_TOKEN`), never from an argument, which other users could read in `ps`.
 * Runs until SIGINT or SIGTERM.
 */
import { databaseDashboard } from '@vigil/dashboard';
import type { Command } from 'commander';
import type { Context } from './context.js';
import { requireFile } from './db.js';
import { UsageError } from './errors.js';

/** Adds the `dashboard` command to `program`. @internal */
export function registerDashboard(program: Command, ctx: Context): void {
  program
    .command('dashboard')
    .description('serve the web dashboard of a database file (token: $VIGIL_DASHBOARD_TOKEN)')
    .requiredOption('--db <file>', 'the database file')
    .option('--port <n>', 'port to listen on', '4280')
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .action(async (o: { db: string; port: string; host: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) {
        throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(o.port)}`);
      }
      const file = ctx.path(o.db);
      requireFile(file);
      const token = process.env.VIGIL_DASHBOARD_TOKEN || undefined;
      const board = await databaseDashboard(file, { port, host: o.host, token });
      ctx.out(`dashboard of ${file} at ${board.url}${token ? '' : ' (read-only: no VIGIL_DASHBOARD_TOKEN)'}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await board.close();
    });
}
