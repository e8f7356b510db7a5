/**
 * What a step's outcome means for its run: a pure function from (the run, the step's return
 * value or thrown error, the time) to the run's next state and the history lines that record it.
 * No I/O, no clock: the Scheduler commits what this returns, then sets the alarm it implies.
 *
 * - a thrown error is retried with the workflow's backoff until `maxAttempts`, then fails the run;
 * - `next`/`repeat` move the seq on with the time of the next step; `wait` waits for a signal
 *   (with a deadline if a timeout is given); `end` completes; `fail` fails;
 * - an outcome that is not one of those, or whose duration, instant, context or result cannot be
 *   stored, fails the run: retrying cannot fix the code that returned it.
 */
import { encodeMessage, parseDuration, parseWhen, retryDelay } from '@vigil/alarm';
import { coerceError } from '@vigil/runtime';
import type { HistoryEntry, RunRecord } from './store/types.js';
import {
  checkOutcome,
  type StepOutcome,
  type StepWorkflow,
  type Timing,
  type WorkflowContext,
} from './workflow.js';

/** What `decide` is given. */
export interface StepResult {
  workflow: StepWorkflow;
  /** The run as it was when the step started (status 'running'). */
  run: RunRecord;
  /** What the step returned (ignored when it threw). */
  outcome: unknown;
  /** What the step threw, if it threw. */
  thrown: Error | undefined;
  startedAt: number;
  now: number;
  /** IANA zone for an outcome's `at: 'tomorrow at 9am'`. */
  zone: string;
}

/** The run's next state and the history lines to commit with it. */
export interface Decision {
  run: RunRecord;
  entries: HistoryEntry[];
}

/** Turns a step's outcome (or thrown error) into the run's next state and history lines. */
export function decide({ workflow, run, outcome, thrown, startedAt, now, zone }: StepResult): Decision {
  const entries: HistoryEntry[] = [];
  const entry = (kind: string, detail: string | null): void => {
    entries.push({
      seq: run.seq,
      step: run.step,
      attempt: run.attempt,
      startedAt,
      endedAt: now,
      outcome: kind,
      detail,
    });
  };
  const failed = (reason: string): Decision => {
    entry(thrown ? 'error' : 'fail', reason);
    return {
      run: {
        ...run,
        status: 'failed',
        error: reason,
        nextAt: null,
        waiting: null,
        updatedAt: now,
        endedAt: now,
      },
      entries,
    };
  };
  if (thrown) {
    const { maxAttempts, backoff } = workflow.retry;
    if (run.attempt >= maxAttempts)
      return failed(`step '${run.step}' failed after ${run.attempt} attempt(s): ${thrown.message}`);
    entry('retry', thrown.message);
    return {
      run: {
        ...run,
        seq: run.seq + 1,
        attempt: run.attempt + 1,
        nextAt: now + retryDelay(backoff, run.attempt),
        alarmId: null,
        updatedAt: now,
      },
      entries,
    };
  }
  const problem = checkOutcome(workflow, outcome);
  if (problem) return failed(`step '${run.step}' ${problem}`);
  const o = outcome as StepOutcome<WorkflowContext>;
  try {
    let context = run.context;
    if (o.kind !== 'fail' && o.context !== undefined) {
      encodeMessage(o.context);
      context = o.context;
    }
    const base = {
      ...run,
      context,
      seq: run.seq + 1,
      attempt: 1,
      alarmId: null,
      input: null,
      updatedAt: now,
    };
    switch (o.kind) {
      case 'next':
        entry('next', o.step);
        return { run: { ...base, step: o.step, nextAt: timing(o, now, zone) }, entries };
      case 'repeat':
        entry('repeat', run.step);
        return { run: { ...base, nextAt: timing(o, now, zone) }, entries };
      case 'wait': {
        const deadline = o.timeout === undefined ? null : now + parseDuration(o.timeout);
        entry('wait', o.signal);
        return {
          run: {
            ...base,
            status: 'waiting',
            step: o.onTimeout ?? o.onSignal,
            nextAt: deadline,
            waiting: { signal: o.signal, onSignal: o.onSignal, deadline, onTimeout: o.onTimeout ?? null },
          },
          entries,
        };
      }
      case 'end':
        entry('end', o.result === undefined ? null : JSON.stringify(o.result));
        encodeMessage({ result: o.result ?? null });
        return {
          run: {
            ...base,
            seq: run.seq,
            status: 'completed',
            result: o.result ?? null,
            nextAt: null,
            endedAt: now,
          },
          entries,
        };
      case 'fail':
        return failed(o.reason);
    }
  } catch (err) {
    // A bad duration or instant, or a context or result that is not JSON: drop the line written
    // for the outcome before the check that refused it.
    entries.length = 0;
    return failed(`step '${run.step}' returned an invalid outcome: ${coerceError(err).message}`);
  }
}

/** When the next step runs: after a duration, at an instant, or now. */
function timing(t: Timing, now: number, zone: string): number {
  if (t.after !== undefined) return now + parseDuration(t.after);
  // An instant already past (e.g. 'today at 9am' computed at 10am) runs the step at once.
  if (t.at !== undefined) return Math.max(now, parseWhen(t.at, { now, zone, allowPast: true }).at);
  return now;
}
