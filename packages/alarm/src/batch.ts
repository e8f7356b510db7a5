/**
 * Batch delivery: the deliveries to a target that opted in (`batchTargets`) go as one message per
 * page, `{ type: 'alarm.batch', alarms: [delivery, ...] }`, answered with one outcome per item.
 *
 * The Alarm decides each item exactly as it decides a single delivery (`fire`: decode, misfire,
 * cancel, in-flight accounting, `alarm.fired`), and settles each item exactly as a single
 * delivery's reply or rejection (`alarm.delivered`, retry with backoff, failure). This file only
 * groups the deliveries and splits the answer; so every per-alarm guarantee holds per item.
 *
 * Invariants:
 * - every item handed to `add` is answered exactly once, by its `delivered` or its `failed`;
 * - the deliveries queued in one synchronous stretch of the Alarm (a due page, a wake's due rows
 *   from the prefetch window) go in the same batch: they are sent from a microtask queued by the
 *   first of them, never later than the Alarm's next `await`;
 * - a reply that is not one outcome per item (`true`, an `Error`, a `BatchItemError`) is `InvalidBatchReplyError`
 *   for every item, retryable: it never counts as a delivery;
 * - a batch that is rejected as a whole (timeout, crash, target down, `replyError`) is that error
 *   for each item, so `deliveryTimeoutMs` bounds a batch as it bounds one delivery.
 */
import { type Runtime, VigilError } from '@vigil/runtime';
import { InvalidBatchReplyError } from './errors.js';
import type { Delivery } from './request.js';

/**
 * The message a batch target receives: one delivery per item, each exactly the message a
 * per-alarm target would receive (its own `alarm` ids, attempt, occurrence).
 */
export interface AlarmBatch<M extends Record<string, unknown> = Record<string, unknown>> {
  type: 'alarm.batch';
  alarms: Delivery<M>[];
}

/**
 * A failed item as plain data: what a target on a worker thread answers, since a reply crosses
 * the thread as a structured clone, which keeps an `Error`'s message but not its `code`,
 * `retryable` or `retryAfterMs`.
 */
export interface BatchItemError {
  /** The error's message (the reason recorded for the attempt). */
  error: string;
  /** A stable code, as a `VigilError`'s (default `BATCH_ITEM_FAILED`). */
  code?: string;
  /** True: retried with backoff; otherwise the item's alarm fails. */
  retryable?: boolean;
  /** The least wait before the retry, when it is longer than the backoff. */
  retryAfterMs?: number;
}

/**
 * A batch target's answer for one item, in the order of `alarms`: `true` when it handled the
 * delivery, or an `Error` (or `BatchItemError`) with the meaning it has in `replyError` (refused,
 * or retried with backoff when it has `retryable: true`, after `retryAfterMs` if given).
 */
export type BatchOutcome = true | Error | BatchItemError;

/** One delivery waiting to go in a batch, with what to do with its outcome. */
interface Item {
  delivery: Delivery;
  delivered: () => void;
  failed: (err: Error) => void;
}

/** Groups the deliveries to batch targets and sends each group as one call. @internal */
export class BatchSender {
  private readonly queued = new Map<string, Item[]>();
  private flushQueued = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly targets: Readonly<Record<string, { maxBatch: number }>>,
    private readonly timeoutMs: number,
    private readonly isClosed: () => boolean,
  ) {}

  /** Whether deliveries to `target` go in batches. */
  takes(target: string): boolean {
    return Object.hasOwn(this.targets, target);
  }

  /** Queues one delivery to a batch target; it is sent with the others of this stretch. */
  add(target: string, delivery: Delivery, delivered: () => void, failed: (err: Error) => void): void {
    let items = this.queued.get(target);
    if (!items) {
      items = [];
      this.queued.set(target, items);
    }
    items.push({ delivery, delivered, failed });
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    // Closed: the items stay pending in the store and are delivered again after the restart.
    if (this.isClosed()) {
      this.queued.clear();
      return;
    }
    for (const [target, items] of this.queued) {
      const max = this.targets[target]!.maxBatch;
      for (let i = 0; i < items.length; i += max) this.send(target, items.slice(i, i + max));
    }
    this.queued.clear();
  }

  private send(target: string, items: Item[]): void {
    const batch: AlarmBatch = { type: 'alarm.batch', alarms: items.map((i) => i.delivery) };
    this.runtime.call(target, batch, { timeoutMs: this.timeoutMs }).then(
      (answer) => {
        if (!isOutcomes(answer, items.length)) {
          const err = new InvalidBatchReplyError(target, items.length, answer);
          for (const item of items) item.failed(err);
          return;
        }
        for (let i = 0; i < items.length; i++) {
          const outcome = answer[i];
          if (outcome === true) items[i]!.delivered();
          else items[i]!.failed(outcome instanceof Error ? outcome : fromData(outcome as BatchItemError));
        }
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        for (const item of items) item.failed(error);
      },
    );
  }
}

/** One outcome per item: `true`, an `Error` or a `BatchItemError`, nothing else. */
function isOutcomes(answer: unknown, count: number): answer is BatchOutcome[] {
  if (!Array.isArray(answer) || answer.length !== count) return false;
  for (const outcome of answer)
    if (outcome !== true && !(outcome instanceof Error) && !isItemError(outcome)) return false;
  return true;
}

function isItemError(value: unknown): value is BatchItemError {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.error === 'string' &&
    (e.code === undefined || typeof e.code === 'string') &&
    (e.retryable === undefined || typeof e.retryable === 'boolean') &&
    (e.retryAfterMs === undefined || (typeof e.retryAfterMs === 'number' && e.retryAfterMs >= 0))
  );
}

/** The error a `BatchItemError` stands for, read as the same `replyError` would be. */
function fromData(e: BatchItemError): Error {
  const err = new VigilError(e.code ?? 'BATCH_ITEM_FAILED', e.error);
  return Object.assign(err, {
    ...(e.retryable === undefined ? {} : { retryable: e.retryable }),
    ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
  });
}
