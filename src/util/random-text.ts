import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * `bytes` cryptographically random bytes as text, for identifiers made per message or per session
 * (tags, Call-IDs, session ids). The bytes come from a 4 KiB pool refilled from the CSPRNG when it
 * runs out, so that making one costs a string conversion instead of a call into OpenSSL each time
 * (STYLE.md habit 11; the call-screening proxy spent about 3% of its time there). Each byte is
 * handed out once. Requests larger than the pool draw their own bytes.
 *
 * Hazard: a copy of the process's memory shows the bytes not handed out yet; secrets that must
 * never be predictable from a memory dump (keys, nonces' secrets) use `randomBytes` directly.
 *
 * @example
 * randomText(6, 'hex');        // 'a3f09c1b2e7d', a tag
 * randomText(9, 'base64url');  // 'q3J0xv7Yk2Ab', a session id
 */
export function randomText(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (bytes > POOL_SIZE) return randomBytes(bytes).toString(encoding);
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const text = pool.toString(encoding, offset, offset + bytes);
  offset += bytes;
  return text;
}
