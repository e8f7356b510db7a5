/**
 * `@vigil/cli/demo`: the demo program `vigil demo` runs, and the terminal formatting it uses
 * (colours, tables, clock times), which the repository's examples share.
 */
export { type AlarmRecord, type DemoOptions, type DemoResult, main } from './demo.js';
export { consolePrint, type Print, tempDatabase } from './output.js';
export { bold, cyan, dim, green, plain, red, yellow } from './style.js';
export { type Column, formatTable } from './table.js';
export { clockTime, elapsed, localZone } from './time.js';
