import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleSession {
  /** The cookie value: 256 random bits. */
  readonly id: string;
  readonly user: string;
  /** Required in `X-CSRF-Token` on every change made with this session. */
  readonly csrfToken: string;
  /** The address it was opened from. */
  readonly source: string;
  readonly createdAt: number;
  lastSeen: number;
}

export interface ConsoleSessionsOptions {
  /** A session unused this long ends. Default 30 minutes. */
  idleMs?: number;
  /** A session ends this long after login whatever its use. Default 12 hours. */
  maxAgeMs?: number;
  /** Most sessions open at once; the oldest ends past it. Default 1000. */
  max?: number;
  now?: () => number;
}

/**
 * The console's login sessions, in memory (a restart signs everyone out): an unguessable id for
 * the cookie, the admin it belongs to, and a per-session CSRF token. Bounded in count and time.
 */
export class ConsoleSessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: ConsoleSessionsOptions = {}) {
    this.#idleMs = options.idleMs ?? 30 * 60_000;
    this.#maxAgeMs = options.maxAgeMs ?? 12 * 3_600_000;
    this.#max = options.max ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  create(user: string, source: string): ConsoleSession {
    const now = this.#now();
    if (this.#sessions.size >= this.#max) this.#sessions.delete(this.#sessions.keys().next().value as string);
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrfToken: randomBytes(32).toString('base64url'),
      source,
      createdAt: now,
      lastSeen: now,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (its idle timer restarted), or undefined. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (now - session.lastSeen > this.#idleMs || now - session.createdAt > this.#maxAgeMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  /** Ends every session of an admin except `keep` (after a password change). */
  deleteUser(user: string, keep?: string): void {
    for (const [id, session] of this.#sessions) if (session.user === user && id !== keep) this.#sessions.delete(id);
  }

  /** Whether `token` is the session's CSRF token (constant-time). */
  static csrfMatches(session: ConsoleSession, token: string | undefined): boolean {
    if (typeof token !== 'string') return false;
    const given = Buffer.from(token);
    const expected = Buffer.from(session.csrfToken);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
