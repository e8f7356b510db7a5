/**
 * The alarm package's events, added to the runtime's typed bus by declaration merging. Every
 * alarm event carries the alarm id; lateness is `firedAt - scheduledFor` in ms.
 */
export {};

declare module '@vigil/runtime' {
  interface VigilEvents {
    /** An alarm was committed (not emitted for an idempotent repeat of an existing key). */
    'alarm.set': { id: number; fireAt: number; target: string; key: string | null; at: number };
    /** The Timer was armed for the earliest pending alarm. */
    'alarm.armed': { id: number; fireAt: number; inMs: number; at: number };
    /** An alarm came due and its message is being delivered. */
    'alarm.fired': {
      id: number;
      /** Number of the occurrence in the series (1 for a one-shot alarm). */
      occurrence: number;
      target: string;
      attempt: number;
      scheduledFor: number;
      lateMs: number;
      at: number;
      /** The `trace` option of the set (W3C traceparent), when it had one. */
      trace?: string;
    };
    /** The target accepted and processed the message; the alarm is marked fired. */
    'alarm.delivered': {
      id: number;
      occurrence: number;
      target: string;
      attempt: number;
      lateMs: number;
      at: number;
      /** The `trace` option of the set (W3C traceparent), when it had one. */
      trace?: string;
    };
    /** Delivery failed for a reason that may pass; the alarm fires again at `nextAt`. */
    'alarm.retried': {
      id: number;
      target: string;
      attempt: number;
      nextAt: number;
      reason: string;
      at: number;
    };
    /** The alarm will not be delivered: undecodable, target gone, attempts exhausted, refused. */
    'alarm.failed': { id: number; target: string; reason: string; at: number };
    /** The misfire policy skipped an alarm that came due too long ago. */
    'alarm.missed': { id: number; target: string; lateMs: number; at: number };
    /**
     * The alarm (the whole series) was cancelled: at once if nothing was in flight, else when the
     * outcome of the delivery in flight was committed (see `Alarm.cancelRequestedAt`).
     */
    'alarm.cancelled': { id: number; at: number };
    /**
     * The store refused to record an outcome of this node: the alarm was no longer this node's to
     * settle (another node reclaimed it after this node's lease ran out, or it was already final),
     * so the record that stands is another's. Emitted instead of the outcome's own event
     * (`alarm.delivered`, `alarm.failed`, ...), which would claim a record that does not exist.
     * `outcome` is what this node would have recorded; a `fired` one was delivered here all the
     * same (at least once: the other holder delivers it too).
     */
    'alarm.superseded': {
      id: number;
      outcome: 'fired' | 'failed' | 'missed' | 'retry' | 'cancelled';
      /** The target, when the outcome was of a delivery. */
      target?: string;
      at: number;
    };
    /** The Timer woke before the instant it planned (the wall clock went back, or a timer ran early). */
    'timer.premature': { aheadMs: number; at: number };
    /** The Timer woke well after the instant it planned (host suspend, blocked loop, clock jump forward). */
    'timer.overdue': { lateMs: number; at: number };
  }
}
