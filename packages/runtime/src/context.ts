/**
 * Helpers for use inside actor logic: find the runtime from `self`, exit on purpose, and send
 * to registered names from an action.
 */
import type { AnyActorRef, EventObject } from 'xstate';
import { processOf } from './actor.js';
import { VigilError } from './errors.js';
import { Exit, type ExitReason } from './exit.js';
import { type Message, type Runtime, runtimeOfHostOf } from './runtime.js';

/** The runtime that runs `self` (works from invoked children too). */
export function runtimeOf(self: AnyActorRef): Runtime {
  const process = processOf(self);
  const runtime = process && runtimeOfHostOf(process.host);
  if (!runtime) throw new VigilError('NOT_A_VIGIL_ACTOR', 'this actor is not run by a Vigil runtime');
  return runtime;
}

/** The registered name of the Vigil actor running `self`. */
export function nameOf(self: AnyActorRef): string {
  const process = processOf(self);
  if (!process) throw new VigilError('NOT_A_VIGIL_ACTOR', 'this actor is not run by a Vigil runtime');
  return process.name;
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
  processOf(self)?.kill(reason);
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
