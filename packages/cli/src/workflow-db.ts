/**
 * Read-only access to the Scheduler's workflow runs, through the `RunStore` interface: in the same
 * SQLite file as the alarms (tables `workflow_runs` and `workflow_history`), or, when `--db` is a
 * `postgres://` URL, in the PostgreSQL run store's tables. Opened for inspection: never created,
 * never migrated, refused when a newer Scheduler wrote them (PostgreSQL transactions are read-only).
 */

import { VigilError } from '@vigil/runtime';
import {
  type HistoryEntry,
  openSqliteRunStore,
  type RunRecord,
  type RunStatus,
  type RunStore,
} from '@vigil/workflow';
import { isPostgresUrl, requireFile } from './db.js';
import { CliError } from './errors.js';

/** Filter and page of `list`, in id order. */
export interface RunQuery {
  status?: string[];
  workflow?: string;
  afterId?: string;
  limit: number;
}

/** A read-only view of the workflow tables of an existing database (file or PostgreSQL). */
export class WorkflowReader {
  readonly #store: RunStore;

  private constructor(store: RunStore) {
    this.#store = store;
  }

  /**
   * Opens the runs at `where` (a file path or a postgres:// URL). Rejects with DB_NOT_FOUND,
   * NO_WORKFLOWS, STORE_SCHEMA_TOO_NEW, or STORE_* when the database is not readable.
   */
  static async open(where: string): Promise<WorkflowReader> {
    if (isPostgresUrl(where)) {
      // Loaded only for a URL: a command on a file starts no slower for the PostgreSQL driver.
      const { openPostgresRunStore } = await import('@vigil/postgres');
      try {
        return new WorkflowReader(
          await openPostgresRunStore({ connectionString: where, readonly: true, max: 1 }),
        );
      } catch (err) {
        throw storeError(err);
      }
    }
    requireFile(where);
    try {
      return new WorkflowReader(openSqliteRunStore(where, { readonly: true }));
    } catch (err) {
      throw storeError(err);
    }
  }

  /** Runs matching the query, by id. */
  list(q: RunQuery): Promise<RunRecord[]> {
    return query(() =>
      this.#store.list({
        status: q.status as RunStatus[] | undefined,
        workflow: q.workflow,
        afterId: q.afterId,
        limit: q.limit,
      }),
    );
  }

  /** One run, or undefined. */
  get(id: string): Promise<RunRecord | undefined> {
    return query(() => this.#store.get(id));
  }

  /** The history of a run, oldest first. */
  history(id: string): Promise<HistoryEntry[]> {
    return query(() => this.#store.history(id));
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

async function query<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeError(err);
  }
}

/** Any failure as a typed error: NO_WORKFLOWS, STORE_CORRUPT for a file that is not a database, ... */
function storeError(err: unknown): VigilError {
  if (err instanceof VigilError) {
    return err.code === 'NO_WORKFLOW_TABLES' ? new CliError('NO_WORKFLOWS', err.message) : err;
  }
  const code = (err as { code?: unknown })?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')))
    return new VigilError('STORE_CORRUPT', `workflow store read failed: ${detail}`, { cause: err });
  if (typeof code === 'string' && code.startsWith('SQLITE_BUSY'))
    return new VigilError('STORE_BUSY', `workflow store read failed: ${detail}`, { cause: err });
  return new VigilError('STORE_FAILED', `workflow store read failed: ${detail}`, { cause: err });
}
