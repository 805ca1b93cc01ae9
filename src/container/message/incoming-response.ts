import { IllegalStateError, type Proxy, type SipServletRequest, type SipServletResponse } from '../../api/index.js';
import type { SipResponse } from '../../sip/message/index.js';
import type { MessageSource } from '../../sip/transport/index.js';
import type { SipSessionImpl } from '../session/index.js';
import type { MessageRuntime } from './message-runtime.js';
import type { OutgoingRequest } from './outgoing-request.js';
import { ServletMessage } from './servlet-message.js';

/** A response received to a request the application sent (UAC side). */
export class IncomingResponse extends ServletMessage implements SipServletResponse {
  declare readonly message: SipResponse;
  readonly #request: OutgoingRequest;
  readonly #runtime: MessageRuntime;
  readonly #branch: boolean;
  readonly #proxy: Proxy | undefined;

  constructor(init: {
    response: SipResponse;
    request: OutgoingRequest;
    session: SipSessionImpl;
    runtime: MessageRuntime;
    source?: MessageSource;
    branchResponse?: boolean;
    /** Set for responses to proxy branches: what getProxy() returns. */
    proxy?: Proxy;
  }) {
    super(init.response, init.session, init.source);
    this.#request = init.request;
    this.#runtime = init.runtime;
    this.#branch = init.branchResponse === true;
    this.#proxy = init.proxy;
    // A received response cannot be changed.
    this.commit();
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

  setStatus(): void {
    throw new IllegalStateError('a received response cannot be changed');
  }

  getRequest(): OutgoingRequest {
    return this.#request;
  }

  send(): Promise<void> {
    return Promise.reject(new IllegalStateError('a received response is not sent by a UAC; acknowledge a 2xx with createAck().send()'));
  }

  sendReliably(): Promise<void> {
    return Promise.reject(new IllegalStateError('a received response cannot be sent reliably'));
  }

  createAck(): SipServletRequest {
    const status = this.getStatus();
    if (this.getMethod() !== 'INVITE' || status < 200 || status >= 300) {
      throw new IllegalStateError('createAck applies to 2xx responses to INVITE; the container acknowledges other final responses itself');
    }
    return this.#runtime.createAck(this);
  }

  createPrack(): SipServletRequest {
    if (this.getStatus() >= 200 || this.getStatus() === 100 || !this.message.has('rseq')) {
      throw new IllegalStateError('createPrack applies to reliable provisional responses (101-199 with RSeq)');
    }
    return this.#runtime.createPrack(this);
  }

  isBranchResponse(): boolean {
    return this.#branch;
  }

  getProxy(): Proxy {
    if (this.#proxy === undefined) throw new IllegalStateError('this response belongs to a request the application sent, not to a proxy');
    return this.#proxy;
  }

  /** Moves the response to the derived session of a forked dialog. */
  moveTo(session: SipSessionImpl): void {
    this.rebind(session);
  }

  protected describe(): string {
    return `received ${this.getStatus()} response`;
  }
}
