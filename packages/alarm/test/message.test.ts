import { describe, expect, it } from 'vitest';
import { InvalidPayloadError, PayloadTooLargeError, UndecodableMessageError } from '../src/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, decodeMessage, encodeMessage } from '../src/message.js';

function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

describe('encodeMessage accepts lossless JSON', () => {
  it.each([
    [{}],
    [{ type: 'remind', text: 'stand up' }],
    [{ n: 1.5, neg: -3, big: Number.MAX_SAFE_INTEGER, t: true, f: false, nil: null }],
    [{ list: [1, 'two', [3], { four: 4 }], unicode: 'héllo 👋 \u0000 "quoted"' }],
    [Object.assign(Object.create(null), { type: 'x' })],
    [nested(64)],
  ])('%j', (msg) => {
    const text = encodeMessage(msg);
    expect(decodeMessage(text)).toEqual(JSON.parse(JSON.stringify(msg)));
    expect(JSON.parse(text)).toEqual(msg);
  });

  it('allows shared (non-circular) references', () => {
    const shared = { x: 1 };
    expect(encodeMessage({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

const sparse: unknown[] = [1];
sparse[2] = 3;
const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;
const circularArray: unknown[] = [];
circularArray.push({ back: circularArray });
const withGetter = {
  get boom(): number {
    throw new Error('nope');
  },
};

describe('encodeMessage rejects with INVALID_PAYLOAD', () => {
  // [label, message, path in the error]
  it.each<[string, unknown, string]>([
    ['undefined at top', undefined, '$'],
    ['null at top', null, '$'],
    ['string at top', 'hello', '$'],
    ['array at top', [1, 2], '$'],
    ['number at top', 42, '$'],
    ['class instance at top', new (class Event {})(), '$'],
    ['Map at top', new Map(), '$'],
    ['function value', { f: () => 1 }, '$.f'],
    ['symbol value', { s: Symbol('x') }, '$.s'],
    ['BigInt value', { n: 10n }, '$.n'],
    ['undefined property', { u: undefined }, '$.u'],
    ['undefined in array', { list: [1, undefined] }, '$.list[1]'],
    ['sparse array', { list: sparse }, '$.list[1]'],
    ['NaN', { n: Number.NaN }, '$.n'],
    ['Infinity', { deep: { n: Number.NEGATIVE_INFINITY } }, '$.deep.n'],
    ['Date', { when: new Date(0) }, '$.when'],
    ['class instance nested', { e: new Error('x') }, '$.e'],
    ['Set nested', { s: new Set([1]) }, '$.s'],
    ['typed array', { b: new Uint8Array(2) }, '$.b'],
    ['cycle', circular, '$.self'],
    ['cycle through array', { list: circularArray }, '$.list[0].back'],
    ['__proto__ key', JSON.parse('{"a":{"__proto__":{"polluted":true}}}'), '$.a.__proto__'],
    ['constructor key', { constructor: { prototype: {} } }, '$.constructor'],
    ['prototype key', { list: [{ prototype: 1 }] }, '$.list[0].prototype'],
    ['symbol key', { [Symbol('k')]: 1 }, '$'],
    ['throwing getter', withGetter, '$'],
    ['too deep', nested(65), '$' + '.a'.repeat(64)],
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

describe('size limit', () => {
  it('defaults to 256 KiB of UTF-8', () => {
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(262_144);
    const fits = { s: 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES - 8) }; // {"s":"..."} adds 8 bytes
    expect(encodeMessage(fits)).toHaveLength(DEFAULT_MAX_MESSAGE_BYTES);
    expect(() => encodeMessage({ s: 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES - 7) })).toThrow(
      PayloadTooLargeError,
    );
  });

  it('counts UTF-8 bytes, not characters', () => {
    const msg = { s: 'é'.repeat(10) }; // 20 bytes of é + 8
    expect(encodeMessage(msg, 28)).toBe('{"s":"éééééééééé"}');
    expect(() => encodeMessage(msg, 27)).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', bytes: 28 }),
    );
  });

  it('refuses a huge message early, without building its JSON', () => {
    const huge = { list: new Array(5_000_000).fill(0) };
    const started = performance.now();
    const err = (() => {
      try {
        encodeMessage(huge, 1024);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', exact: false });
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('rejects a bad limit', () => {
    expect(() => encodeMessage({}, Number.NaN)).toThrow(InvalidPayloadError);
  });
});

describe('decodeMessage', () => {
  it.each([
    ['not JSON', '{oops'],
    ['empty', ''],
    ['top-level array', '[1,2]'],
    ['top-level string', '"hi"'],
    ['null', 'null'],
    ['__proto__ key', '{"__proto__":{"isAdmin":true}}'],
    ['nested constructor key', '{"a":[{"constructor":1}]}'],
    ['too deep', '{"a":'.repeat(65) + '1' + '}'.repeat(65)],
    ['absurdly deep', '['.repeat(200_000)],
  ])('rejects %s with UNDECODABLE_MESSAGE', (_label, text) => {
    expect(() => decodeMessage(text)).toThrow(UndecodableMessageError);
    expect(() => decodeMessage(text)).toThrow(expect.objectContaining({ code: 'UNDECODABLE_MESSAGE' }));
  });

  it('does not pollute prototypes', () => {
    expect(() => decodeMessage('{"__proto__":{"polluted":true}}')).toThrow();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('decodes messages larger than the encode limit (the limit is for admission only)', () => {
    const text = JSON.stringify({ s: 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES * 2) });
    expect(decodeMessage(text).s).toHaveLength(DEFAULT_MAX_MESSAGE_BYTES * 2);
  });

  it('quotes the stored text, truncated', () => {
    const err = (() => {
      try {
        decodeMessage(`{oops${'x'.repeat(10_000)}`);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toContain('{oops');
    expect(err!.message.length).toBeLessThan(300);
  });
});
