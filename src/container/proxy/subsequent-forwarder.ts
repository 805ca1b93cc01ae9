import { createResponse, SipUri, type SipRequest, type SipResponse } from '../../sip/message/index.js';
import { newBranch, type ServerTransaction } from '../../sip/transaction/index.js';
import type { Destination } from '../../sip/transport/index.js';
import { IncomingResponse, OutgoingRequest, type IncomingRequest } from '../message/index.js';
import type { ProxyHost } from './proxy-impl.js';

/**
 * Forwards requests that arrive through a Record-Route this server inserted
 * (RFC 3261 §16.12 loose routing): once the proxy application has seen them,
 * they go on statefully to the next Route or the Request-URI, and their
 * responses come back to the app and upstream. An ACK goes on statelessly;
 * so does a request whose session no longer exists (a plain proxy hop).
 */
export class SubsequentForwarder {
  readonly #host: ProxyHost;

  constructor(host: ProxyHost) {
    this.#host = host;
  }

  /** Forwards a subsequent request of a proxied dialog after the app's handler ran. */
  forward(request: IncomingRequest): void {
    const tx = request.transaction as ServerTransaction | undefined;
    const msg = request.message.clone();
    const mf = msg.maxForwards ?? 70;
    if (mf <= 0) {
      if (tx) tx.respond(createResponse(request.message, 483));
      return;
    }
    msg.set('Max-Forwards', String(mf - 1));
    void this.#send(msg, tx, request);
  }

  /** Forwards a request no session takes (the dialog ended here, or an ACK): a stateless-looking hop. */
  relay(request: SipRequest, tx: ServerTransaction | undefined): void {
    const msg = request.clone();
    const mf = msg.maxForwards ?? 70;
    if (mf <= 0) {
      if (tx) tx.respond(createResponse(request, 483));
      return;
    }
    msg.set('Max-Forwards', String(mf - 1));
    void this.#send(msg, tx, undefined);
  }

  async #send(msg: SipRequest, tx: ServerTransaction | undefined, request: IncomingRequest | undefined): Promise<void> {
    const hop = msg.route[0]?.uri ?? msg.uri;
    let targets: Destination[] = [];
    if (hop instanceof SipUri) targets = await this.#host.network.resolve(hop).catch(() => []);
    const session = request?.getSession();
    const done = (): void => {
      if (session === undefined) return;
      session.transactionEnded();
    };
    if (targets.length === 0) {
      if (tx) tx.respond(createResponse(msg, 404, { reason: `Not Found (cannot resolve ${hop.toString()})` }));
      done();
      return;
    }
    const destination = this.#host.network.prepareRequest(msg, targets[0] as Destination, newBranch());
    if (msg.method === 'ACK') {
      await this.#host.network.sendRequest(msg, destination).catch((error: unknown) => this.#host.log.debug({ err: error }, 'could not forward an ACK'));
      return;
    }
    let client;
    try {
      client = this.#host.transactions.createClientTransaction(msg, destination);
    } catch (error) {
      this.#host.log.warn({ err: error }, 'could not forward a request');
      if (tx) tx.respond(createResponse(msg, 503));
      done();
      return;
    }
    let finished = false;
    const upstream = (response: SipResponse): void => {
      const copy = response.clone();
      copy.removeFirst('via');
      tx?.respond(copy);
      if (response.status >= 200 && !finished) {
        finished = true;
        if (session !== undefined && msg.method === 'BYE' && response.status < 300) session.setState('TERMINATED');
        done();
      }
    };
    client.onResponse((response) => {
      if (response.status === 100) return;
      if (finished && response.status >= 200) {
        upstream(response);
        return;
      }
      if (request === undefined || session === undefined) {
        upstream(response);
        return;
      }
      const outgoing = new OutgoingRequest({ request: msg, session, runtime: this.#host.runtime, kind: 'proxied' });
      const wrapper = new IncomingResponse({ response, request: outgoing, session, runtime: this.#host.runtime });
      this.#host.enqueue(session, async () => {
        await this.#host.invokeResponse(wrapper);
        upstream(response);
      });
    });
    client.onTimeout(() => upstream(createResponse(msg, 408)));
    client.onTransportError(() => upstream(createResponse(msg, 503)));
  }
}
