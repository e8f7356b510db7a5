/**
 * Messages between the torture parent and the child process, over Node's IPC channel (JSON).
 */

/** Forms of `when` the child passes to `set`; the instant is the same, the parsing path differs. */
export type WhenForm = 'epoch' | 'date' | 'iso' | 'at';

/** Parent to child. */
export type ToChild =
  | {
      op: 'set';
      /** Correlates the answer. */
      req: number;
      /** The instant to fire at, UTC ms. */
      at: number;
      form: WhenForm;
      /** Recurring: the interval in ms. */
      every?: number;
      /** Carried in the message, echoed in the journal by the Sink. */
      tag: number;
    }
  | {
      /** A workflow run of three steps a -> b -> c, `hop` ms apart, first step at `at`. */
      op: 'start';
      req: number;
      at: number;
      hop: number;
      /** The run id is `t<tag>`. */
      tag: number;
    }
  | {
      /** Cancel an acknowledged alarm. */
      op: 'cancel';
      req: number;
      id: number;
    }
  | { op: 'stop' };

/** Child to parent. */
export type FromChild =
  | { op: 'ready' }
  | { op: 'ack'; req: number; id: number }
  | { op: 'nack'; req: number; code: string }
  /** `cancel` resolved: the alarm's status after it (`cancelled` if it was still pending). */
  | { op: 'cancelled'; req: number; status: string | null };
