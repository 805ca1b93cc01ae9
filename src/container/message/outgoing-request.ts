import {
  IllegalStateError,
  type Address,
  type B2buaHelper,
  type Proxy,
  type SipServletRequest,
  type SipServletResponse,
} from '../../api/index.js';
import { NameAddress, SipUri, type SipRequest, type Uri } from '../../sip/message/index.js';
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
