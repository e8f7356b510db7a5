import type { Command } from 'commander';
import type { Context } from './context.js';
import { CliError } from './errors.js';

/** Adds the `workflows` command group to `program`. @internal */
export function registerWorkflows(program: Command, ctx: Context): void {
  const workflows = program.command('workflows').description('inspect workflow runs in a database');
  workflows
    .command('list')
    .requiredOption('--db <file>', 'database (SQLite)')
    .action(() => {
      void ctx;
      throw new CliError('NO_WORKFLOWS', 'no workflow runs table in this database');
    });
}
