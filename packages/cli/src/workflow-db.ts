/**
 * Read-only access to the Scheduler's workflow runs (tables `workflow_runs` and `workflow_history`
 * in the same database file as the alarms), through the `RunStore` interface, opened on the SQLite
 * store for inspection: never created, never migrated, and refused when a newer Scheduler wrote it.
 */

import { VigilError } from '@vigil/runtime';
import {
  type HistoryEntry,
  openSqliteRunStore,
  type RunRecord,
  type RunStatus,
  type RunStore,
} from '@vigil/workflow';
import { requireFile } from './db.js';
import { CliError } from './errors.js';

/** Filter and page of `list`, in id order. */
export interface RunQuery {
  status?: string[];
  workflow?: string;
  afterId?: string;
  limit: number;
}

/** A read-only view of the workflow tables of an existing database file. */
export class WorkflowReader {
  readonly #store: RunStore;

  /** Throws DB_NOT_FOUND, NO_WORKFLOWS, STORE_SCHEMA_TOO_NEW, or STORE_* when the file is not readable. */
  constructor(path: string) {
    requireFile(path);
    try {
      this.#store = openSqliteRunStore(path, { readonly: true });
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
