/**
 * Runs the CLI in-process at a fixed instant and zone, on databases in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlarmRow, type NewAlarm, openSqliteStore } from '@vigil/alarm';
import { afterEach } from 'vitest';
import { type CliIo, run } from '../src/program.js';

/** The instant tests run at: 2026-11-27 09:48 in Paris. */
export const NOW = Date.parse('2026-11-27T08:48:00.000Z');

/** Output of one CLI run. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `vigil ...argv` at `NOW` in UTC (unless `io` says otherwise). */
export async function vigil(argv: string[], io: Partial<CliIo> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    now: () => NOW,
    zone: 'UTC',
    ...io,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Creates a database at `path` holding `alarms` (each a partial NewAlarm over defaults). */
export async function seed(path: string, alarms: Partial<NewAlarm>[]): Promise<AlarmRow[]> {
  const store = openSqliteStore(path);
  try {
    const results = await store.insert(
      alarms.map((a) => ({
        fireAt: NOW + 60_000,
        target: 'Log',
        message: '{"text":"hi"}',
        createdAt: NOW,
        ...a,
      })),
    );
    return results.map((r) => r.row);
  } finally {
    await store.close();
  }
}

/** Every row of the database, for before/after comparisons. */
export async function snapshot(path: string): Promise<AlarmRow[]> {
  const store = openSqliteStore(path, { readonly: true });
  try {
    return await store.list({ limit: 1_000_000 });
  } finally {
    await store.close();
  }
}

/** Applies completions to rows, e.g. to mark one fired. */
export async function complete(
  path: string,
  fn: (store: ReturnType<typeof openSqliteStore>) => Promise<unknown>,
) {
  const store = openSqliteStore(path);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}
