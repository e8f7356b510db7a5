import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../src/keyed-mutex.js';

/** A promise with its resolve and reject, to hold a piece of work open. */
function gate<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('KeyedMutex', () => {
  it('runs work on one key one at a time, in call order', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const first = gate();
    const a = mutex.run('run-1', async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
      return 'a';
    });
    const b = mutex.run('run-1', () => {
      log.push('b');
      return 'b';
    });
    // Every pending promise continuation runs before a macrotask: b had every chance to start.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log).toEqual(['a start']);
    first.resolve();
    expect(await a).toBe('a');
    expect(await b).toBe('b');
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  it('runs work on different keys concurrently', async () => {
    const mutex = new KeyedMutex();
    const held = gate();
    const slow = mutex.run('run-1', () => held.promise);
    // run-2 completes while run-1 is still held.
    expect(await mutex.run('run-2', () => 'other')).toBe('other');
    held.resolve();
    await slow;
  });

  it('a rejected piece of work does not wedge its key', async () => {
    const mutex = new KeyedMutex();
    const failing = mutex.run('run-1', () => {
      throw new Error('boom');
    });
    const after = mutex.run('run-1', () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    expect(await after).toBe('ran');
  });

  it('holds no memory for a key with nothing queued', async () => {
    const mutex = new KeyedMutex();
    const held = gate();
    const work = mutex.run('run-1', () => held.promise);
    expect(mutex.size).toBe(1);
    held.resolve();
    await work;
    // The key is released in the continuation after the tail settles.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(mutex.size).toBe(0);
  });
});
