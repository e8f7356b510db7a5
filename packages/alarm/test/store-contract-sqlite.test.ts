import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../src/store/sqlite.js';
import { storeContract } from './store-contract.js';

let dir: string | undefined;

storeContract('SQLite', {
  async open() {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-contract-'));
    return openSqliteStore(path.join(dir, 'alarms.db'));
  },
  async openOther() {
    return openSqliteStore(path.join(dir!, 'alarms.db'));
  },
  cleanup() {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
});
