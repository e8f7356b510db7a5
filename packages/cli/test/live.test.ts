/**
 * A `set` or `cancel` from the CLI while a runtime holds the same database is picked up by that
 * runtime within a second: SQLite allows a second writer in WAL mode, and the Alarm polls
 * `PRAGMA data_version`. This test uses the real clock on purpose: it is about two connections
 * and real polling, end to end.
 */
import { join } from 'node:path';
import { AlarmClient, alarmSupervisor } from '@vigil/alarm';
import { createRuntime, type Runtime, reply, worker } from '@vigil/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { run } from '../src/program.js';
import { tempDir } from './helpers.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

async function cli(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await run(argv, {
    now: () => Date.now(),
    zone: 'UTC',
    stdout: (t) => {
      stdout += t;
    },
    stderr: () => {},
  });
  return { code, stdout };
}

async function startRuntime(db: string) {
  const deliveries: { id: number; at: number }[] = [];
  const sink = createMachine({
    on: {
      '*': {
        actions: ({ event }) => {
          deliveries.push({
            id: (event as unknown as { alarm: { alarmId: number } }).alarm.alarmId,
            at: Date.now(),
          });
          reply(event);
        },
      },
    },
  });
  runtime = createRuntime();
  await runtime.start([alarmSupervisor({ db }), worker('Sink', sink)]);
  return { runtime, deliveries };
}

describe('the CLI and a running runtime share one database', () => {
  it('a CLI set for now is delivered by the running runtime within 1 s', async () => {
    const db = join(tempDir(), 'live.db');
    const { deliveries } = await startRuntime(db);
    const at = new Date(Date.now() + 100).toISOString();
    const setAt = Date.now();
    const { code, stdout } = await cli([
      'alarms',
      'set',
      at,
      '--target',
      'Sink',
      '--message',
      '{"type":"hi"}',
      '--db',
      db,
      '--json',
    ]);
    expect(code, stdout).toBe(0);
    const id = (JSON.parse(stdout) as { alarm: { id: number } }).alarm.id;
    while (!deliveries.some((d) => d.id === id) && Date.now() - setAt < 3000)
      await new Promise((r) => setTimeout(r, 20));
    const delivered = deliveries.find((d) => d.id === id);
    expect(delivered).toBeDefined();
    expect(delivered!.at - Date.parse(at)).toBeLessThan(1000);
    expect(delivered!.at).toBeGreaterThanOrEqual(Date.parse(at));
  });

  it('a CLI cancel stops an alarm the running runtime had armed', async () => {
    const db = join(tempDir(), 'cancel.db');
    const { runtime: rt, deliveries } = await startRuntime(db);
    const alarm = await new AlarmClient(rt).set(Date.now() + 1500, 'Sink', { type: 'hi' });
    const { code } = await cli(['alarms', 'cancel', String(alarm.id), '--db', db]);
    expect(code).toBe(0);
    await new Promise((r) => setTimeout(r, 2000));
    expect(deliveries.some((d) => d.id === alarm.id)).toBe(false);
    expect((await new AlarmClient(rt).get(alarm.id))?.status).toBe('cancelled');
  });
});
