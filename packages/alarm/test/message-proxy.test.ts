/**
 * A message is user data from untyped callers: a Proxy whose traps throw, or a revoked one, must
 * come back as a typed INVALID_PAYLOAD naming where it was found, never as a plain Error.
 */
import { describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../src/errors.js';
import { encodeMessage } from '../src/message.js';

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const boom = () => {
  throw new Error('trap boom');
};

function throwsOnSecondRead(): object {
  let reads = 0;
  return new Proxy({ x: 1 }, { get: (t, k) => (++reads > 1 ? boom() : Reflect.get(t, k)) });
}

describe('encodeMessage with Proxies that throw', () => {
  // [label, message, path in the error]
  it.each<[string, unknown, string]>([
    ['ownKeys trap at top', new Proxy({}, { ownKeys: boom }), '$'],
    ['ownKeys trap nested', { a: new Proxy({}, { ownKeys: boom }) }, '$.a'],
    ['getPrototypeOf trap nested', { a: [1, new Proxy({}, { getPrototypeOf: boom })] }, '$.a[1]'],
    ['get trap on an array length', { a: new Proxy([], { get: boom }) }, '$.a'],
    ['revoked Proxy at top', revoked(), '$'],
    ['revoked Proxy nested', { a: { b: revoked() } }, '$.a.b'],
    ['a trap that throws only on the second read', throwsOnSecondRead(), '$'],
  ])('%s', (_label, msg, path) => {
    let err: unknown;
    try {
      encodeMessage(msg);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidPayloadError);
    expect(err).toMatchObject({ code: 'INVALID_PAYLOAD', path });
  });
});
