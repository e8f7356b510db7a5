/**
 * The drain loop. Actors with queued messages wait in a run queue; each turn gives every
 * runnable actor at most `budget` messages, then yields to the event loop with `setImmediate`
 * so timers and I/O run between turns: one flooding actor cannot starve the rest (the BEAM's
 * reductions, counted in messages).
 */

/** What the scheduler needs from an actor. */
export interface Runnable {
  /** Set by the scheduler while the actor sits in the run queue. */
  scheduled: boolean;
  /** Processes up to `budget` messages; returns true when messages remain. */
  drain(budget: number): boolean;
}

export class Scheduler {
  private queue: Runnable[] = [];
  private turnPending = false;
  private readonly runTurn = () => this.turn();

  constructor(private readonly budget: number) {}

  /** Puts `actor` in the run queue for the next turn (once). */
  schedule(actor: Runnable): void {
    if (actor.scheduled) return;
    actor.scheduled = true;
    this.queue.push(actor);
    if (!this.turnPending) {
      this.turnPending = true;
      // setImmediate, not a microtask: the receiver must never run on the sender's stack,
      // and a microtask loop would starve timers and I/O.
      setImmediate(this.runTurn);
    }
  }

  private turn(): void {
    this.turnPending = false;
    const batch = this.queue;
    this.queue = [];
    for (const actor of batch) {
      actor.scheduled = false;
      if (actor.drain(this.budget)) this.schedule(actor);
    }
  }
}
