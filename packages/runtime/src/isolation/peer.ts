/**
 * The thread side of the helpers actor logic uses (`runtimeOf`, `castTo`, `nameOf`, `exit`):
 * inside a pool thread there is no Vigil process behind an XState actor, so context.ts asks here
 * for the peer the thread registered for it, which forwards to the main thread's runtime.
 */
import type { AnyActorRef, EventObject } from 'xstate';
import type { ExitReason } from '../exit.js';

/** What an isolated actor can do from its thread. @internal */
export interface ThreadPeer {
  /** Its registered name. */
  readonly name: string;
  /** Sends to a registered actor of the runtime (throws `InvalidMessageError` for an uncloneable message). */
  send(to: string, message: EventObject): void;
  /** Calls a registered actor of the runtime; rejects as `runtime.call` does. */
  call(to: string, message: EventObject, options?: { timeoutMs?: number }): Promise<unknown>;
  /** Exits the isolated actor with `reason`. */
  exit(reason: ExitReason): void;
}

const peers = new WeakMap<AnyActorRef, ThreadPeer>();

/** @internal Registers the peer of the actor `ref` (in a pool thread). */
export function setPeer(ref: AnyActorRef, peer: ThreadPeer): void {
  peers.set(ref, peer);
}

/** @internal The peer of `ref` or of the actor that invoked or spawned it, if it runs in a pool thread. */
export function peerOf(ref: AnyActorRef | undefined): ThreadPeer | undefined {
  let current: AnyActorRef | undefined = ref;
  while (current) {
    const found = peers.get(current);
    if (found) return found;
    current = (current as { _parent?: AnyActorRef })._parent;
  }
  return undefined;
}
