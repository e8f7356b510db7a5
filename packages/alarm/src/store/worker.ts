/**
 * The SQLite store on a worker thread. better-sqlite3 is synchronous: with `synchronous=FULL`
 * every commit is an fsync inside a call on the main thread, and a timer that should fire during
 * it fires after it (the lateness tail). This store keeps the connection on a worker thread, so
 * the main thread only posts a request and later reads the answer; no fsync ever blocks it.
 *
 * The proxy is generic: each method forwards its name and arguments as they are, and the thread
 * calls the same method of an `openSqliteStore` store. A parameter added to the interface passes
 * through without a change here.
 *
 * Invariants:
 * - one connection, one thread, one queue: requests are answered in the order they were made;
 * - a write is acknowledged only after the thread answered, that is after its commit;
 * - every rejection is a `StoreError` (or `SchemaTooNewError` at open), rebuilt from the thread's.
 */
import { Worker } from 'node:worker_threads';
import { threadEntry } from '@vigil/runtime';
import { SchemaTooNewError, StoreError, type StoreErrorCode } from '../errors.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { AlarmStore } from './types.js';

/** A method of the store that the thread serves (the optional ones of shared stores are not). @internal */
export type StoreMethod = Exclude<keyof AlarmStore, 'subscribe' | 'clockSkewMs'>;

/** Main thread to store thread. @internal */
export interface StoreRequest {
  id: number;
  method: StoreMethod;
  args: unknown[];
}

/** An error as it crosses the thread boundary: its class by name, its code and its fields. @internal */
export interface SerializedError {
  name: string;
  code: string | undefined;
  message: string;
  stack: string | undefined;
  /** The constructor's own fields (`operation`; `path`, `found`, `supported`). */
  fields: Record<string, unknown>;
  cause: SerializedError | undefined;
}

/** Store thread to main thread. @internal */
export type StoreResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: SerializedError };

/** What the store thread is started with. @internal */
export interface StoreThreadData {
  path: string;
  options: SqliteStoreOptions;
}

/**
 * Opens a SQLite alarm store whose connection lives on a worker thread. Same arguments, same
 * behaviour and same errors as `openSqliteStore`; what changes is where the work runs.
 *
 * It opens the database once on the calling thread first (creating and migrating it, then closing
 * it), so a database that cannot be opened or is too new throws here, synchronously, like
 * `openSqliteStore`: the Alarm actor opens its store in its constructor and relies on that to
 * fail its start. The thread then opens its own connection to a database known to be good.
 *
 * @example
 * const store = openWorkerStore('./alarms.db');
 * await store.insert([{ fireAt: Date.now() + 60_000, target: 'Log', message: '{}', createdAt: Date.now() }]);
 * await store.close(); // closes the connection, then ends the thread
 */
export function openWorkerStore(path: string, options: SqliteStoreOptions = {}): AlarmStore {
  // ':memory:' is private to a connection: validating it here is pointless but harmless, and the
  // thread's own in-memory database is the only one the store ever uses.
  void openSqliteStore(path, options).close();
  return new WorkerAlarmStore(path, options);
}

const THREAD_GONE = 'the store thread is gone';

/** The thread behind a store from `openWorkerStore`, for tests that end it from outside. @internal */
export function storeThreadOf(store: AlarmStore): Worker | undefined {
  return store instanceof WorkerAlarmStore ? store.thread : undefined;
}

class WorkerAlarmStore implements AlarmStore {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { method: StoreMethod; resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;
  /** Set by `close()`: later calls reject with `STORE_CLOSED`. */
  #closing: Promise<void> | undefined;
  /** Set when the thread exits: why. Later calls reject with it. */
  #dead: string | undefined;

  constructor(path: string, options: SqliteStoreOptions) {
    const { entry, eval: isCode } = storeThreadEntry();
    this.#worker = new Worker(entry, {
      eval: isCode,
      workerData: { path, options } satisfies StoreThreadData,
    });
    // Referenced only while a request is waiting for its answer: an idle store, even one that is
    // never closed, does not keep the process alive (like a better-sqlite3 connection), while a
    // script that awaits a write is not ended before the write's answer arrives. Durability does
    // not depend on it: a write is acknowledged only once the thread answered.
    this.#worker.unref();
    this.#worker.on('message', (response: StoreResponse) => this.#settle(response));
    // 'error' (an uncaught exception in the thread) is always followed by 'exit'; the error is the
    // better reason, so keep it.
    this.#worker.on('error', (err) => {
      this.#dead ??= `${THREAD_GONE}: ${err.message}`;
    });
    this.#worker.on('exit', (code) => {
      this.#dead ??= `${THREAD_GONE} (exit code ${code})`;
      // Everything still waiting will never be answered. Whether a write committed is unknown,
      // exactly as after a crash: the caller was not acknowledged, so it must not assume it was.
      for (const [id, p] of this.#pending) {
        this.#pending.delete(id);
        p.reject(new StoreError(this.#closing ? 'STORE_CLOSED' : 'STORE_FAILED', p.method, this.#dead));
      }
    });
  }

  /** @internal */
  get thread(): Worker {
    return this.#worker;
  }

  insert(...args: Parameters<AlarmStore['insert']>): ReturnType<AlarmStore['insert']> {
    return this.#call('insert', args);
  }

  get(...args: Parameters<AlarmStore['get']>): ReturnType<AlarmStore['get']> {
    return this.#call('get', args);
  }

  list(...args: Parameters<AlarmStore['list']>): ReturnType<AlarmStore['list']> {
    return this.#call('list', args);
  }

  cancel(...args: Parameters<AlarmStore['cancel']>): ReturnType<AlarmStore['cancel']> {
    return this.#call('cancel', args);
  }

  history(...args: Parameters<AlarmStore['history']>): ReturnType<AlarmStore['history']> {
    return this.#call('history', args);
  }

  nextPending(...args: Parameters<AlarmStore['nextPending']>): ReturnType<AlarmStore['nextPending']> {
    return this.#call('nextPending', args);
  }

  due(...args: Parameters<AlarmStore['due']>): ReturnType<AlarmStore['due']> {
    return this.#call('due', args);
  }

  complete(...args: Parameters<AlarmStore['complete']>): ReturnType<AlarmStore['complete']> {
    return this.#call('complete', args);
  }

  stats(...args: Parameters<AlarmStore['stats']>): ReturnType<AlarmStore['stats']> {
    return this.#call('stats', args);
  }

  changeToken(...args: Parameters<AlarmStore['changeToken']>): ReturnType<AlarmStore['changeToken']> {
    return this.#call('changeToken', args);
  }

  /**
   * Idempotent (one memoized promise) and ordered: the close request queues behind every request
   * already made, so those are answered first; then the connection closes, then the thread ends.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#dead === undefined) {
        try {
          await this.#send('close', []);
        } catch {
          // The thread died meanwhile: its connection is gone with it.
        }
      }
      await this.#worker.terminate();
    })();
    return this.#closing;
  }

  #call<M extends StoreMethod>(method: M, args: unknown[]): ReturnType<AlarmStore[M]> {
    if (this.#closing) {
      return Promise.reject(new StoreError('STORE_CLOSED', method, 'the store is closed')) as ReturnType<
        AlarmStore[M]
      >;
    }
    return this.#send(method, args) as ReturnType<AlarmStore[M]>;
  }

  #send(method: StoreMethod, args: unknown[]): Promise<unknown> {
    if (this.#dead !== undefined) return Promise.reject(new StoreError('STORE_FAILED', method, this.#dead));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      try {
        this.#worker.postMessage({ id, method, args } satisfies StoreRequest);
      } catch (err) {
        // Not structured-cloneable (a function, a symbol): the SQLite store would refuse such a
        // row as invalid, and here too nothing was sent, so nothing was stored.
        const code: StoreErrorCode =
          method === 'insert' || method === 'complete' ? 'STORE_INVALID_ROW' : 'STORE_FAILED';
        reject(
          new StoreError(
            code,
            method,
            `arguments cannot be sent to the store thread: ${(err as Error).message}`,
            {
              cause: err,
            },
          ),
        );
        return;
      }
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { method, resolve, reject });
    });
  }

  #settle(response: StoreResponse): void {
    const p = this.#pending.get(response.id);
    if (!p) return;
    this.#pending.delete(response.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (response.ok) p.resolve(response.value);
    else p.reject(rebuildError(response.error, p.method));
  }
}

/**
 * How to start the thread: `worker-thread.js` beside this file, or from the TypeScript sources
 * `worker-thread.ts` through tsx's hooks (`threadEntry` of @vigil/runtime says why).
 */
function storeThreadEntry(): { entry: URL | string; eval: boolean } {
  try {
    return threadEntry(import.meta.url, 'worker-thread');
  } catch (err) {
    throw new StoreError('STORE_FAILED', 'open', (err as Error).message, { cause: err });
  }
}

/** Rebuilds an error from the thread as an instance of its class, with its code and fields. @internal */
export function rebuildError(e: SerializedError, method: string): Error {
  const cause = e.cause ? rebuildCause(e.cause) : undefined;
  let err: Error;
  if (e.name === 'SchemaTooNewError') {
    err = new SchemaTooNewError(String(e.fields.path), Number(e.fields.found), Number(e.fields.supported));
  } else if (e.name === 'StoreError') {
    const operation = typeof e.fields.operation === 'string' ? e.fields.operation : method;
    // The constructor builds the message from the operation and a detail: recover the detail, so
    // the rebuilt message is the thread's, word for word.
    const prefix = `alarm store ${operation} failed: `;
    const detail = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    err = new StoreError((e.code ?? 'STORE_FAILED') as StoreErrorCode, operation, detail, { cause });
  } else {
    // The thread maps every failure to a StoreError; this is a last resort, still typed.
    err = new StoreError('STORE_FAILED', method, e.message, { cause: cause ?? rebuildCause(e) });
  }
  if (e.stack) err.stack = `${err.stack}\n    --- in the store thread ---\n${e.stack}`;
  return err;
}

/** A driver error (a SqliteError with its `code`) as a plain Error with the same name, message and code. */
function rebuildCause(e: SerializedError): Error {
  const err = new Error(e.message, e.cause ? { cause: rebuildCause(e.cause) } : undefined);
  err.name = e.name;
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  if (e.stack) err.stack = e.stack;
  return err;
}
