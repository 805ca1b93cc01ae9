export interface LoginThrottleOptions {
  /** Failed logins from one address within `windowMs` that lock it. Default 10. */
  maxFailures?: number;
  /** Default 10 minutes. */
  windowMs?: number;
  /** How long a locked address is refused without its password being checked. Default 10 minutes. */
  lockMs?: number;
  /** Most addresses tracked; the oldest is forgotten past it. Default 10 000. */
  maxTracked?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

/**
 * Rate-limits failed admin logins per client address (console logins and HTTP Basic alike): after
 * `maxFailures` failures within `windowMs` the address is refused for `lockMs` without its
 * password being checked (so a locked address cannot keep guessing). A success clears the address.
 * Memory is bounded by `maxTracked`.
 */
export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #lockMs: number;
  readonly #maxTracked: number;
  readonly #now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    this.#maxFailures = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 10 * 60_000;
    this.#lockMs = options.lockMs ?? 10 * 60_000;
    this.#maxTracked = options.maxTracked ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds the address must wait before trying again; 0 when it may try now. */
  retryAfter(address: string): number {
    const entry = this.#entries.get(address);
    if (entry === undefined) return 0;
    const wait = entry.lockedUntil - this.#now();
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  /** Records a failed login; returns the seconds to wait when this failure locked the address, else 0. */
  fail(address: string): number {
    const now = this.#now();
    let entry = this.#entries.get(address);
    if (entry === undefined || now - entry.windowStart > this.#windowMs) {
      entry = { failures: 0, windowStart: now, lockedUntil: 0 };
      this.#entries.delete(address);
      if (this.#entries.size >= this.#maxTracked) this.#entries.delete(this.#entries.keys().next().value as string);
      this.#entries.set(address, entry);
    }
    entry.failures++;
    if (entry.failures >= this.#maxFailures) {
      entry.lockedUntil = now + this.#lockMs;
      entry.failures = 0;
      entry.windowStart = now;
      return Math.ceil(this.#lockMs / 1000);
    }
    return 0;
  }

  succeed(address: string): void {
    this.#entries.delete(address);
  }
}
