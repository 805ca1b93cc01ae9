import {
  IllegalStateError,
  type Address,
  type B2buaHelper,
  type Proxy,
  type SipServletRequest,
  type SipServletResponse,
} from '../../api/index.js';
import { createResponse, type SipRequest, type Uri } from '../../sip/message/index.js';
import type { MessageSource } from '../../sip/transport/index.js';
import type { SipSessionImpl } from '../session/index.js';
import type { MessageRuntime } from './message-runtime.js';
import { OutgoingResponse } from './outgoing-response.js';
import { ServletMessage } from './servlet-message.js';

export interface IncomingRequestInit {
  request: SipRequest;
  /** Undefined only while the application key is computed (JSR 289 §15.11.2); `attach` sets it. */
  session: SipSessionImpl | undefined;
  source: MessageSource;
  runtime: MessageRuntime;
  initial: boolean;
  /** The server transaction it arrived in (opaque here; the runtime uses it). */
  transaction: unknown;
  poppedRoute?: Address;
  subscriberUri?: Uri;
  routingRegion?: 'ORIGINATING' | 'TERMINATING' | 'NEUTRAL';
}

/** The roles of a request without an authenticated user: one set for all of them. */
const NO_ROLES: ReadonlySet<string> = new Set();

/**
 * A request received by the container (UAS side): answer it with
 * `createResponse(...).send()`, or relay it with `getProxy()` or
 * `getB2buaHelper()`. It is committed once a final response was sent.
 */
export class IncomingRequest extends ServletMessage implements SipServletRequest {
  declare readonly message: SipRequest;
  readonly #runtime: MessageRuntime;
  readonly #initial: boolean;
  readonly transaction: unknown;
  readonly #poppedRoute: Address | undefined;
  readonly #subscriberUri: Uri | undefined;
  readonly #region: 'ORIGINATING' | 'TERMINATING' | 'NEUTRAL' | undefined;
  /** Set by the container once digest authentication succeeded. */
  userPrincipal: string | undefined;
  roles: ReadonlySet<string> = NO_ROLES;
  /** The final response sent, if any. */
  finalResponse: OutgoingResponse | undefined;
  /** CANCEL already received for this INVITE (the container answered 487). */
  cancelled = false;

  constructor(init: IncomingRequestInit) {
    super(init.request, init.session, init.source);
    this.#runtime = init.runtime;
    this.#initial = init.initial;
    this.transaction = init.transaction;
    this.#poppedRoute = init.poppedRoute;
    this.#subscriberUri = init.subscriberUri;
    this.#region = init.routingRegion;
  }

  getMethod(): string {
    return this.message.method;
  }

  /** Gives the request the session created for it after the application key was computed. */
  attach(session: SipSessionImpl): void {
    this.rebind(session);
  }

  getRequestURI(): Uri {
    return this.message.uri.clone();
  }

  setRequestURI(uri: Uri): void {
    this.checkModifiable();
    this.message.uri = uri.clone();
  }

  isInitial(): boolean {
    return this.#initial;
  }

  getMaxForwards(): number {
    return this.message.maxForwards ?? 70;
  }

  setMaxForwards(n: number): void {
    this.checkModifiable();
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new RangeError(`Max-Forwards must be 0-255, got ${n}`);
    this.message.set('Max-Forwards', String(n));
  }

  createResponse(status: number, reason?: string): SipServletResponse {
    if (this.message.method === 'ACK') throw new IllegalStateError('an ACK is never answered');
    if (this.cancelled) {
      throw new IllegalStateError(`the ${this.message.method} was cancelled: the container answered it 487 when the CANCEL came; a response can no longer be sent`);
    }
    if (this.message.method === 'CANCEL') throw new IllegalStateError('the container answers CANCEL itself (JSR 289 §11.2.4.1); handle it in doCancel without responding');
    if (this.isCommitted()) {
      throw new IllegalStateError(`${this.message.method} was already answered with a final response (${this.finalResponse?.getStatus() ?? '?'}); no further response can be sent`);
    }
    if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`status must be 100-699, got ${status}`);
    const session = this.getSession();
    const res = createResponse(this.message, status, { reason, toTag: status > 100 ? session.localTag : undefined });
    return new OutgoingResponse({ response: res, request: this, session, runtime: this.#runtime });
  }

  send(): Promise<void> {
    return Promise.reject(new IllegalStateError('a received request cannot be sent; relay it with getProxy() or getB2buaHelper()'));
  }

  createCancel(): SipServletRequest {
    throw new IllegalStateError('only a request this application sent can be cancelled');
  }

  pushRoute(_uri: Uri | Address): void {
    throw new IllegalStateError('pushRoute applies to requests this application sends or proxies; use getProxy() first');
  }

  getPoppedRoute(): Address | undefined {
    return this.#poppedRoute?.clone();
  }

  getInitialPoppedRoute(): Address | undefined {
    return this.#poppedRoute?.clone();
  }

  getProxy(create = true): Proxy {
    return this.#runtime.getProxy(this, create);
  }

  getB2buaHelper(): B2buaHelper {
    return this.#runtime.getB2buaHelper(this);
  }

  getSubscriberURI(): Uri | undefined {
    return this.#subscriberUri?.clone();
  }

  getRoutingRegion(): 'ORIGINATING' | 'TERMINATING' | 'NEUTRAL' | undefined {
    return this.#region;
  }

  getUserPrincipal(): string | undefined {
    return this.userPrincipal;
  }

  isUserInRole(role: string): boolean {
    return this.roles.has(role);
  }

  addAuthHeader(): void {
    throw new IllegalStateError('addAuthHeader applies to requests this application sends; a received request is answered, not retried');
  }

  protected describe(): string {
    return `received ${this.message.method}`;
  }
}
