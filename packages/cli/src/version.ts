/**
 * The package's version, read from its package.json (one directory up from both src/ and dist/),
 * so `vigil --version` always says what is installed.
 */
import { readFileSync } from 'node:fs';

/** The version of @vigil/cli, e.g. `0.1.0`. */
export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
