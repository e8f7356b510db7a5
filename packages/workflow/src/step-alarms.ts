/**
 * The alarms a Scheduler sets for its own runs (step alarms, durable delays of machines), with
 * retry: the run row already says what must happen, so giving up on a `set` while the Alarm is
 * restarting would strand the run until the next restart of the Scheduler.
 */
import { type Alarm, AlarmClient } from '@vigil/alarm';
import type { Clock, Runtime } from '@vigil/runtime';

/** Errors of an Alarm `set` worth trying again: the Alarm is restarting or the disk is busy. */
const TRANSIENT_SET_CODES = new Set(['ACTOR_DOWN', 'CALLEE_EXITED', 'CALL_TIMEOUT', 'STORE_BUSY']);

/** @internal Options of `StepAlarms`. */
export interface StepAlarmsOptions {
  /** Registered name of the Alarm actor. */
  alarmName: string;
  /** Registered name of the Scheduler: every alarm set here targets it. */
  target: string;
  /** Delivery attempts of each alarm. */
  maxAttempts: number;
  /** True once the Scheduler stopped: retrying stops with it. */
  closed: () => boolean;
}

/** @internal Sets and cancels the alarms of one Scheduler incarnation. */
export class StepAlarms {
  private readonly client: AlarmClient;
  private readonly clock: Clock;

  constructor(
    runtime: Runtime,
    private readonly options: StepAlarmsOptions,
  ) {
    this.client = new AlarmClient(runtime, { name: options.alarmName });
    this.clock = runtime.clock;
  }

  /** Sets an alarm for `at` under the idempotency key `key`, trying again while the Alarm restarts. */
  async set(key: string, at: number, message: Record<string, unknown>): Promise<Alarm> {
    for (let attempt = 1; ; attempt++) {
      try {
        // Set as a delay, not an epoch: read against the Alarm's reference instant (never
        // earlier than this read), it is never refused as past, as an epoch read from this clock
        // a moment earlier could be (a run recovered after downtime, "run the next step now"),
        // and never fires before `at`.
        const when = { in: Math.max(0, at - this.clock.now()) };
        return await this.client.set(when, this.options.target, message, {
          key,
          maxAttempts: this.options.maxAttempts,
        });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (this.options.closed() || typeof code !== 'string' || !TRANSIENT_SET_CODES.has(code)) throw err;
        await new Promise<void>((resolve) =>
          this.clock.setTimeout(() => resolve(), Math.min(30_000, 100 * 2 ** attempt)),
        );
      }
    }
  }

  /** Best-effort cancel: a stale alarm that still fires is acknowledged without effect. */
  cancel(id: number): void {
    this.client.cancel(id).catch(() => undefined);
  }
}
