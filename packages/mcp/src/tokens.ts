/**
 * Bearer tokens of the HTTP transport, in `<data>/tokens.json`.
 *
 * A token is `vgl_<id>_<secret>`: `id` (8 hex) finds its entry, the 32-byte `secret` is checked
 * against an scrypt hash with a random salt, compared with `timingSafeEqual`. The file holds only
 * ids, users, salts and hashes; the token itself is shown once by `addToken` and never stored or
 * logged. An unknown id still costs one scrypt, so timing does not tell which ids exist.
 *
 * Verified tokens are remembered in memory by the SHA-256 of the token (scrypt per HTTP request
 * would cost more than the call), and that memory is dropped whenever the file changes (mtime and
 * size), so a revocation takes effect at the next request.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpConfigError } from './errors.js';
import { checkUserId } from './principal.js';

interface TokenEntry {
  id: string;
  user: string;
  salt: string;
  hash: string;
  createdAt: string;
}

const KEYLEN = 32;
const TOKEN = /^vgl_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

function tokensPath(data: string): string {
  return join(data, 'tokens.json');
}

function readEntries(data: string): TokenEntry[] {
  const path = tokensPath(data);
  if (!existsSync(path)) return [];
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { tokens?: TokenEntry[] };
  if (!Array.isArray(parsed.tokens)) throw new McpConfigError(`${path} has no 'tokens' array`);
  return parsed.tokens;
}

function writeEntries(data: string, tokens: TokenEntry[]): void {
  // The data directory is created on first use, as the server creates it: `vigil mcp token add`
  // may come before the first `vigil mcp`.
  mkdirSync(data, { recursive: true });
  const path = tokensPath(data);
  // Written aside and renamed: a reader never sees half a file.
  writeFileSync(`${path}.tmp`, `${JSON.stringify({ tokens }, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

function hashSecret(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEYLEN, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Creates a token for `user`; returns it (shown once) and its id (for `revokeToken`). */
export async function addToken(data: string, user: string): Promise<{ id: string; token: string }> {
  checkUserId(user);
  const tokens = readEntries(data);
  let id = randomBytes(4).toString('hex');
  while (tokens.some((t) => t.id === id)) id = randomBytes(4).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const hash = await hashSecret(secret, salt);
  tokens.push({
    id,
    user,
    salt: salt.toString('hex'),
    hash: hash.toString('hex'),
    createdAt: new Date().toISOString(),
  });
  writeEntries(data, tokens);
  return { id, token: `vgl_${id}_${secret}` };
}

/** Removes a token by its id (or the token itself); false if there was none. */
export function revokeToken(data: string, idOrToken: string): boolean {
  const id = TOKEN.exec(idOrToken)?.[1] ?? idOrToken;
  const tokens = readEntries(data);
  const left = tokens.filter((t) => t.id !== id);
  if (left.length === tokens.length) return false;
  writeEntries(data, left);
  return true;
}

/** Token ids and their users (no secrets). */
export function listTokens(data: string): { id: string; user: string; createdAt: string }[] {
  return readEntries(data).map(({ id, user, createdAt }) => ({ id, user, createdAt }));
}

/** Checks bearer tokens against `<data>/tokens.json`. @internal */
export class TokenVerifier {
  private stamp = '';
  private entries: TokenEntry[] = [];
  private readonly verified = new Map<string, string>();
  private readonly dummySalt = randomBytes(16);

  constructor(private readonly data: string) {}

  /** The user of a valid token, or undefined (wrong, unknown, revoked or malformed). */
  async verify(token: string | undefined): Promise<string | undefined> {
    this.reloadIfChanged();
    if (typeof token !== 'string' || token.length > 200) return undefined;
    const digest = createHash('sha256').update(token).digest('hex');
    const known = this.verified.get(digest);
    if (known !== undefined) return known;
    const m = TOKEN.exec(token);
    const entry = m ? this.entries.find((e) => e.id === m[1]) : undefined;
    const salt = entry ? Buffer.from(entry.salt, 'hex') : this.dummySalt;
    const expected = entry ? Buffer.from(entry.hash, 'hex') : Buffer.alloc(KEYLEN);
    const actual = await hashSecret(m?.[2] ?? token, salt);
    // Every token, known or not, well-formed or not, costs one scrypt and one constant-time
    // comparison of two KEYLEN digests: the work done does not depend on what was wrong.
    const same = timingSafeEqual(expected, actual);
    if (!entry || !same) return undefined;
    // The file may have changed while scrypt ran: remember only what is still in it.
    this.reloadIfChanged();
    if (!this.entries.some((e) => e.id === entry.id)) return undefined;
    this.verified.set(digest, entry.user);
    return entry.user;
  }

  private reloadIfChanged(): void {
    const path = tokensPath(this.data);
    let stamp = 'none';
    try {
      const s = statSync(path);
      stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      // No file: no tokens.
    }
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    this.entries = stamp === 'none' ? [] : readEntries(this.data);
    this.verified.clear();
  }
}
