/**
 * Token checks do the same work whatever is wrong with a token: one scrypt and one
 * `timingSafeEqual` over two digests of the same length, for a wrong secret, an unknown id, a
 * malformed token of any length, or the right token. What differs between them is therefore
 * not the work done, and the comparison that could leak a prefix is constant-time. Asserted on
 * the calls into node:crypto (structural), not on wall-clock timings, which would flake.
 */
import * as crypto from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addToken, revokeToken } from '../src/index.js';
import { TokenVerifier } from '../src/tokens.js';
import { tempDir } from './helpers.js';

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, scrypt: vi.fn(real.scrypt), timingSafeEqual: vi.fn(real.timingSafeEqual) };
});

const scrypt = vi.mocked(crypto.scrypt);
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

afterEach(() => vi.clearAllMocks());

async function check(verifier: TokenVerifier, token: string) {
  vi.clearAllMocks();
  const user = await verifier.verify(token);
  const compared = timingSafeEqual.mock.calls.map(([a, b]) => [a.byteLength, b.byteLength]);
  return { user, scrypts: scrypt.mock.calls.length, compared };
}

describe('token verification', () => {
  it('does one scrypt and one constant-time comparison of equal-length digests for every token', async () => {
    const data = tempDir();
    const { token } = await addToken(data, 'ada');
    const { token: revoked, id: revokedId } = await addToken(data, 'bob');
    revokeToken(data, revokedId);
    const [, id, secret] = /^vgl_([0-9a-f]{8})_(.+)$/.exec(token) ?? [];
    const flipped = secret?.startsWith('A') ? `B${secret.slice(1)}` : `A${secret?.slice(1)}`;
    const wrong = [
      `vgl_${id}_${flipped}`, // the right id, a secret wrong in its first character
      `vgl_${id}_${secret?.slice(0, -1)}${secret?.endsWith('A') ? 'B' : 'A'}`, // ... in its last
      `vgl_00000000_${secret}`, // an unknown id with a well-formed secret
      revoked, // a token that was valid
      '', // empty
      'x', // malformed, 1 character
      `vgl_${id}_`, // the right id and no secret
      'y'.repeat(199), // malformed, near the length limit
    ];
    const verifier = new TokenVerifier(data);
    for (const t of wrong) {
      expect(await check(verifier, t), `token ${JSON.stringify(t.slice(0, 20))}`).toEqual({
        user: undefined,
        scrypts: 1,
        compared: [[32, 32]],
      });
    }
    // A fresh verifier: the right token is checked the same way (then remembered by its SHA-256).
    expect(await check(new TokenVerifier(data), token)).toEqual({
      user: 'ada',
      scrypts: 1,
      compared: [[32, 32]],
    });
  });

  it('refuses a token over 200 characters before hashing (its length is not a secret)', async () => {
    const data = tempDir();
    await addToken(data, 'ada');
    expect(await check(new TokenVerifier(data), 'z'.repeat(201))).toEqual({
      user: undefined,
      scrypts: 0,
      compared: [],
    });
  });

  it('addToken creates the data directory on first use', async () => {
    const data = join(tempDir(), 'not', 'yet');
    const { token } = await addToken(data, 'ada');
    expect(await new TokenVerifier(data).verify(token)).toBe('ada');
  });
});
