/**
 * The store thread's entry (see `worker.ts`): opens the SQLite store with the options it was
 * given and serves requests, one at a time, in the order they arrive.
 *
 * Every failure goes back as data (class name, code, message, fields, cause) for the main thread
 * to rebuild as the same typed error; an error that is not already typed is mapped exactly as the
 * SQLite store maps a driver error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SchemaTooNewError, StoreError } from '../errors.js';
import { openSqliteStore, toStoreError } from './sqlite.js';
import type { AlarmStore } from './types.js';
import type { SerializedError, StoreRequest, StoreResponse, StoreThreadData } from './worker.js';

const port = parentPort;
if (!port) throw new Error('worker-thread.ts is the entry of a worker thread, not a module to import');

const { path, options } = workerData as StoreThreadData;

// The main thread has just opened and migrated this database, so this open is expected to
// succeed. If it fails anyway (the file was replaced in between), every request is answered with
// the open error: the Alarm actor crashes on the first one and its supervisor restarts it.
let store: AlarmStore | undefined;
let openError: unknown;
try {
  store = openSqliteStore(path, options);
} catch (err) {
  openError = err;
}

/** Methods a request may name: the store's own, nothing inherited. */
const METHODS = new Set<string>([
  'insert',
  'get',
  'list',
  'cancel',
  'history',
  'nextPending',
  'due',
  'upcoming',
  'complete',
  'stats',
  'changeToken',
  'close',
]);

// One chain: a request starts only after the previous one finished, so the answers keep the
// order of the requests even if a method ever awaits in the middle.
let queue: Promise<void> = Promise.resolve();

port.on('message', (request: StoreRequest) => {
  queue = queue.then(() => serve(request));
});

async function serve({ id, method, args }: StoreRequest): Promise<void> {
  let response: StoreResponse;
  try {
    if (openError !== undefined) throw openError;
    if (!METHODS.has(method)) throw new StoreError('STORE_FAILED', String(method), 'no such store method');
    const fn = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!;
    response = { id, ok: true, value: await fn.apply(store, args) };
  } catch (err) {
    const typed = err instanceof SchemaTooNewError ? err : toStoreError(err, method);
    response = { id, ok: false, error: serialize(typed) };
  }
  port!.postMessage(response);
}

function serialize(err: unknown): SerializedError {
  if (!(err instanceof Error)) {
    return {
      name: 'Error',
      code: undefined,
      message: String(err),
      stack: undefined,
      fields: {},
      cause: undefined,
    };
  }
  const fields: Record<string, unknown> = {};
  if (err instanceof StoreError) fields.operation = err.operation;
  if (err instanceof SchemaTooNewError)
    Object.assign(fields, { path: err.path, found: err.found, supported: err.supported });
  const code = (err as { code?: unknown }).code;
  return {
    name:
      err instanceof StoreError
        ? 'StoreError'
        : err instanceof SchemaTooNewError
          ? 'SchemaTooNewError'
          : err.name,
    code: typeof code === 'string' ? code : undefined,
    message: err.message,
    stack: err.stack,
    fields,
    cause: err.cause === undefined ? undefined : serialize(err.cause),
  };
}
