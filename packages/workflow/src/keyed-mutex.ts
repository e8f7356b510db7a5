/**
 * A mutex per key: work on one key runs one piece at a time, in call order; work on different
 * keys runs concurrently. The Scheduler keys it by run id, so a duplicate delivery that arrives
 * while the first still runs waits, then finds the run's seq moved on.
 *
 * Invariants: a piece of work starts only after every earlier piece on its key has settled
 * (resolved or rejected: one failure does not wedge the key); a key with nothing queued holds no
 * memory.
 *
 * Process-local by design: the SQLite run store's `withRun` is built on it, since one process
 * writes that file. A store shared by several processes excludes in the database instead, and
 * may queue its own calls on this first (call order within the process).
 */
/**
 * A mutex per key, in process: work on one key runs one piece at a time, in call order. Exported
 * for `RunStore` implementations (their `withRun` within one process).
 *
 * @example
 * const runs = new KeyedMutex();
 * await runs.run('run-1', async () => save(await load('run-1')));
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier piece of work on `key` has settled; resolves with its result. */
  run<T>(key: string, work: () => T | Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Number of keys with work queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}
