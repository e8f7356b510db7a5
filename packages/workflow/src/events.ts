/**
 * The Scheduler's events, added to the runtime's typed bus by declaration merging. Each is
 * emitted after the change it reports is committed.
 */
export {};

declare module '@vigil/runtime' {
  interface VigilEvents {
    /** A run was created (not emitted when `start` found the run id already taken). */
    'workflow.started': { runId: string; workflow: string; at: number };
    /**
     * A step ran (or a machine took an event) and its outcome is committed: 'next', 'repeat',
     * 'wait', 'end', 'fail', 'retry', 'error', 'signal', 'timeout', 'event'.
     */
    'workflow.stepped': {
      runId: string;
      workflow: string;
      step: string;
      seq: number;
      attempt: number;
      outcome: string;
      at: number;
    };
    /** A run reached an end status: completed, failed or cancelled. */
    'workflow.ended': {
      runId: string;
      workflow: string;
      status: 'completed' | 'failed' | 'cancelled';
      error: string | null;
      at: number;
    };
  }
}
