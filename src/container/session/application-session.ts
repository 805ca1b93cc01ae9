import { IllegalStateError, type ServletTimer, type SipApplicationSession } from '../../api/index.js';
import { SipUri, type Uri } from '../../sip/message/index.js';
import { randomText } from '../../util/index.js';
import { Attributes } from './attributes.js';
import { SerialQueue } from './serial-queue.js';
import type { SessionEvents } from './session-events.js';
import type { SipSessionImpl } from './sip-session.js';

/** URI parameter carrying an application session id (JSR 289 §15.11.3 encodeURI). */
export const APP_SESSION_URI_PARAM = 'siplet-as';
/** HTTP query parameter carrying an application session id (encodeURL, converged apps). */
export const APP_SESSION_URL_PARAM = 'siplet-as';

export interface ApplicationSessionOptions {
  applicationName: string;
  /** Minutes of inactivity before expiry; 0 or less never expires. */
  timeoutMinutes: number;
  events: SessionEvents;
  /** Called once the session is invalidated, to drop it from the indexes. */
  onInvalidated(session: ApplicationSessionImpl): void;
  key?: string;
  id?: string;
}

/** Timers the application session owns: what it needs of them. */
export interface OwnedTimer extends ServletTimer {
  readonly persistent: boolean;
  /** Cancels without touching the session's bookkeeping (the session is going away). */
  stop(): void;
}

/**
 * An application session (JSR 289 §6.1): one call or service instance of one
 * application. Expiry slides with activity: it fires `timeoutMinutes` after the
 * last access unless `setExpires` set another deadline; `sessionExpired`
 * listeners may extend it. Invalidated when ready (no SIP session and no
 * persistent timer left) unless the app turned that off.
 *
 * Readiness is checked in the session's serial queue once the events already
 * queued have been handled, never in the middle of a handler: a servlet that
 * answered a BYE or a MESSAGE may still use its sessions until it returns, and
 * the final response to a request the app sent reaches its servlet first.
 */
export class ApplicationSessionImpl implements SipApplicationSession {
  readonly #id: string;
  readonly #name: string;
  readonly #key: string | undefined;
  readonly #events: SessionEvents;
  readonly #onInvalidated: (s: ApplicationSessionImpl) => void;
  /** Made on the first attribute set, as are the timer and HTTP session sets: most calls have none. */
  #attributes: Attributes | undefined;
  readonly #sessions = new Map<string, SipSessionImpl>();
  #timers: Set<OwnedTimer> | undefined;
  /** Ids of the valid HTTP sessions (converged apps) that belong to this application session. */
  #protocolSessions: Set<string> | undefined;
  readonly #created = Date.now();
  readonly queue: SerialQueue;
  #lastAccessed = this.#created;
  #timeoutMs: number;
  #deadline = 0;
  #expiryTimer: NodeJS.Timeout | undefined;
  #valid = true;
  #invalidateWhenReady = true;
  #readyNotified = false;
  /** A readiness check is queued (at most one at a time). */
  #checkQueued = false;
  /** Per-app-session scratch space for the container (e.g. HTTP session ids). */
  readonly internal = new Map<string, unknown>();

  constructor(options: ApplicationSessionOptions) {
    this.#id = options.id ?? randomText(9, 'base64url');
    this.#name = options.applicationName;
    this.#key = options.key;
    this.#events = options.events;
    this.#onInvalidated = options.onInvalidated;
    this.#timeoutMs = options.timeoutMinutes > 0 ? options.timeoutMinutes * 60_000 : 0;
    this.queue = new SerialQueue((error) => this.#events.error(error, 'application session task'));
    this.#schedule();
  }

  getId(): string {
    return this.#id;
  }

  get key(): string | undefined {
    return this.#key;
  }

  getApplicationName(): string {
    return this.#name;
  }

  getSessions(): SipSessionImpl[] {
    return [...this.#sessions.values()];
  }

  getSipSession(id: string): SipSessionImpl | undefined {
    return this.#sessions.get(id);
  }

  getTimers(): ServletTimer[] {
    return this.#timers === undefined ? [] : [...this.#timers];
  }

  getAttribute<T = unknown>(name: string): T | undefined {
    return this.#attributes?.get<T>(name);
  }

  setAttribute(name: string, value: unknown): void {
    this.#checkValid();
    (this.#attributes ??= new Attributes((change, key, v) => this.#events.appSessionAttribute(this, change, key, v))).set(name, value);
  }

  removeAttribute(name: string): void {
    this.#checkValid();
    this.#attributes?.remove(name);
  }

  getAttributeNames(): string[] {
    return this.#attributes?.names() ?? [];
  }

  setExpires(minutes: number): number {
    this.#checkValid();
    if (minutes <= 0) {
      this.#timeoutMs = 0;
      this.#deadline = 0;
    } else {
      this.#deadline = Date.now() + minutes * 60_000;
    }
    this.#schedule();
    return minutes;
  }

  getExpirationTime(): number {
    if (this.#deadline > 0) return this.#deadline;
    return this.#timeoutMs > 0 ? this.#lastAccessed + this.#timeoutMs : 0;
  }

  isValid(): boolean {
    return this.#valid;
  }

  /** Marks activity: the sliding expiry starts again from now. */
  access(): void {
    this.#lastAccessed = Date.now();
    if (this.#deadline > 0 && this.#deadline < this.#lastAccessed + this.#timeoutMs) this.#deadline = 0;
  }

  invalidate(): void {
    if (!this.#valid) return;
    this.#valid = false;
    clearTimeout(this.#expiryTimer);
    const timers = this.#timers;
    this.#timers = undefined;
    if (timers !== undefined) for (const timer of timers) timer.stop();
    for (const session of [...this.#sessions.values()]) session.invalidate();
    this.#protocolSessions = undefined;
    this.#events.appSessionDestroyed(this);
    this.#attributes?.clear();
    this.internal.clear();
    this.#onInvalidated(this);
  }

  setInvalidateWhenReady(flag: boolean): void {
    this.#checkValid();
    this.#invalidateWhenReady = flag;
    if (flag) this.checkReady();
  }

  getInvalidateWhenReady(): boolean {
    return this.#invalidateWhenReady;
  }

  /** JSR 289 §6.1.2.2.2: no SIP session left, none of them busy, no persistent timer, no valid HTTP session. */
  isReadyToInvalidate(): boolean {
    if (!this.#valid) return false;
    if (this.#protocolSessions !== undefined && this.#protocolSessions.size > 0) return false;
    for (const s of this.#sessions.values()) if (!s.isReadyToInvalidate()) return false;
    if (this.#timers !== undefined) for (const t of this.#timers) if (t.persistent) return false;
    return true;
  }

  encodeURI(uri: Uri): void {
    if (uri instanceof SipUri) uri.params.set(APP_SESSION_URI_PARAM, this.#id);
  }

  encodeURL(url: string): string {
    const hash = url.indexOf('#');
    const base = hash < 0 ? url : url.slice(0, hash);
    const frag = hash < 0 ? '' : url.slice(hash);
    return base + (base.includes('?') ? '&' : '?') + APP_SESSION_URL_PARAM + '=' + encodeURIComponent(this.#id) + frag;
  }

  getCreationTime(): number {
    return this.#created;
  }

  getLastAccessedTime(): number {
    return this.#lastAccessed;
  }

  // ---- container side ---------------------------------------------------------

  addSession(session: SipSessionImpl): void {
    this.#sessions.set(session.getId(), session);
    this.#readyNotified = false;
  }

  /** A SIP session of this application session was invalidated. */
  sessionGone(session: SipSessionImpl): void {
    this.#sessions.delete(session.getId());
    this.checkReady();
  }

  addTimer(timer: OwnedTimer): void {
    this.#checkValid();
    (this.#timers ??= new Set()).add(timer);
    this.#readyNotified = false;
  }

  timerGone(timer: OwnedTimer): void {
    this.#timers?.delete(timer);
    this.checkReady();
  }

  /** An HTTP session of a converged app now belongs to this application session: it is not ready while that lives. */
  linkProtocolSession(id: string): void {
    this.#checkValid();
    (this.#protocolSessions ??= new Set()).add(id);
    this.#readyNotified = false;
  }

  /** That HTTP session ended (invalidated, expired) or moved to another application session. */
  unlinkProtocolSession(id: string): void {
    if (this.#protocolSessions?.delete(id) === true) this.checkReady();
  }

  /**
   * Something changed that may leave the session (or one of its SIP sessions)
   * ready to invalidate: checks it once the queued events have been handled.
   */
  checkReady(): void {
    if (!this.#valid || this.#checkQueued) return;
    this.#checkQueued = true;
    this.queue.runWhenIdle(() => this.#readyCheck());
  }

  /**
   * JSR 289 §6.1.2.2.2, §6.2.4.1.2: the container invalidates a ready session
   * once the servlet is done with the message; events queued meanwhile (the
   * response to a request just answered, a CANCEL) are handled first.
   */
  #readyCheck(): void {
    this.#checkQueued = false;
    if (!this.#valid) return;
    for (const session of [...this.#sessions.values()]) session.invalidateIfReady();
    if (!this.isReadyToInvalidate()) return;
    if (!this.#readyNotified) {
      this.#readyNotified = true;
      this.#events.appSessionReadyToInvalidate(this);
    }
    if (this.#invalidateWhenReady && this.isReadyToInvalidate()) this.invalidate();
  }

  #schedule(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (!this.#valid) return;
    const at = this.getExpirationTime();
    if (at === 0) return;
    this.#expiryTimer = setTimeout(() => this.#expire(), Math.max(0, at - Date.now()));
    this.#expiryTimer.unref?.();
  }

  #expire(): void {
    if (!this.#valid) return;
    const at = this.getExpirationTime();
    if (at === 0) return;
    if (at > Date.now()) {
      this.#schedule();
      return;
    }
    // Events already queued are activity: they run (and access the session) first.
    this.queue.runWhenIdle(async () => {
      if (!this.#valid) return;
      const before = this.getExpirationTime();
      if (before === 0 || before > Date.now()) {
        this.#schedule();
        return;
      }
      await this.#events.appSessionExpired(this);
      if (!this.#valid) return;
      const after = this.getExpirationTime();
      // JSR 289 §6.1.2.2: a listener may extend the session from sessionExpired.
      if (after === 0 || (after > Date.now() && after !== before)) this.#schedule();
      else this.invalidate();
    });
  }

  #checkValid(): void {
    if (!this.#valid) throw new IllegalStateError(`application session ${this.#id} of ${this.#name} was invalidated`);
  }
}
