export interface FailureTrackerOptions {
  /** Failures within `windowMs` that ban a source; 0 never bans. */
  maxFailures: number;
  windowMs: number;
  banMs: number;
  /** Most sources tracked at once. */
  maxTracked: number;
}

interface Entry {
  failures: number;
  windowStart: number;
  bannedUntil: number;
}

/** How far eviction looks for a source that is not banned before it drops the oldest one anyway. */
const EVICTION_SCAN = 64;

/**
 * Brute-force protection: failed digest authentications per source address (a response computed
 * with a wrong password or for an unknown user; a request without credentials is no failure).
 * `maxFailures` failures within `windowMs` of the first ban the address for `banMs`; a success
 * forgets it. Memory is bounded: with `maxTracked` sources tracked, the least recently failing one
 * that is not banned is dropped (the oldest of all when the oldest `EVICTION_SCAN` are all banned).
 */
export class FailureTracker {
  readonly #options: FailureTrackerOptions;
  /** In order of last failure, oldest first. */
  readonly #sources = new Map<string, Entry>();

  constructor(options: FailureTrackerOptions) {
    this.#options = { ...options, maxTracked: Math.max(1, options.maxTracked) };
  }

  get tracked(): number {
    return this.#sources.size;
  }

  /** True while `address` serves a ban; a ban that ran out is forgotten. */
  isBanned(address: string, now: number): boolean {
    const entry = this.#sources.get(address);
    if (entry === undefined || entry.bannedUntil === 0) return false;
    if (entry.bannedUntil > now) return true;
    this.#sources.delete(address);
    return false;
  }

  /** Counts one failure; `banned` is true when this one starts a ban. */
  failed(address: string, now: number): { failures: number; banned: boolean } {
    let entry = this.#sources.get(address);
    if (entry === undefined) {
      this.#makeRoom(now);
      entry = { failures: 0, windowStart: now, bannedUntil: 0 };
    } else {
      this.#sources.delete(address);
      if (now - entry.windowStart > this.#options.windowMs) {
        entry.failures = 0;
        entry.windowStart = now;
      }
    }
    this.#sources.set(address, entry);
    entry.failures++;
    const { maxFailures, banMs } = this.#options;
    const banned = maxFailures > 0 && entry.failures >= maxFailures && entry.bannedUntil <= now;
    if (banned) entry.bannedUntil = now + banMs;
    return { failures: entry.failures, banned };
  }

  succeeded(address: string): void {
    this.#sources.delete(address);
  }

  #makeRoom(now: number): void {
    if (this.#sources.size < this.#options.maxTracked) return;
    let scanned = 0;
    for (const [address, entry] of this.#sources) {
      if (entry.bannedUntil <= now) {
        this.#sources.delete(address);
        return;
      }
      if (++scanned >= EVICTION_SCAN) break;
    }
    const oldest = this.#sources.keys().next().value;
    if (oldest !== undefined) this.#sources.delete(oldest);
  }
}
