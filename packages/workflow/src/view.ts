/**
 * What the WorkflowClient sees of a run: the stored record without its internals (alarm id,
 * snapshot, timers, input), with its history when asked for one run.
 */
import type { HistoryEntry, RunRecord } from './store/types.js';

/** A run as the client sees it: the stored run with its history. */
export interface WorkflowRun {
  id: string;
  workflow: string;
  kind: 'steps' | 'machine';
  /** Version of the workflow definition the run runs (moved up when a migration moves it). */
  version: number;
  status: RunRecord['status'];
  /** The step to run next (or running now); for a machine, its state value as JSON. */
  step: string;
  seq: number;
  attempt: number;
  /** When the next step runs (null when waiting without deadline, or ended). */
  nextAt: number | null;
  context: Record<string, unknown>;
  /** What a waiting run waits for. */
  waiting: RunRecord['waiting'];
  result: unknown;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
  history: HistoryEntry[];
}

/** @internal The client's view of `run`; `history` is empty in lists. */
export function toView(run: RunRecord, history: HistoryEntry[]): WorkflowRun {
  // What the client does not see: the alarm of the current step, the signal handed to the next
  // step, and a machine's snapshot and timers.
  const { alarmId: _alarmId, input: _input, snapshot: _snapshot, timers: _timers, ...seen } = run;
  return { ...seen, version: run.version ?? 1, history };
}
