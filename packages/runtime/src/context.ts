/**
 * Helpers for use inside actor logic: find the runtime from `self`, exit on purpose, and send
 * to registered names from an action. They work the same in an isolated actor's thread, where
 * they go through the actor's peer (isolation/peer.ts) to the runtime on the main thread.
 */
import type { AnyActorRef, EventObject } from 'xstate';
import { processOf } from './actor.js';
import { VigilError } from './errors.js';
import { Exit, type ExitReason } from './exit.js';
import { peerOf, type ThreadPeer } from './isolation/peer.js';
import { type Message, type Runtime, runtimeOfHostOf } from './runtime.js';

/**
 * The runtime that runs `self` (works from invoked children too). In an isolated actor's thread
 * it is a stand-in for the runtime on the main thread that has `send`, `cast` and `call` (to the
 * runtime's registered actors, with the same checks and errors); any other member throws
 * `VigilError` with code `MAIN_THREAD_ONLY`.
 */
export function runtimeOf(self: AnyActorRef): Runtime {
  const process = processOf(self);
  const runtime = process && runtimeOfHostOf(process.host);
  if (runtime) return runtime;
  const peer = peerOf(self);
  if (peer) return standIn(peer);
  throw new VigilError('NOT_A_VIGIL_ACTOR', 'this actor is not run by a Vigil runtime');
}

/** The registered name of the Vigil actor running `self` (in its thread too, if isolated). */
export function nameOf(self: AnyActorRef): string {
  const process = processOf(self);
  if (process) return process.name;
  const peer = peerOf(self);
  if (peer) return peer.name;
  throw new VigilError('NOT_A_VIGIL_ACTOR', 'this actor is not run by a Vigil runtime');
}

const standIns = new WeakMap<ThreadPeer, Runtime>();

/** The runtime as an isolated actor's thread sees it: messaging only. */
function standIn(peer: ThreadPeer): Runtime {
  let runtime = standIns.get(peer);
  if (runtime) return runtime;
  const messaging: Record<string, unknown> = {
    send: (name: string, message: EventObject) => peer.send(name, message),
    cast: (name: string, message: EventObject) => peer.send(name, message),
    call: (name: string, message: EventObject, options?: { timeoutMs?: number }) =>
      peer.call(name, message, options),
  };
  runtime = new Proxy(messaging, {
    get(target, key) {
      if (typeof key === 'string' && Object.hasOwn(target, key)) return target[key];
      if (key === 'then' || typeof key === 'symbol') return undefined; // not a thenable
      throw new VigilError(
        'MAIN_THREAD_ONLY',
        `runtime.${key} is not available in an isolated actor's thread (send, cast and call are)`,
      );
    },
  }) as unknown as Runtime;
  standIns.set(peer, runtime);
  return runtime;
}

/**
 * Exits the Vigil actor running `self` with `reason` (default `normal`): no further message is
 * delivered to it (the rest of the current event's actions still run, inside XState), and its
 * supervisor applies the restart rules to that reason.
 *
 * @example
 * actions: ({ self }) => exit(self, Exit.error(new Error('lost the connection')))
 */
export function exit(self: AnyActorRef, reason: ExitReason = Exit.normal): void {
  const process = processOf(self);
  if (process) process.kill(reason);
  else peerOf(self)?.exit(reason);
}

/**
 * An XState action that sends to a registered name through the runtime's mailboxes.
 *
 * @example
 * entry: castTo('Logger', ({ context }) => ({ type: 'LOG', text: context.note }))
 */
export function castTo<TArgs extends { self: AnyActorRef }>(
  name: string,
  message: EventObject | Message | ((args: TArgs) => EventObject | Message),
): (args: TArgs) => void {
  return (args) => {
    const event = typeof message === 'function' ? message(args) : message;
    runtimeOf(args.self).send(name, event);
  };
}
