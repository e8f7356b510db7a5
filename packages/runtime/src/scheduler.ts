/**
 * The drain loop. Actors with queued messages wait in a run queue; each turn gives every
 * runnable actor at most `budget` messages, then yields to the event loop with `setImmediate`
 * so timers and I/O run between turns: one flooding actor cannot starve the rest (the BEAM's
 * reductions, counted in messages).
 *
 * A turn is also bounded in time (`turnMs`, default 5 ms): an actor stops taking messages once
 * the turn has run that long, and the actors the turn did not reach go first in the next one. So
 * many quick messages cannot hold the event loop much past `turnMs`, whatever the budget; one
 * message that runs long still holds it for its whole length (only a thread can preempt that).
 */

/** What the scheduler needs from an actor. */
export interface Runnable {
  /** Set by the scheduler while the actor sits in the run queue. */
  scheduled: boolean;
  /**
   * Processes up to `budget` messages, stopping early once `performance.now()` passes
   * `deadline`; returns true when messages remain.
   */
  drain(budget: number, deadline: number): boolean;
}

export class Scheduler {
  private queue: Runnable[] = [];
  private turnPending = false;
  private readonly runTurn = () => this.turn();

  constructor(
    private readonly budget: number,
    private readonly turnMs = 5,
  ) {}

  /** Puts `actor` in the run queue for the next turn (once). */
  schedule(actor: Runnable): void {
    if (actor.scheduled) return;
    actor.scheduled = true;
    this.queue.push(actor);
    this.requestTurn();
  }

  private requestTurn(): void {
    if (this.turnPending) return;
    this.turnPending = true;
    // setImmediate, not a microtask: the receiver must never run on the sender's stack,
    // and a microtask loop would starve timers and I/O.
    setImmediate(this.runTurn);
  }

  private turn(): void {
    this.turnPending = false;
    const batch = this.queue;
    this.queue = [];
    const deadline = performance.now() + this.turnMs;
    for (let i = 0; i < batch.length; i++) {
      const actor = batch[i] as Runnable;
      if (i > 0 && performance.now() >= deadline) {
        // Out of time: the rest go first next turn, in their order, still scheduled.
        this.queue = batch.slice(i).concat(this.queue);
        this.requestTurn();
        return;
      }
      actor.scheduled = false;
      if (actor.drain(this.budget, deadline)) this.schedule(actor);
    }
  }
}
