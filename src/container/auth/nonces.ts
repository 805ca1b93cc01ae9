import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Whether a nonce is one of ours and still young enough. */
export type NonceState = { readonly kind: 'fresh' | 'expired'; readonly issuedAt: number } | { readonly kind: 'forged' };

/** Whether a nonce-count may be used: higher than any seen, a repeat, or unknowable (its record was evicted). */
export type CountCheck = 'ok' | 'replay' | 'forgotten';

export interface NoncesOptions {
  /** How long a nonce is accepted (ms); after that a correct response gets `stale=true`. */
  lifetimeMs: number;
  /** Most nonces whose highest nonce-count is remembered at once. */
  maxTracked: number;
  /** HMAC key; default 32 random bytes, so nonces die with the process. */
  secret?: Buffer;
}

const STAMP = 8;
const RANDOM = 8;
const MAC = 16;
const LENGTH = STAMP + RANDOM + MAC;

interface Count {
  nc: number;
  issuedAt: number;
}

/**
 * Server nonces (RFC 2617 §3.2.1, RFC 3261 §22.4): self-validating, so checking one needs no
 * table. A nonce is base64url(issued-at ms ‖ 8 random bytes ‖ HMAC-SHA-256(secret, issued-at ‖
 * random ‖ realm) truncated to 16 bytes): it proves it came from this process, for this realm, and
 * how old it is.
 *
 * Replay protection (RFC 2617 §3.2.2: the nonce-count grows with every request that reuses a
 * nonce) needs memory, bounded here: the highest nc of each nonce in use, until the nonce expires.
 * When the table is full, the oldest records go, and a nonce issued no later than an evicted one
 * is refused as stale from then on (the client gets a fresh one), so an eviction never opens a
 * replay window.
 */
export class Nonces {
  readonly #lifetime: number;
  readonly #max: number;
  readonly #secret: Buffer;
  readonly #counts = new Map<string, Count>();
  /** Nonces issued at or before this time lost their record: they are refused. */
  #forgottenUpTo = -Infinity;
  #lastSweep = 0;

  constructor(options: NoncesOptions) {
    this.#lifetime = options.lifetimeMs;
    this.#max = Math.max(1, options.maxTracked);
    this.#secret = options.secret ?? randomBytes(32);
  }

  /** Nonces whose counts are remembered now. */
  get tracked(): number {
    return this.#counts.size;
  }

  issue(realm: string, now: number): string {
    const raw = Buffer.alloc(LENGTH);
    raw.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
    randomBytes(RANDOM).copy(raw, STAMP);
    this.#mac(raw, realm).copy(raw, STAMP + RANDOM, 0, MAC);
    return raw.toString('base64url');
  }

  check(nonce: string, realm: string, now: number): NonceState {
    if (nonce.length !== 43) return { kind: 'forged' };
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== LENGTH) return { kind: 'forged' };
    const mac = this.#mac(raw, realm).subarray(0, MAC);
    if (!timingSafeEqual(mac, raw.subarray(STAMP + RANDOM))) return { kind: 'forged' };
    const issuedAt = Number(raw.readBigUInt64BE(0));
    // A nonce from the future (clock stepped back) is as untrustworthy as an old one.
    const fresh = issuedAt <= now + 1000 && now - issuedAt <= this.#lifetime;
    return { kind: fresh ? 'fresh' : 'expired', issuedAt };
  }

  /** Records `nc` for a fresh nonce when it is higher than every count seen with it. */
  useCount(nonce: string, issuedAt: number, nc: number, now: number): CountCheck {
    const known = this.#counts.get(nonce);
    if (known !== undefined) {
      if (nc <= known.nc) return 'replay';
      known.nc = nc;
      return 'ok';
    }
    if (issuedAt <= this.#forgottenUpTo) return 'forgotten';
    this.#makeRoom(now);
    this.#counts.set(nonce, { nc, issuedAt });
    return 'ok';
  }

  #makeRoom(now: number): void {
    // Expired records go once per lifetime, or up to four times per lifetime when the table is full:
    // a sweep is a walk over the table, so it must not run on every request under load.
    const since = now - this.#lastSweep;
    if (since >= this.#lifetime || (this.#counts.size >= this.#max && since >= this.#lifetime / 4)) {
      this.#lastSweep = now;
      for (const [nonce, count] of this.#counts) if (now - count.issuedAt > this.#lifetime) this.#counts.delete(nonce);
    }
    while (this.#counts.size >= this.#max) {
      const oldest = this.#counts.entries().next().value;
      if (oldest === undefined) break;
      this.#counts.delete(oldest[0]);
      if (now - oldest[1].issuedAt <= this.#lifetime) this.#forgottenUpTo = Math.max(this.#forgottenUpTo, oldest[1].issuedAt);
    }
  }

  #mac(raw: Buffer, realm: string): Buffer {
    return createHmac('sha256', this.#secret).update(raw.subarray(0, STAMP + RANDOM)).update(realm, 'utf8').digest();
  }
}
