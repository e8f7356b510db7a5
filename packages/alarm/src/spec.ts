/**
 * The alarm service as a piece of a supervision tree: a `rest_for_one` supervisor over the
 * Timer and then the Alarm. If the Timer dies, the Alarm restarts after it and re-arms the new
 * Timer from the store; if the Alarm dies, it alone restarts and reads everything back.
 */
import { type SupervisorSpec, supervisor, worker } from '@vigil/runtime';
import { alarmLogic } from './alarm.js';
import { type AlarmOptions, resolveOptions } from './options.js';
import { openSqliteStore } from './store/sqlite.js';
import { openWorkerStore } from './store/worker.js';
import { timerMachine } from './timer.js';

/**
 * Builds the alarm service's supervisor spec. Options are validated here, before anything runs.
 *
 * @example
 * await runtime.start([alarmSupervisor({ db: 'vigil.db' }), worker('Pushover', pushover)]);
 * // SQLite on a worker thread: commits (fsyncs) never delay the main thread's timers
 * alarmSupervisor({ db: 'vigil.db', storeThread: true });
 */
export function alarmSupervisor(options: AlarmOptions): SupervisorSpec {
  const resolved = resolveOptions(options, (path, synchronous, thread) =>
    thread ? openWorkerStore(path, { synchronous }) : openSqliteStore(path, { synchronous }),
  );
  return supervisor(
    resolved.supervisorName,
    [
      worker(resolved.timerName, timerMachine, {
        input: ({ runtime }: { runtime: import('@vigil/runtime').Runtime }) => ({
          alarmName: resolved.name,
          sliceMs: resolved.sliceMs,
          lateWakeMs: resolved.lateWakeMs,
          clock: runtime.clock,
          events: runtime.events,
        }),
      }),
      // A larger turn for the Alarm: a set costs microseconds, and every set handled in one turn
      // shares one commit (one fsync). 256 keeps a turn to a few milliseconds.
      worker(resolved.name, alarmLogic, {
        budget: 256,
        input: ({ runtime }: { runtime: import('@vigil/runtime').Runtime }) => ({
          runtime,
          options: resolved,
        }),
      }),
    ],
    { strategy: 'rest_for_one', maxRestarts: 5, withinMs: 10_000 },
  );
}
