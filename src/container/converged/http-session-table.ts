import { randomBytes } from 'node:crypto';

/** One client's HTTP session of a converged app. */
export interface HttpSessionRecord {
  readonly id: string;
  readonly attributes: Map<string, unknown>;
  /** The application session it belongs to, once it has one. */
  appSessionId: string | undefined;
  readonly createdAt: number;
  lastAccessed: number;
}

export interface HttpSessionTableOptions {
  /** Idle time after which a session is dropped (ms). */
  timeoutMs: number;
  /** Most sessions kept; the least recently used goes first. Default 100 000. */
  maxSessions?: number;
  now?: () => number;
  /** Called for every session that goes (invalidated, expired, evicted, or the table closed). */
  onRemoved?: (record: HttpSessionRecord) => void;
}

/**
 * The HTTP sessions of one converged app, by id (the cookie's value). A session idle for
 * `timeoutMs` is gone (dropped when read, and by an unref'd sweep); past `maxSessions` the least
 * recently used is dropped, so clients that never send the cookie back cannot grow it without
 * bound. `onRemoved` hears of every session that goes, so its application session can be released.
 */
export class HttpSessionTable {
  readonly #timeoutMs: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Least recently used first (a touched session is moved to the end). */
  readonly #sessions = new Map<string, HttpSessionRecord>();
  readonly #sweep: NodeJS.Timeout;
  readonly #onRemoved: (record: HttpSessionRecord) => void;

  constructor(options: HttpSessionTableOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#max = options.maxSessions ?? 100_000;
    this.#now = options.now ?? Date.now;
    this.#onRemoved = options.onRemoved ?? (() => undefined);
    this.#sweep = setInterval(() => this.sweep(), Math.min(this.#timeoutMs, 60_000));
    this.#sweep.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** The live session with that id, marked as used now. */
  get(id: string): HttpSessionRecord | undefined {
    const record = this.#sessions.get(id);
    if (record === undefined) return undefined;
    const now = this.#now();
    this.#sessions.delete(id);
    if (now - record.lastAccessed >= this.#timeoutMs) {
      this.#onRemoved(record);
      return undefined;
    }
    record.lastAccessed = now;
    this.#sessions.set(id, record);
    return record;
  }

  create(): HttpSessionRecord {
    const now = this.#now();
    const record: HttpSessionRecord = { id: randomBytes(18).toString('base64url'), attributes: new Map(), appSessionId: undefined, createdAt: now, lastAccessed: now };
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.values().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest.id);
      this.#onRemoved(oldest);
    }
    this.#sessions.set(record.id, record);
    return record;
  }

  delete(id: string): void {
    const record = this.#sessions.get(id);
    if (record === undefined) return;
    this.#sessions.delete(id);
    this.#onRemoved(record);
  }

  /** Drops the sessions idle for the timeout (the oldest come first: stops at the first live one). */
  sweep(now: number = this.#now()): void {
    for (const [id, record] of this.#sessions) {
      if (now - record.lastAccessed < this.#timeoutMs) break;
      this.#sessions.delete(id);
      this.#onRemoved(record);
    }
  }

  close(): void {
    clearInterval(this.#sweep);
    const records = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const record of records) this.#onRemoved(record);
  }
}
