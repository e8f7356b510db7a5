/**
 * How to start a pool thread. Compiled to JavaScript, `thread.js` sits beside this file and runs
 * as it is. From the TypeScript sources (vitest, tsx scripts) the thread needs the tsx loader:
 * `execArgv: ['--import', 'tsx']` does not apply to a worker's own entry on Node 20, so a
 * two-line bootstrap registers tsx's ESM hooks in the thread, then imports `thread.ts`. The same
 * hooks then load the actors' modules, TypeScript or not. (packages/alarm's store thread starts
 * the same way.)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidChildSpecError } from '../errors.js';

/** @internal */
export function threadEntry(): { entry: URL | string; eval: boolean } {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return { entry: new URL('./thread.js', self), eval: false };
  let api: string;
  try {
    const pkgFile = createRequire(fileURLToPath(self)).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
      exports: Record<string, { import: { default: string } }>;
    };
    api = pathToFileURL(join(dirname(pkgFile), pkg.exports['./esm/api']!.import.default)).href;
  } catch (err) {
    throw new InvalidChildSpecError(
      'isolated actor',
      'module',
      `running pool threads from TypeScript sources needs 'tsx' (or run the compiled JavaScript): ${String(err)}`,
    );
  }
  const thread = new URL('./thread.ts', self).href;
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(thread)}); });`;
  return { entry: code, eval: true };
}
