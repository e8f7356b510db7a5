/** Where the demo writes, and the throw-away database it runs on. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where output goes: the console by default, a line collector in tests. */
export type Print = (line?: string) => void;

/** Writes one line to stdout. */
export const consolePrint: Print = (line = '') => {
  process.stdout.write(`${line}\n`);
};

/** A database file in a fresh temp directory; `cleanup` removes the directory. */
export function tempDatabase(prefix: string): { file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vigil-${prefix}-`));
  return {
    file: path.join(dir, 'vigil.db'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
