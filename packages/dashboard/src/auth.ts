/**
 * The action token and sessions. Only a scrypt hash of the token is kept (with a random salt);
 * a candidate is hashed the same way and compared in constant time. A successful login opens a
 * session: an HttpOnly, SameSite=Strict cookie plus a CSRF token the page must echo in the
 * `x-vigil-csrf` header of every action. Without a configured token nothing can log in and every
 * action is refused: the dashboard is read-only.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 32;

/** A stored token: salt and scrypt hash, never the token itself. */
export interface TokenHash {
  salt: Buffer;
  hash: Buffer;
}

/** Hashes a token with a fresh salt. */
export function hashToken(token: string): TokenHash {
  const salt = randomBytes(16);
  return { salt, hash: scryptSync(token, salt, KEY_LENGTH) };
}

/** True when `candidate` hashes to `stored`; constant time in the hash comparison. */
export function verifyToken(stored: TokenHash, candidate: string): boolean {
  const hash = scryptSync(candidate, stored.salt, KEY_LENGTH);
  return timingSafeEqual(hash, stored.hash);
}

/** Open sessions: session id (the cookie) to its CSRF token. */
export class Sessions {
  private readonly byId = new Map<string, string>();

  /** Opens a session; returns its id (for the cookie) and CSRF token (for the page). */
  open(): { id: string; csrf: string } {
    const id = randomBytes(24).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    this.byId.set(id, csrf);
    return { id, csrf };
  }

  /** True when `id` is an open session and `csrf` is its token (constant-time compare). */
  check(id: string | undefined, csrf: string | undefined): boolean {
    if (!id || !csrf) return false;
    const expected = this.byId.get(id);
    if (!expected) return false;
    const a = Buffer.from(expected);
    const b = Buffer.from(csrf);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** The value of cookie `name` in a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}
