import { IllegalStateError, type Address, type SipServletRequest, type SipSession, type SipSessionState } from '../../api/index.js';
import type { Dialog } from '../../dialog/index.js';
import { randomText } from '../../util/index.js';
import type { ApplicationSessionImpl } from './application-session.js';
import { Attributes } from './attributes.js';
import type { SessionEvents } from './session-events.js';

/** How the container builds requests inside a session's dialog (kept out of the session itself). */
export interface SessionRequestFactory {
  createInDialogRequest(session: SipSessionImpl, method: string): SipServletRequest;
}

export type SessionRole = 'UAC' | 'UAS' | 'PROXY';

export interface SipSessionOptions {
  appSession: ApplicationSessionImpl;
  callId: string;
  /** Our side (From for a UAC, To for a UAS), with our tag when known. */
  localParty: Address;
  remoteParty: Address;
  role: SessionRole;
  handler: string;
  events: SessionEvents;
  requests: SessionRequestFactory;
  /** Set for sessions derived from forked responses (JSR 289 §6.2.3.2). */
  derivedFrom?: SipSessionImpl;
}

/**
 * A SIP session (JSR 289 §6.2): one dialog, or one standalone transaction, of
 * one application. Tracks the JSR state machine (INITIAL, EARLY, CONFIRMED,
 * TERMINATED), the transactions still running in it, and is invalidated when
 * ready (JSR 289 1.1 default) once its dialog ended and nothing is pending,
 * checked by its application session after the current event (see there).
 */
export class SipSessionImpl implements SipSession {
  readonly #id: string;
  readonly #appSession: ApplicationSessionImpl;
  readonly #callId: string;
  readonly #events: SessionEvents;
  readonly #requests: SessionRequestFactory;
  /** Made on the first attribute set: most sessions have none. */
  #attributes: Attributes | undefined;
  readonly #created = Date.now();
  /** UAC or UAS as created; PROXY once the application proxies the session's initial request. */
  role: SessionRole;
  readonly derivedFrom: SipSessionImpl | undefined;
  #localParty: Address;
  #remoteParty: Address;
  #state: SipSessionState = 'INITIAL';
  #handler: string;
  #lastAccessed = this.#created;
  #valid = true;
  #invalidateWhenReady = true;
  #pending = 0;
  /** True once a transaction of this session completed: a standalone session is then done. */
  #hadTransaction = false;
  #readyNotified = false;
  dialog: Dialog | undefined;
  /** Container bookkeeping that must not leak to the app (proxy, B2BUA links, router state). */
  readonly internal = new Map<string, unknown>();

  constructor(options: SipSessionOptions) {
    this.#id = randomText(9, 'base64url');
    this.#appSession = options.appSession;
    this.#callId = options.callId;
    this.#localParty = options.localParty;
    this.#remoteParty = options.remoteParty;
    this.role = options.role;
    this.#handler = options.handler;
    this.#events = options.events;
    this.#requests = options.requests;
    this.derivedFrom = options.derivedFrom;
    options.appSession.addSession(this);
  }

  getId(): string {
    return this.#id;
  }

  getState(): SipSessionState {
    return this.#state;
  }

  getCallId(): string {
    return this.#callId;
  }

  getLocalParty(): Address {
    return this.#localParty.clone();
  }

  getRemoteParty(): Address {
    return this.#remoteParty.clone();
  }

  getApplicationSession(): ApplicationSessionImpl {
    return this.#appSession;
  }

  createRequest(method: string): SipServletRequest {
    this.#checkValid();
    if (method === 'ACK' || method === 'CANCEL') {
      throw new IllegalStateError(`create ${method} from the response (createAck) or the request (createCancel), not from the session`);
    }
    if (this.dialog === undefined || this.#state === 'TERMINATED') {
      throw new IllegalStateError(`session ${this.#id} has no dialog to send ${method} in (state ${this.#state}); use SipFactory.createRequest for a new one`);
    }
    return this.#requests.createInDialogRequest(this, method);
  }

  setHandler(servletName: string): void {
    this.#checkValid();
    this.#handler = servletName;
  }

  getHandler(): string {
    return this.#handler;
  }

  getAttribute<T = unknown>(name: string): T | undefined {
    return this.#attributes?.get<T>(name);
  }

  setAttribute(name: string, value: unknown): void {
    this.#checkValid();
    (this.#attributes ??= new Attributes((change, key, v) => this.#events.sessionAttribute(this, change, key, v))).set(name, value);
  }

  removeAttribute(name: string): void {
    this.#checkValid();
    this.#attributes?.remove(name);
  }

  getAttributeNames(): string[] {
    return this.#attributes?.names() ?? [];
  }

  isValid(): boolean {
    return this.#valid;
  }

  invalidate(): void {
    if (!this.#valid) return;
    this.#valid = false;
    this.#state = 'TERMINATED';
    this.#events.sessionDestroyed(this);
    this.#attributes?.clear();
    this.internal.clear();
    this.#appSession.sessionGone(this);
  }

  setInvalidateWhenReady(flag: boolean): void {
    this.#checkValid();
    this.#invalidateWhenReady = flag;
    if (flag) this.checkReady();
  }

  getInvalidateWhenReady(): boolean {
    return this.#invalidateWhenReady;
  }

  /**
   * JSR 289 §6.2.4.1.2: ready when no transaction is pending and either the
   * dialog ended (TERMINATED) or the session never got a dialog and its
   * transaction is over (INITIAL after a standalone request).
   */
  isReadyToInvalidate(): boolean {
    if (!this.#valid || this.#pending > 0) return false;
    return this.#state === 'TERMINATED' || (this.#state === 'INITIAL' && this.#hadTransaction);
  }

  getCreationTime(): number {
    return this.#created;
  }

  getLastAccessedTime(): number {
    return this.#lastAccessed;
  }

  // ---- container side ---------------------------------------------------------

  /** The local tag (From tag for a UAC, To tag for a UAS), once known. */
  get localTag(): string | undefined {
    return this.#localParty.tag;
  }

  get remoteTag(): string | undefined {
    return this.#remoteParty.tag;
  }

  setRemoteTag(tag: string): void {
    this.#remoteParty.tag = tag;
  }

  setLocalTag(tag: string): void {
    this.#localParty.tag = tag;
  }

  access(): void {
    this.#lastAccessed = Date.now();
    this.#appSession.access();
  }

  setState(state: SipSessionState): void {
    if (!this.#valid || this.#state === state) return;
    this.#state = state;
    if (state !== 'TERMINATED') this.#readyNotified = false;
    this.checkReady();
  }

  /** A transaction of this session started (client sent, or server received). */
  transactionStarted(): void {
    this.#pending++;
  }

  /** That transaction is over for the session (final response sent or received, or it failed). */
  transactionEnded(): void {
    if (this.#pending > 0) this.#pending--;
    this.#hadTransaction = true;
    this.checkReady();
  }

  /** The session may have become ready: its application session checks it once the queued events are handled. */
  checkReady(): void {
    if (this.isReadyToInvalidate()) this.#appSession.checkReady();
  }

  /** Tells the listeners the session is ready, then invalidates it unless the app turned that off (from the app session's queue). */
  invalidateIfReady(): void {
    if (!this.isReadyToInvalidate()) return;
    if (!this.#readyNotified) {
      this.#readyNotified = true;
      this.#events.sessionReadyToInvalidate(this);
    }
    if (this.#invalidateWhenReady && this.isReadyToInvalidate()) this.invalidate();
  }

  #checkValid(): void {
    if (!this.#valid) throw new IllegalStateError(`SIP session ${this.#id} was invalidated`);
  }
}

export function newSessionTag(): string {
  return randomText(6, 'hex');
}
