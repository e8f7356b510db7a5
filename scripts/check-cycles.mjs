// `pnpm lint` runs this: it fails when source files import each other in a cycle (type-only
// imports count: a type cycle is the same coupling). Every package's src/ is checked, and the
// runnable programs (examples, bench, reliability).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const root = fileURLToPath(new URL('..', import.meta.url));

const dirs = [
  ...readdirSync(`${root}packages`).map((p) => `packages/${p}/src`),
  'examples/src',
  'bench/src',
  'reliability/src',
];

const result = await madge(
  dirs.map((dir) => `${root}${dir}`),
  {
    baseDir: root,
    fileExtensions: ['ts'],
    tsConfig: `${root}tsconfig.base.json`,
    excludeRegExp: [/node_modules/, /\.d\.ts$/],
  },
);
const cycles = result.circular();
if (cycles.length > 0) {
  console.error(`import cycles among source files (${cycles.length}):`);
  for (const cycle of cycles) console.error(`  ${[...cycle, cycle[0]].join(' -> ')}`);
  process.exit(1);
}
console.log(`no import cycle in ${dirs.join(', ')}`);
