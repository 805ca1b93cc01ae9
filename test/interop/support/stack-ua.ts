/**
 * A minimal user agent built directly on Siplet's SIP stack (transport, message
 * and transaction layers, no container), for interop tests of the stack alone:
 * a UAS that answers INVITE with 180 and 200 (retransmitting the 200 until the
 * ACK, RFC 6026 §8.1) and BYE with 200, and a UAC that places INVITE / ACK / BYE
 * calls (re-sending its ACK when a 2xx is retransmitted, RFC 3261 §13.2.2.4).
 */
import { randomBytes } from 'node:crypto';
import { createResponse, NameAddress, SipRequest, SipUri, type SipResponse } from '../../../src/sip/message/index.js';
import {
  newBranch,
  TransactionLayer,
  type ClientTransaction,
  type ServerInviteTransaction,
} from '../../../src/sip/transaction/index.js';
import { MessageTransport, TcpTransport, TransportLayer, UdpTransport, type Destination, type Protocol } from '../../../src/sip/transport/index.js';

const tag = () => randomBytes(5).toString('hex');

export interface StackUaOptions {
  port: number;
  host?: string;
  t1?: number;
}

export class StackUa {
  readonly layer: TransportLayer;
  readonly messages: MessageTransport;
  readonly transactions: TransactionLayer;
  readonly host: string;
  readonly port: number;
  readonly #t1: number;
  /** UAS: 2xx retransmission timers by dialog key, stopped by the ACK. */
  readonly #pending2xx = new Map<string, NodeJS.Timeout>();
  /** UAC: the ACK sent for each dialog, re-sent when the 2xx is retransmitted. */
  readonly #acks = new Map<string, { ack: SipRequest; destination: Destination }>();
  /** Calls the UAS answered and saw ended with BYE. */
  answered = 0;
  ended = 0;

  constructor(options: StackUaOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port;
    this.#t1 = options.t1 ?? 500;
    this.layer = new TransportLayer();
    this.layer.add(new UdpTransport({ address: this.host, port: this.port, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 }));
    this.layer.add(new TcpTransport({ address: this.host, port: this.port }));
    this.messages = new MessageTransport({ layer: this.layer });
    this.transactions = new TransactionLayer({ sender: this.messages, timers: { t1: this.#t1 }, trying100: 'immediate' });
    this.messages.onRequest((r, s) => this.transactions.receiveRequest(r, s));
    this.messages.onResponse((r, s) => this.transactions.receiveResponse(r, s));
    this.transactions.onRequest((request, tx) => {
      if (request.method === 'INVITE' && tx.kind === 'server-invite') this.#answerInvite(request, tx);
      else if (request.method === 'BYE') {
        this.ended++;
        tx.respond(createResponse(request, 200));
      } else tx.respond(createResponse(request, request.method === 'CANCEL' ? 481 : 405));
    });
    this.transactions.onAck((ack) => {
      const key = ack.callId + '|' + (ack.to.tag ?? '');
      clearTimeout(this.#pending2xx.get(key));
      this.#pending2xx.delete(key);
    });
    // RFC 3261 §13.2.2.4: a retransmitted 2xx gets the same ACK again.
    this.transactions.onStrayResponse((response) => this.#reAck(response));
  }

  listen(): Promise<void> {
    return this.layer.listen();
  }

  async close(): Promise<void> {
    for (const t of this.#pending2xx.values()) clearTimeout(t);
    this.transactions.close();
    await this.layer.close();
  }

  #answerInvite(request: SipRequest, tx: ServerInviteTransaction): void {
    const toTag = tag();
    const contact = `<sip:uas@${this.host}:${this.port};transport=${tx.source.protocol}>`;
    const ringing = createResponse(request, 180, { toTag });
    ringing.add('Contact', contact);
    tx.respond(ringing);
    const ok = createResponse(request, 200, { toTag });
    ok.add('Contact', contact);
    tx.respond(ok);
    this.answered++;
    // RFC 6026 §8.1 / RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx until the ACK.
    const key = request.callId + '|' + toTag;
    let interval = this.#t1;
    const started = Date.now();
    const again = (): void => {
      if (Date.now() - started >= 64 * this.#t1) {
        this.#pending2xx.delete(key);
        return;
      }
      tx.respond(ok);
      interval = Math.min(interval * 2, 4000);
      this.#pending2xx.set(key, setTimeout(again, interval));
    };
    if (tx.source.protocol === 'udp') this.#pending2xx.set(key, setTimeout(again, interval));
  }

  /** Places one call: INVITE, ACK for the 2xx, BYE after `holdMs`; resolves with the BYE's status. */
  async call(target: { host: string; port: number; protocol: Protocol; user?: string }, holdMs = 10): Promise<number> {
    const uri = new SipUri({ user: target.user ?? 'service', host: target.host, port: target.port });
    if (target.protocol !== 'udp') uri.params.set('transport', target.protocol);
    const invite = new SipRequest('INVITE', uri);
    const from = new NameAddress(new SipUri({ user: 'stack', host: this.host, port: this.port }));
    from.tag = tag();
    invite.add('From', from.toString());
    invite.add('To', new NameAddress(uri.clone()).toString());
    invite.add('Call-ID', randomBytes(8).toString('hex') + '@' + this.host);
    invite.add('CSeq', '1 INVITE');
    invite.add('Max-Forwards', '70');
    invite.add('Contact', `<sip:stack@${this.host}:${this.port};transport=${target.protocol}>`);
    invite.setContent(Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n'), 'application/sdp');
    const destination = this.messages.prepareRequest(invite, { address: target.host, port: target.port, protocol: target.protocol }, newBranch());
    const ok = await this.#await(this.transactions.createClientTransaction(invite, destination), (r) => r.status >= 200);
    if (ok.status >= 300) return ok.status;
    const remoteTarget = ok.contact[0]?.uri;
    const next: Destination =
      remoteTarget instanceof SipUri
        ? { address: remoteTarget.hostname, port: remoteTarget.port ?? 5060, protocol: (remoteTarget.transport as Protocol | undefined) ?? target.protocol }
        : destination;
    const inDialog = (method: string, seq: number): SipRequest => {
      const r = new SipRequest(method, remoteTarget ?? uri);
      r.add('From', from.toString());
      r.add('To', ok.get('to') as string);
      r.add('Call-ID', invite.callId);
      r.add('CSeq', `${seq} ${method}`);
      r.add('Max-Forwards', '70');
      return r;
    };
    const ack = inDialog('ACK', 1);
    const ackDest = this.messages.prepareRequest(ack, next, newBranch());
    this.#acks.set(invite.callId + '|' + (ok.to.tag ?? ''), { ack, destination: ackDest });
    await this.messages.sendRequest(ack, ackDest);
    await new Promise((r) => setTimeout(r, holdMs));
    const bye = inDialog('BYE', 2);
    const byeDest = this.messages.prepareRequest(bye, next, newBranch());
    const byeResult = await this.#await(this.transactions.createClientTransaction(bye, byeDest), (r) => r.status >= 200);
    // Keep answering 2xx retransmissions for a while, then forget the ACK.
    setTimeout(() => this.#acks.delete(invite.callId + '|' + (ok.to.tag ?? '')), 64 * this.#t1).unref();
    return byeResult.status;
  }

  #reAck(response: SipResponse): void {
    if (response.cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300) return;
    const sent = this.#acks.get(response.callId + '|' + (response.to.tag ?? ''));
    if (sent) void this.messages.sendRequest(sent.ack, sent.destination).catch(() => {});
  }

  #await(tx: ClientTransaction, done: (r: SipResponse) => boolean): Promise<SipResponse> {
    return new Promise((resolve, reject) => {
      tx.onResponse((r) => {
        if (done(r)) {
          resolve(r);
          // The 2xx for INVITE moves the transaction to Accepted: later 2xx come here too.
          if (r.cseq.method === 'INVITE' && r.status < 300) tx.onResponse((again) => this.#reAck(again));
        }
      });
      tx.onTimeout(() => reject(new Error(`${tx.method} timed out`)));
      tx.onTransportError((e) => reject(e));
    });
  }
}
