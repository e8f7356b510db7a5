/**
 * What supervisors, monitors and the registry see of a running thing: a worker actor or a
 * supervisor. Both are "processes" in the OTP sense: they have a name, an incarnation, and an
 * exit reason once they are gone.
 */
import type { Clock } from './clock.js';
import { Exit, type ExitReason } from './exit.js';
import type { Shutdown } from './spec.js';

export interface Process {
  readonly name: string;
  readonly kind: 'worker' | 'supervisor';
  readonly incarnation: number;
  /** True from a successful start until exit. */
  readonly alive: boolean;
  /** Set once the process has exited. */
  readonly exitReason: ExitReason | undefined;
  /** Calls `listener` once with the exit reason; returns a function that cancels it. */
  onExit(listener: (reason: ExitReason) => void): () => void;
  /** Stops the process as its shutdown spec says; resolves with the reason it exited with. */
  shutdown(mode: Shutdown): Promise<ExitReason>;
  /** Stops the process now, without waiting for it, with `reason`. */
  kill(reason: ExitReason): void;
}

/**
 * Keeps exit listeners and calls each exactly once; a throwing listener is contained. A
 * listener added after the exit is called with the recorded reason, in a microtask (never on
 * the caller's stack, as for a live process).
 */
export class ExitListeners {
  private listeners: ((reason: ExitReason) => void)[] = [];
  private reason: ExitReason | undefined;

  add(listener: (reason: ExitReason) => void): () => void {
    const reason = this.reason;
    if (reason) {
      queueMicrotask(() => listener(reason));
      return () => {};
    }
    // The first listener (the supervisor's) gets an array of exactly one: push onto [] would
    // reserve room for 16, which is most of this object's cost in an idle actor.
    if (this.listeners.length === 0) this.listeners = [listener];
    else this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  fire(reason: ExitReason, onError: (err: unknown) => void): void {
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (err) {
        onError(err);
      }
    }
  }
}

/**
 * The graceful half of a shutdown, shared by workers and supervisors: `begin` asks the process
 * to stop; if it has not exited within `mode` ms it is killed. Resolves with its exit reason.
 */
export function exitWithin(
  process: Process,
  clock: Clock,
  mode: number | 'infinity',
  begin: () => void,
): Promise<ExitReason> {
  return new Promise((resolve) => {
    const timer = mode === 'infinity' ? undefined : clock.setTimeout(() => process.kill(Exit.killed), mode);
    process.onExit((reason) => {
      if (timer !== undefined) clock.clearTimeout(timer);
      resolve(reason);
    });
    begin();
  });
}
