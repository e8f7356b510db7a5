/**
 * What a message is, and which types are not the sender's to use. The `xstate.*` namespace is
 * XState's own events (done, error, init); `vigil.*` is the runtime's protocol (`vigil.shutdown`
 * asks a trapExit actor to stop, `vigil.down` reports a monitored exit). A forged protocol
 * message would make an actor act on something that did not happen (a stored alarm of type
 * `vigil.shutdown` made its target exit at every delivery), so both are refused at every public
 * entry point; the runtime delivers its own protocol messages past that check.
 */
import type { EventObject } from 'xstate';
import { InvalidMessageError } from './errors.js';

const RESERVED_PREFIXES = ['xstate.', 'vigil.'] as const;

/**
 * True for a message type only the runtime (`vigil.*`) or XState (`xstate.*`) may send. Other
 * packages that accept messages to deliver later (the Alarm) refuse them too.
 *
 * @example isReservedType('vigil.shutdown') // true
 */
export function isReservedType(type: string): boolean {
  return RESERVED_PREFIXES.some((prefix) => type.startsWith(prefix));
}

/** @internal Throws `InvalidMessageError` unless `message` is `{ type: string }` with a type a sender may use. */
export function assertMessage(message: unknown): asserts message is EventObject {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new InvalidMessageError(`expected an object with a string 'type', got ${describeType(message)}`);
  }
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidMessageError(`'type' must be a non-empty string, got ${describeType(type)}`);
  }
  if (isReservedType(type)) {
    const owner = type.startsWith('xstate.') ? "XState's own" : "the runtime's protocol";
    throw new InvalidMessageError(
      `'${type}': the ${type.slice(0, type.indexOf('.'))}.* namespace is ${owner}`,
    );
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
