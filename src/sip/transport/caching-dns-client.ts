import type { DnsClient, NaptrRecord, RecordWithTtl, SrvRecord } from './dns-client.js';

export interface CachingDnsClientOptions {
  /** How long NAPTR and SRV answers are kept (Node does not report their TTL). Default 60000. */
  ttlMs?: number;
  /** Upper bound on any entry's life, A/AAAA TTLs included. Default 3600000. */
  maxTtlMs?: number;
  /** How long "no such name / no data" answers are kept. Default 5000. */
  negativeTtlMs?: number;
  /** Entries kept; the oldest are evicted beyond it. Default 10000. */
  maxEntries?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  expires: number;
  answer: Promise<unknown>;
}

/** DNS errors that mean "the name has no such record", cached as negative answers. */
const NEGATIVE = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

/**
 * A {@link DnsClient} that remembers answers: A/AAAA for the smallest TTL of the record set, NAPTR and
 * SRV for `ttlMs`, absent names for `negativeTtlMs`. Concurrent identical queries share one lookup.
 * Server failures and timeouts are not cached.
 */
export class CachingDnsClient implements DnsClient {
  #inner: DnsClient;
  #entries = new Map<string, Entry>();
  #ttlMs: number;
  #maxTtlMs: number;
  #negativeTtlMs: number;
  #maxEntries: number;
  #now: () => number;

  constructor(inner: DnsClient, options: CachingDnsClientOptions = {}) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxTtlMs = options.maxTtlMs ?? 3_600_000;
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Entries currently held (expired ones included until next touched). */
  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  resolveNaptr(name: string): Promise<NaptrRecord[]> {
    return this.#cached(`NAPTR ${name}`, () => this.#inner.resolveNaptr(name), () => this.#ttlMs);
  }

  resolveSrv(name: string): Promise<SrvRecord[]> {
    return this.#cached(`SRV ${name}`, () => this.#inner.resolveSrv(name), () => this.#ttlMs);
  }

  resolve4(name: string, options: { ttl: true }): Promise<RecordWithTtl[]> {
    return this.#cached(`A ${name}`, () => this.#inner.resolve4(name, options), minTtlMs);
  }

  resolve6(name: string, options: { ttl: true }): Promise<RecordWithTtl[]> {
    return this.#cached(`AAAA ${name}`, () => this.#inner.resolve6(name, options), minTtlMs);
  }

  #cached<T>(key: string, query: () => Promise<T>, ttlOf: (answer: T) => number): Promise<T> {
    const now = this.#now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return hit.answer as Promise<T>;
    const entry: Entry = { expires: Number.POSITIVE_INFINITY, answer: Promise.resolve() };
    const answer = query().then(
      (value) => {
        this.#expire(key, entry, Math.min(ttlOf(value), this.#maxTtlMs));
        return value;
      },
      (err: unknown) => {
        const code = (err as { code?: string } | null)?.code;
        this.#expire(key, entry, code !== undefined && NEGATIVE.has(code) ? this.#negativeTtlMs : 0);
        throw err;
      },
    );
    entry.answer = answer;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return answer;
  }

  #expire(key: string, entry: Entry, ttlMs: number): void {
    if (this.#entries.get(key) !== entry) return;
    if (ttlMs <= 0) this.#entries.delete(key);
    else entry.expires = this.#now() + ttlMs;
  }
}

function minTtlMs(records: RecordWithTtl[]): number {
  let ttl = Number.POSITIVE_INFINITY;
  for (const record of records) ttl = Math.min(ttl, record.ttl);
  return Number.isFinite(ttl) ? ttl * 1000 : 0;
}
