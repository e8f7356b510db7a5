/**
 * `defineTarget`: the short way to write a target actor. The handler gets each delivery (the
 * alarm's message plus `alarm: { alarmId, attempt, firedAt, scheduledFor }`); when it returns,
 * the delivery is acknowledged and the alarm marked fired; when it throws, the Alarm retries it
 * with backoff, unless the error is a `PermanentFailure`, which marks the alarm failed.
 *
 * The result is an ordinary XState machine: deliveries are handled by invoked promise actors,
 * at most `concurrency` at a time, the rest queued in arrival order.
 */
import { nameOf, type Runtime, reply, replyError, runtimeOf, VigilError } from '@vigil/runtime';
import { type AnyActorRef, type EventObject, enqueueActions, fromPromise, setup } from 'xstate';

/** What a handler knows besides the delivery. */
export interface TargetContext {
  runtime: Runtime;
  /** The target's registered name. */
  name: string;
}

/** A target's handler. Return to acknowledge; throw to have the delivery retried. */
export type TargetHandler<M extends EventObject = EventObject> = (
  delivery: M,
  context: TargetContext,
) => unknown | Promise<unknown>;

/** Options of `defineTarget`. */
export interface DefineTargetOptions {
  /** Deliveries handled at once (default 1: one at a time, in arrival order). */
  concurrency?: number;
}

/**
 * Thrown by a handler for a delivery that must not be retried (the request is wrong, not the
 * moment): the alarm is marked failed with this message.
 */
export class PermanentFailure extends VigilError {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERMANENT_FAILURE', message, options);
  }
}

/** A handler error the Alarm may retry (anything but a `PermanentFailure`). */
class RetryableFailure extends VigilError {
  readonly retryable = true;
  /** Passed on from the cause, so a handler can ask for a later retry (e.g. a server's Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(cause: unknown) {
    super('TARGET_FAILED', cause instanceof Error ? cause.message : String(cause), { cause });
    const after = (cause as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    this.retryAfterMs = typeof after === 'number' && after >= 0 ? after : undefined;
  }
}

interface TargetMachineContext {
  queue: EventObject[];
  running: Record<string, EventObject>;
  seq: number;
}

/**
 * Builds a target actor logic from a handler.
 *
 * @example
 * const sms = defineTarget(async (delivery: { type: 'sms'; to: string; text: string }) => {
 *   await sendSms(delivery.to, delivery.text);
 * });
 * await runtime.start([alarmSupervisor({ db }), worker('Sms', sms)]);
 */
export function defineTarget<M extends EventObject = EventObject>(
  handler: TargetHandler<M>,
  options: DefineTargetOptions = {},
) {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new VigilError(
      'INVALID_OPTION',
      `concurrency must be a positive integer, got ${String(concurrency)}`,
    );
  }
  const handle = fromPromise<unknown, { event: M; self: AnyActorRef }>(async ({ input }) => {
    try {
      return await handler(input.event, { runtime: runtimeOf(input.self), name: nameOf(input.self) });
    } catch (err) {
      throw err instanceof PermanentFailure ? err : new RetryableFailure(err);
    }
  });
  return setup({
    types: {} as { context: TargetMachineContext; events: EventObject },
    actors: { handle },
  }).createMachine({
    id: 'target',
    context: { queue: [], running: {}, seq: 0 },
    on: {
      // Longer descriptors win over '*': a child's completion is never taken for a delivery.
      'xstate.done.actor.*': { actions: enqueueActions((args) => finish(args)) },
      'xstate.error.actor.*': { actions: enqueueActions((args) => finish(args)) },
      '*': {
        actions: enqueueActions(({ context, event, enqueue, self }) => {
          if (Object.keys(context.running).length >= concurrency) {
            enqueue.assign({ queue: [...context.queue, event] });
            return;
          }
          const id = `delivery-${context.seq}`;
          enqueue.assign({ running: { ...context.running, [id]: event }, seq: context.seq + 1 });
          enqueue.spawnChild('handle', { id, input: { event: event as M, self } });
        }),
      },
    },
  });

  function finish({ context, event, enqueue, self }: FinishArgs): void {
    const done = event as EventObject & { actorId?: string; output?: unknown; error?: unknown };
    const id = done.actorId ?? '';
    const delivery = context.running[id];
    if (delivery) {
      if (event.type.startsWith('xstate.done.')) enqueue(() => reply(delivery, done.output));
      else
        enqueue(() =>
          replyError(delivery, done.error instanceof Error ? done.error : new RetryableFailure(done.error)),
        );
    }
    const running = { ...context.running };
    delete running[id];
    const [next, ...queue] = context.queue;
    if (!next) {
      enqueue.assign({ running, queue });
      return;
    }
    const nextId = `delivery-${context.seq}`;
    enqueue.assign({ running: { ...running, [nextId]: next }, queue, seq: context.seq + 1 });
    enqueue.spawnChild('handle', { id: nextId, input: { event: next as M, self } });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the enqueue helper's full type is XState-internal
type FinishArgs = { context: TargetMachineContext; event: EventObject; enqueue: any; self: AnyActorRef };
