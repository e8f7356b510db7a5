/**
 * Alarm messages are stored as JSON text and delivered after days or across restarts, so they
 * must survive `JSON.stringify` / `JSON.parse` unchanged. `encodeMessage` refuses anything that
 * would silently change on the way (undefined properties vanish, NaN becomes null, a Date becomes
 * a string, a Map becomes {}), rather than deliver a different message than the one set.
 *
 * Decisions:
 * - The top level is a plain object (a message is an event). A `type` is not required here.
 * - Dates are rejected, not converted: a Date would come back as a string and handlers comparing
 *   `instanceof Date` would break days later. Pass `date.toISOString()` or epoch milliseconds.
 * - Keys `__proto__`, `constructor` and `prototype` are rejected at any depth, on encode and on
 *   decode, so a stored message can never pollute a prototype when merged by a handler.
 * - Nesting is limited to 64 levels; size to `maxBytes` UTF-8 bytes of JSON on encode only: the
 *   limit is an admission rule, and a row stored under a larger limit must still be deliverable.
 */
import { describeValue } from '@vigil/runtime';
import { InvalidPayloadError, PayloadTooLargeError, UndecodableMessageError } from './errors.js';

/** Default size limit of a message's JSON text: 256 KiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

/** Deepest nesting of objects and arrays accepted. */
export const MAX_MESSAGE_DEPTH = 64;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Validates a message and returns its JSON text. Throws `InvalidPayloadError` (code
 * `INVALID_PAYLOAD`, with the path of the bad value) or `PayloadTooLargeError` (code
 * `PAYLOAD_TOO_LARGE`).
 *
 * @example encodeMessage({ type: 'remind', text: 'stand up' }) // '{"type":"remind","text":"stand up"}'
 */
export function encodeMessage(message: unknown, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): string {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 2) {
    throw new InvalidPayloadError('$', `maxBytes must be an integer >= 2, got ${String(maxBytes)}`);
  }
  const problem = check(message, maxBytes);
  if (problem === 'too large') throw new PayloadTooLargeError(maxBytes + 1, maxBytes, false);
  if (problem) throw new InvalidPayloadError(problem.path, problem.reason);
  let text: string;
  try {
    text = JSON.stringify(message);
  } catch (err) {
    // The walk read every value once; a Proxy or getter that throws only on a later read
    // (stateful) still ends here, typed.
    throw new InvalidPayloadError('$', `reading it threw: ${describeThrown(err)}`);
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a text that short cannot be over the limit, and
  // the byte count (a second pass over the text) is skipped.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes);
  return text;
}

/**
 * Parses stored message text back into a plain object, with the same structural checks as
 * `encodeMessage`. Throws `UndecodableMessageError` (code `UNDECODABLE_MESSAGE`).
 */
export function decodeMessage(text: string): Record<string, unknown> {
  if (typeof text !== 'string')
    throw new UndecodableMessageError(describeValue(text), 'stored message is not text');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Also catches a RangeError from JSON.parse on absurdly deep nesting.
    throw new UndecodableMessageError(text, 'not valid JSON', { cause: err });
  }
  const problem = check(value, Number.POSITIVE_INFINITY);
  if (problem) {
    const reason = problem === 'too large' ? 'too large' : `${problem.path}: ${problem.reason}`;
    throw new UndecodableMessageError(text, reason);
  }
  return value as Record<string, unknown>;
}

type Problem = { path: string; reason: string } | 'too large' | undefined;

/**
 * Walks the value once. `size` tracks a lower bound of the JSON size so that a huge input is
 * refused before `JSON.stringify` builds a huge string.
 */
function check(root: unknown, maxBytes: number): Problem {
  if (!isPlainObject(root))
    return { path: '$', reason: `the message must be a plain object, got ${describe(root)}` };
  return under('$', new Walk(maxBytes).visit(root, 0));
}

// Paths are built only on the way back up from a problem: a valid message (the hot path, on
// every set and every delivery) costs no string building.
function under(segment: string, p: Problem): Problem {
  return p === undefined || p === 'too large' ? p : { path: segment + p.path, reason: p.reason };
}

function here(reason: string): Problem {
  return { path: '', reason };
}

/**
 * One walk's state. A class rather than closures made per call: `check` runs for every message
 * of every set, and closures made (and, under the TypeScript loader, named) per call cost more
 * than the checks themselves on a small message.
 */
class Walk {
  /** The objects on the path from the root to the value being visited (at most 64). */
  private readonly ancestors: object[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  visit(value: unknown, depth: number): Problem {
    switch (typeof value) {
      case 'string':
        this.size += value.length + 2;
        return this.size > this.maxBytes ? 'too large' : undefined;
      case 'boolean':
        this.size += 4;
        return this.size > this.maxBytes ? 'too large' : undefined;
      case 'number':
        if (!Number.isFinite(value)) return here(`${value} is not representable in JSON`);
        this.size += 1;
        return this.size > this.maxBytes ? 'too large' : undefined;
      case 'object':
        break;
      default:
        return here(`${describe(value)} is not JSON-serialisable`);
    }
    if (value === null) {
      this.size += 4;
      return this.size > this.maxBytes ? 'too large' : undefined;
    }
    if (depth >= MAX_MESSAGE_DEPTH) return here(`nested deeper than ${MAX_MESSAGE_DEPTH} levels`);
    if (this.ancestors.includes(value)) return here('circular reference');
    // Everything below reads the object, and a Proxy can throw on any read (instanceof,
    // Array.isArray on a revoked one, its keys, a property): one try covers them all, so the
    // problem is reported at this value's path and never escapes untyped.
    try {
      return this.visitObject(value, depth);
    } catch (err) {
      return here(`reading it threw: ${describeThrown(err)}`);
    } finally {
      if (this.ancestors.at(-1) === value) this.ancestors.pop();
    }
  }

  private visitObject(value: object, depth: number): Problem {
    if (value instanceof Date) {
      return here('a Date would come back as a string; pass toISOString() or epoch milliseconds');
    }
    const isArray = Array.isArray(value);
    if (!isArray && !isPlainObject(value)) return here(`${describe(value)} is not a plain object or array`);
    if (Object.getOwnPropertySymbols(value).length > 0) return here('symbol keys are not JSON-serialisable');
    this.ancestors.push(value);
    this.size += 2;
    if (isArray) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return { path: `[${i}]`, reason: 'sparse array hole' };
        if (i > 0) this.size += 1;
        const p = this.visit(value[i], depth + 1);
        if (p) return under(`[${i}]`, p);
      }
    } else {
      let first = true;
      for (const key of Object.keys(value)) {
        if (FORBIDDEN_KEYS.has(key)) return { path: segmentOf(key), reason: `key '${key}' is not allowed` };
        this.size += key.length + (first ? 3 : 4);
        first = false;
        const p = this.visit((value as Record<string, unknown>)[key], depth + 1);
        if (p) return under(segmentOf(key), p);
      }
    }
    return undefined;
  }
}

function segmentOf(key: string): string {
  return `.${key.length > 40 ? `${key.slice(0, 40)}…` : key}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  try {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') {
    // Array.isArray and the prototype chain both throw on a revoked Proxy.
    try {
      if (Array.isArray(value)) return 'an array';
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
    } catch {
      return 'an object';
    }
  }
  return typeof value === 'bigint' ? 'a BigInt' : `a ${typeof value}`;
}

function describeThrown(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'an unprintable value';
  }
}
