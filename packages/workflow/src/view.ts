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
  return {
    id: run.id,
    workflow: run.workflow,
    kind: run.kind,
    version: run.version ?? 1,
    status: run.status,
    step: run.step,
    seq: run.seq,
    attempt: run.attempt,
    nextAt: run.nextAt,
    context: run.context,
    waiting: run.waiting,
    result: run.result,
    error: run.error,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    endedAt: run.endedAt,
    history,
  };
}
