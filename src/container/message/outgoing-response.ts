import { IllegalStateError, type Proxy, type SipServletRequest, type SipServletResponse } from '../../api/index.js';
import { reasonPhrase, type SipResponse } from '../../sip/message/index.js';
import type { SipSessionImpl } from '../session/index.js';
import type { IncomingRequest } from './incoming-request.js';
import type { MessageRuntime } from './message-runtime.js';
import { ServletMessage } from './servlet-message.js';

/** A response the application creates to a received request (UAS side). */
export class OutgoingResponse extends ServletMessage implements SipServletResponse {
  declare readonly message: SipResponse;
  readonly #request: IncomingRequest;
  readonly #runtime: MessageRuntime;
  /**
   * A further 2xx to an INVITE already answered 2xx, in a derived session of its own
   * (a forked answer relayed by a B2BUA, JSR 289 createResponseToOriginalRequest).
   */
  readonly additional: boolean;

  constructor(init: { response: SipResponse; request: IncomingRequest; session: SipSessionImpl; runtime: MessageRuntime; additional?: boolean }) {
    super(init.response, init.session, init.request.source);
    this.#request = init.request;
    this.#runtime = init.runtime;
    this.additional = init.additional === true;
  }

  getMethod(): string {
    return this.message.cseq.method;
  }

  getStatus(): number {
    return this.message.status;
  }

  getReasonPhrase(): string {
    return this.message.reason;
  }

  setStatus(status: number, reason?: string): void {
    this.checkModifiable();
    if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`status must be 100-699, got ${status}`);
    this.message.status = status;
    this.message.reason = reason ?? reasonPhrase(status);
  }

  getRequest(): IncomingRequest {
    return this.#request;
  }

  async send(): Promise<void> {
    this.checkModifiable();
    if (this.#request.isCommitted() && !this.additional) {
      throw new IllegalStateError(`${this.#request.getMethod()} was already answered with a final response; this ${this.getStatus()} cannot be sent`);
    }
    this.commit();
    await this.#runtime.sendResponse(this);
  }

  async sendReliably(): Promise<void> {
    this.checkModifiable();
    const status = this.getStatus();
    if (status <= 100 || status >= 200 || this.#request.getMethod() !== 'INVITE') {
      throw new IllegalStateError('only a 101-199 response to INVITE can be sent reliably (RFC 3262)');
    }
    this.commit();
    await this.#runtime.sendReliably(this);
  }

  createAck(): SipServletRequest {
    throw new IllegalStateError('createAck applies to responses received by a UAC, not to responses this application sends');
  }

  createPrack(): SipServletRequest {
    throw new IllegalStateError('createPrack applies to reliable provisional responses received by a UAC');
  }

  isBranchResponse(): boolean {
    return false;
  }

  getProxy(): Proxy {
    return this.#request.getProxy(false);
  }

  protected describe(): string {
    return `${this.getStatus()} response to ${this.#request.getMethod()}`;
  }
}
