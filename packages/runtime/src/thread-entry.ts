/**
 * How to start a worker thread whose code sits beside the caller's module, from compiled
 * JavaScript or from the TypeScript sources (vitest, tsx scripts), for the runtime's isolated
 * actors and the alarm store thread alike.
 *
 * Compiled, `<name>.js` runs as it is. From sources the thread needs the tsx loader:
 * `execArgv: ['--import', 'tsx']` does not apply to a worker's own entry on Node 20 (it fails
 * with "Unknown file extension .ts"), so a two-line bootstrap registers tsx's ESM hooks in the
 * thread, then imports `<name>.ts`; the same hooks load whatever that module imports. tsx is
 * resolved from the caller's package, not from the process's working directory.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VigilError } from './errors.js';

/**
 * The entry of a worker thread running `<name>.js` (or, from sources, `<name>.ts`) beside
 * `callerUrl` (the caller's `import.meta.url`): pass `entry` and `eval` to `new Worker`. Throws a
 * `VigilError` (`THREAD_ENTRY`) when running from sources without tsx installed.
 *
 * @example
 * const { entry, eval: isCode } = threadEntry(import.meta.url, 'my-thread');
 * const thread = new Worker(entry, { eval: isCode });
 */
export function threadEntry(callerUrl: string, name: string): { entry: URL | string; eval: boolean } {
  if (!callerUrl.endsWith('.ts')) return { entry: new URL(`./${name}.js`, callerUrl), eval: false };
  let api: string;
  try {
    const pkgFile = createRequire(fileURLToPath(callerUrl)).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
      exports: Record<string, { import: { default: string } }>;
    };
    api = pathToFileURL(join(dirname(pkgFile), pkg.exports['./esm/api']!.import.default)).href;
  } catch (err) {
    throw new VigilError(
      'THREAD_ENTRY',
      "a worker thread started from TypeScript sources needs 'tsx' (or run the compiled JavaScript)",
      { cause: err },
    );
  }
  const thread = new URL(`./${name}.ts`, callerUrl).href;
  // A failure here is an unhandled rejection in the thread: it ends the thread, whose owner
  // reports the reason.
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(thread)}); });`;
  return { entry: code, eval: true };
}
