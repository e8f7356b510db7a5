/**
 * The Vigil demo: an agent hand-off chain on durable alarms through a crash of the Alarm actor.
 * The program lives in @vigil/cli (packages/cli/src/demo/demo.ts) so that `vigil demo` runs it
 * from the installed package; this file runs the same program for `pnpm demo` / `npm run demo`.
 */
import { main } from '@vigil/cli/demo';
import { isMain, runAsProgram } from './lib/run.js';

export { type AlarmRecord, type DemoOptions, type DemoResult, main } from '@vigil/cli/demo';

if (isMain(import.meta.url)) runAsProgram(async () => (await main()).ok);
