import {
  IllegalStateError,
  type Address,
  type AuthInfo,
  type B2buaHelper,
  type Proxy,
  type SipServletRequest,
  type SipServletResponse,
} from '../../api/index.js';
import { NameAddress, SipUri, type SipRequest, type Uri } from '../../sip/message/index.js';
import { answerChallenges, parseAuthParams } from '../auth/index.js';
import type { SipSessionImpl } from '../session/index.js';
import type { MessageRuntime } from './message-runtime.js';
import { ServletMessage } from './servlet-message.js';

export type OutgoingKind = 'initial' | 'subsequent' | 'ack' | 'cancel' | 'prack' | 'proxied';

/**
 * A request the application sends (UAC side): a new request from the
 * SipFactory, a request inside a dialog from `SipSession.createRequest`, an ACK
 * from `createAck`, a CANCEL from `createCancel`. Committed once sent.
 */
export class OutgoingRequest extends ServletMessage implements SipServletRequest {
  declare readonly message: SipRequest;
  readonly #runtime: MessageRuntime;
  readonly kind: OutgoingKind;
  /** For a CANCEL: the INVITE it cancels. */
  readonly cancels: OutgoingRequest | undefined;
  /** Set by the runtime once sent: the client transaction (opaque here). */
  transaction: unknown;
  /** Set by the runtime: the final response received, if any. */
  finalResponse: SipServletResponse | undefined;
  /** Set by the runtime once a provisional response arrived. */
  provisionalReceived = false;
  /**
   * Contact the container fills in (JSR 289 §4.1.3, B2BUA header maps): its user part,
   * display name and parameters are used; host, port and transport are the container's.
   */
  contactTemplate: Address | undefined;
  /** Set by the runtime: the app gave no Contact, the container writes it for each destination tried. */
  autoContact = false;

  constructor(init: { request: SipRequest; session: SipSessionImpl; runtime: MessageRuntime; kind: OutgoingKind; cancels?: OutgoingRequest }) {
    super(init.request, init.session);
    this.#runtime = init.runtime;
    this.kind = init.kind;
    this.cancels = init.cancels;
  }

  getMethod(): string {
    return this.message.method;
  }

  getRequestURI(): Uri {
    return this.message.uri.clone();
  }

  setRequestURI(uri: Uri): void {
    this.checkModifiable();
    this.message.uri = uri.clone();
  }

  isInitial(): boolean {
    return this.kind === 'initial';
  }

  getMaxForwards(): number {
    return this.message.maxForwards ?? 70;
  }

  setMaxForwards(n: number): void {
    this.checkModifiable();
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new RangeError(`Max-Forwards must be 0-255, got ${n}`);
    this.message.set('Max-Forwards', String(n));
  }

  createResponse(): SipServletResponse {
    throw new IllegalStateError('a request this application sends cannot be answered by it');
  }

  async send(): Promise<void> {
    if (this.kind === 'proxied') throw new IllegalStateError('a proxy branch request is sent by the proxy: call startProxy() or proxyTo()');
    this.checkModifiable();
    this.commit();
    if (this.kind === 'cancel' && this.cancels !== undefined) {
      await this.#runtime.cancel(this.cancels);
      return;
    }
    await this.#runtime.sendRequest(this);
  }

  createCancel(): SipServletRequest {
    if (this.message.method !== 'INVITE') throw new IllegalStateError('only an INVITE can be cancelled');
    if (!this.isCommitted()) throw new IllegalStateError('the INVITE was not sent yet; there is nothing to cancel');
    if (this.finalResponse !== undefined) throw new IllegalStateError(`the INVITE already got a final response (${this.finalResponse.getStatus()}); send BYE instead`);
    const cancel = this.message.clone();
    cancel.method = 'CANCEL';
    cancel.set('CSeq', `${this.message.cseq.seq} CANCEL`);
    cancel.remove('content-type');
    cancel.body = Buffer.alloc(0);
    return new OutgoingRequest({ request: cancel, session: this.getSession(), runtime: this.#runtime, kind: 'cancel', cancels: this });
  }

  pushRoute(uri: Uri | Address): void {
    this.checkModifiable();
    const address = uri instanceof NameAddress ? uri.clone() : new NameAddress((uri as Uri).clone());
    // Loose routing (RFC 3261 §16.12): our pushed routes always carry lr.
    if (address.uri instanceof SipUri && !address.uri.lr) address.uri.params.set('lr', null);
    this.message.add('Route', address.toString(), { first: true });
  }

  getPoppedRoute(): Address | undefined {
    return undefined;
  }

  getInitialPoppedRoute(): Address | undefined {
    return undefined;
  }

  getProxy(): Proxy {
    throw new IllegalStateError('a request this application sends cannot be proxied; getProxy() applies to received initial requests');
  }

  getB2buaHelper(): B2buaHelper {
    return this.#runtime.getB2buaHelper(this);
  }

  getSubscriberURI(): Uri | undefined {
    return undefined;
  }

  getRoutingRegion(): undefined {
    return undefined;
  }

  getUserPrincipal(): undefined {
    return undefined;
  }

  addAuthHeader(challenge: SipServletResponse, authInfo: AuthInfo): void;
  addAuthHeader(challenge: SipServletResponse, username: string, password: string): void;
  addAuthHeader(challenge: SipServletResponse, authInfoOrUser: AuthInfo | string, password?: string): void {
    this.checkModifiable();
    const status = challenge.getStatus();
    if (status !== 401 && status !== 407) throw new TypeError(`addAuthHeader answers a 401 or 407 challenge, not a ${status} response`);
    const credentialsFor =
      typeof authInfoOrUser === 'string'
        ? () => ({ username: authInfoOrUser, password: password ?? '' })
        : (realm: string) => {
            const info = authInfoOrUser.get(realm);
            return info !== undefined && info.status === status ? info : undefined;
          };
    const { answers, missing } = answerChallenges({
      challenges: challenge.getHeaders(status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'),
      method: this.message.method,
      uri: this.message.uriText,
      credentialsFor,
    });
    if (answers.length === 0) {
      throw new IllegalStateError(
        missing.length > 0
          ? `no credentials for the realm(s) challenged (${missing.map((r) => `"${r}"`).join(', ')}): add them with authInfo.addAuthInfo(${status}, realm, username, password)`
          : `the ${status} response carries no digest challenge Siplet can answer (SHA-256 or MD5, qop auth)`,
      );
    }
    // A retry replaces the credentials it had for the same realms (RFC 3261 §22.2).
    const header = status === 401 ? 'Authorization' : 'Proxy-Authorization';
    const realms = new Set(answers.map((a) => a.realm));
    const kept = this.message.getAll(header).filter((value) => !realms.has(parseAuthParams(value)?.params.get('realm') ?? ''));
    this.message.remove(header);
    for (const value of kept) this.message.add(header, value);
    for (const { value } of answers) this.message.add(header, value);
  }

  isUserInRole(): boolean {
    return false;
  }

  protected override fromToWritable(): boolean {
    return this.kind === 'initial';
  }

  protected describe(): string {
    return `${this.message.method} request`;
  }
}
