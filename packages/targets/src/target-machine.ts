/**
 * The one machine behind every target built here (`defineTarget`, Pushover, Webhook): deliveries
 * handled by invoked promise actors, at most `concurrency` at a time, the rest queued in arrival
 * order; each delivery answered (`reply` / `replyError`) when its promise settles.
 *
 * Invariants:
 * - a delivery is answered exactly once, after its work settled: the Alarm marks the alarm fired
 *   only on a reply, so a crash before it redelivers (at least once);
 * - the delivery promise never rejects: a thrown error is turned into the error answered by
 *   `spec.failure`, so the machine never reaches XState's `error` status over one delivery;
 * - a note (Pushover's quota) kept from the latest settled delivery is answered to a query
 *   message at once, without waiting behind the deliveries in flight;
 * - stopping the actor aborts every delivery in flight through the promise actor's `signal`.
 *
 * @internal
 */
import { nameOf, type Runtime, reply, replyError, runtimeOf } from '@vigil/runtime';
import { type AnyActorRef, type EventObject, enqueueActions, fromPromise, setup } from 'xstate';

/** How a delivery ended: the value to reply, or the error to answer; with an optional note. */
export type Settled<N> = { ok: true; value: unknown; note?: N } | { ok: false; error: Error; note?: N };

/** @internal What a delivery's work is given. */
export interface DeliveryContext {
  /** Aborted when the target stops. */
  signal: AbortSignal;
  runtime: Runtime;
  /** The target's registered name. */
  name: string;
}

/** @internal How a target is configured. */
export interface TargetMachineSpec<N> {
  /** Machine id, for inspection. */
  id: string;
  /** Deliveries in flight at once (a positive integer, validated by the caller). */
  concurrency: number;
  /** The work of one delivery. May throw: `failure` turns what it throws into the answer. */
  deliver(delivery: EventObject, context: DeliveryContext): Promise<Settled<N>>;
  /** The error answered for what `deliver` threw (retryable unless it is permanent). */
  failure(thrown: unknown): Error;
  /** Message type answered with the latest note (or null) instead of being delivered. */
  queryType?: string;
}

/**
 * The machine's context: deliveries queued and running, and the latest note. Published, not
 * internal: the machine type `defineTarget` returns names it.
 */
export interface TargetMachineContext<N> {
  queue: EventObject[];
  running: Record<string, EventObject>;
  seq: number;
  note: N | null;
}

/** @internal Builds a target's machine from its spec. */
export function targetMachine<N = never>(spec: TargetMachineSpec<N>) {
  const deliver = fromPromise<Settled<N>, { event: EventObject; self: AnyActorRef }>(
    async ({ input, signal }) => {
      try {
        return await spec.deliver(input.event, {
          signal,
          runtime: runtimeOf(input.self),
          name: nameOf(input.self),
        });
      } catch (err) {
        return { ok: false, error: spec.failure(err) };
      }
    },
  );
  return setup({
    types: {} as { context: TargetMachineContext<N>; events: EventObject },
    actors: { deliver },
    actions: {
      /** A delivery's promise settled: answer it, then start the next queued one in its slot. */
      finish: enqueueActions(({ context, event, enqueue, self }) => {
        const done = event as EventObject & { actorId?: string; output?: Settled<N>; error?: unknown };
        const id = done.actorId ?? '';
        const delivery = context.running[id];
        // The promise never rejects; an error event here is a bug, answered as `failure` says.
        const settled: Settled<N> = done.output ?? { ok: false, error: spec.failure(done.error) };
        if (delivery) {
          if (settled.ok) enqueue(() => reply(delivery, settled.value));
          else enqueue(() => replyError(delivery, settled.error));
        }
        const running = { ...context.running };
        delete running[id];
        const note = settled.note === undefined ? context.note : settled.note;
        const [next, ...queue] = context.queue;
        if (!next) {
          enqueue.assign({ running, queue, note });
          return;
        }
        const nextId = `delivery-${context.seq}`;
        enqueue.assign({ running: { ...running, [nextId]: next }, queue, seq: context.seq + 1, note });
        enqueue.spawnChild('deliver', { id: nextId, input: { event: next, self } });
      }),
      /** A message arrived: answer a query, start the delivery, or queue it when every slot is busy. */
      accept: enqueueActions(({ context, event, enqueue, self }) => {
        if (spec.queryType !== undefined && event.type === spec.queryType) {
          const note = context.note;
          enqueue(() => reply(event, note));
          return;
        }
        if (Object.keys(context.running).length >= spec.concurrency) {
          enqueue.assign({ queue: [...context.queue, event] });
          return;
        }
        const id = `delivery-${context.seq}`;
        enqueue.assign({ running: { ...context.running, [id]: event }, seq: context.seq + 1 });
        enqueue.spawnChild('deliver', { id, input: { event, self } });
      }),
    },
  }).createMachine({
    id: spec.id,
    context: { queue: [], running: {}, seq: 0, note: null },
    on: {
      // Longer descriptors win over '*': a child's completion is never taken for a delivery.
      'xstate.done.actor.*': { actions: 'finish' },
      'xstate.error.actor.*': { actions: 'finish' },
      '*': { actions: 'accept' },
    },
  });
}
