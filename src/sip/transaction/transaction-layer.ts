import { createResponse, type SipRequest, type SipResponse, type Via } from '../message/index.js';
import type { Destination, Protocol } from '../transport/index.js';
import { createCancelRequest } from './cancel-request.js';
import { ClientInviteTransaction } from './client-invite.js';
import { ClientNonInviteTransaction } from './client-non-invite.js';
import { clientKey, requestKey, responseKey, rfc2543Key } from './matching.js';
import { ServerInviteTransaction, type Trying100 } from './server-invite.js';
import { ServerNonInviteTransaction } from './server-non-invite.js';
import { deriveTimers, type TimerBase, type TransactionTimers } from './timers.js';
import {
  newCounters,
  silentTransactionLogger,
  type Transaction,
  type TransactionContext,
  type TransactionCounters,
  type TransactionLogger,
} from './transaction.js';
import type { MessageSender, MessageSource } from './transaction-transport.js';

export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;
export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;
export type AnyTransaction = ClientTransaction | ServerTransaction;

/**
 * A request that created a server transaction. The TU answers through `transaction.respond()`.
 * For a CANCEL, `transaction.kind === 'server-non-invite'` and `transaction.cancelled` is the INVITE
 * server transaction it matches, or `undefined` (answer 481, RFC 3261 §9.2).
 */
export type RequestHandler = (request: SipRequest, transaction: ServerTransaction, source: MessageSource) => void;
/** An ACK that is the TU's: one for a 2xx (RFC 3261 §17.2.3 matches it to no transaction), or one RFC 6026 §7.1 passes up. */
export type AckHandler = (ack: SipRequest, source: MessageSource) => void;
/**
 * A response that matches no client transaction: 2xx retransmissions after the transaction ended,
 * responses a stateless proxy forwards. A transaction-stateful proxy must not forward late
 * responses to non-INVITE requests (RFC 4320 §4.2).
 */
export type StrayResponseHandler = (response: SipResponse, source: MessageSource) => void;

export interface TransactionLayerOptions {
  /** How messages go down to the transports. */
  sender: MessageSender;
  /** T1, T2, T4 in ms. Default `{ t1: 500, t2: 4000, t4: 5000 }`; every timer derives from them. */
  timers?: Partial<TimerBase>;
  /**
   * When an INVITE server transaction sends 100 Trying on its own (RFC 3261 §17.2.1): `'delayed'`
   * (default) if the TU has not answered within 200 ms, `'immediate'` as soon as the INVITE arrives.
   */
  trying100?: Trying100;
  /** Default: silent. */
  logger?: TransactionLogger;
}

/**
 * The RFC 3261 §17 transaction layer: matches incoming messages to transactions, creates server
 * transactions for new requests, runs client transactions for the TU, and drops every transaction
 * when it terminates.
 *
 * The layer above registers its handlers once (`onRequest`, `onAck`, `onStrayResponse`; each call
 * replaces the previous handler) and feeds it every parsed message with `receive`.
 *
 * @example
 * const transactions = new TransactionLayer({ sender, logger: forLayer(logger, 'transaction') });
 * transactions.onRequest((request, tx) => tx.respond(createResponse(request, 200, { toTag: 'x' })));
 * transport.onMessage((message, source) => transactions.receive(message, source));
 */
export class TransactionLayer {
  /** Live counters; read them, do not write them. */
  readonly counters: Readonly<TransactionCounters>;
  /** The derived timers, per kind of transport. */
  readonly timers: { readonly unreliable: TransactionTimers; readonly reliable: TransactionTimers };
  readonly #sender: MessageSender;
  readonly #logger: TransactionLogger;
  readonly #trying100: Trying100;
  readonly #mutableCounters: TransactionCounters;
  readonly #unreliable: TransactionContext;
  readonly #reliable: TransactionContext;
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #servers = new Map<string, ServerTransaction>();
  readonly #cancels = new WeakMap<ClientInviteTransaction, Promise<ClientNonInviteTransaction | undefined>>();
  #onRequest: RequestHandler;
  #onAck: AckHandler;
  #onStrayResponse: StrayResponseHandler;

  constructor(options: TransactionLayerOptions) {
    this.#sender = options.sender;
    this.#logger = options.logger ?? silentTransactionLogger;
    this.#trying100 = options.trying100 ?? 'delayed';
    if (this.#trying100 !== 'immediate' && this.#trying100 !== 'delayed') {
      throw new RangeError(`trying100 must be 'immediate' or 'delayed', got ${String(options.trying100)}.`);
    }
    const base = options.timers ?? {};
    this.timers = { unreliable: deriveTimers(base, false), reliable: deriveTimers(base, true) };
    this.#mutableCounters = newCounters();
    this.counters = this.#mutableCounters;
    const ended = (transaction: Transaction): void => this.#forget(transaction);
    const passAck = (ack: SipRequest, source: MessageSource): void => this.#deliverAck(ack, source);
    const shared = { sender: this.#sender, logger: this.#logger, counters: this.#mutableCounters, ended, passAck };
    this.#unreliable = { ...shared, timers: this.timers.unreliable };
    this.#reliable = { ...shared, timers: this.timers.reliable };
    this.#onRequest = (request, transaction) => {
      this.#logger.warn({ method: request.method }, 'no request handler registered; answering 503');
      transaction.respond(createResponse(request, 503));
    };
    this.#onAck = () => {};
    this.#onStrayResponse = () => {};
  }

  /** Transactions alive now (client and server). */
  get size(): number {
    return this.#clients.size + this.#servers.size;
  }

  /** Sets the handler for requests that create a server transaction (CANCEL included). */
  onRequest(handler: RequestHandler): void {
    this.#onRequest = handler;
  }

  /** Sets the handler for ACKs that belong to the TU (2xx ACKs). */
  onAck(handler: AckHandler): void {
    this.#onAck = handler;
  }

  /** Sets the handler for responses that match no client transaction. */
  onStrayResponse(handler: StrayResponseHandler): void {
    this.#onStrayResponse = handler;
  }

  /** Feeds one parsed message from the transport layer. */
  receive(message: SipRequest | SipResponse, source: MessageSource): void {
    if (message.isRequest) this.receiveRequest(message, source);
    else this.receiveResponse(message, source);
  }

  /**
   * RFC 3261 §17.2.3: a retransmission is absorbed by its server transaction (which repeats its last
   * response), an ACK goes to its INVITE transaction or to `onAck`, anything else creates a server
   * transaction and goes to `onRequest`.
   */
  receiveRequest(request: SipRequest, source: MessageSource): void {
    const via = request.topVia;
    if (via === undefined) {
      this.#mutableCounters.dropped++;
      this.#logger.debug({ method: request.method }, 'request without Via dropped');
      return;
    }
    const method = request.method;
    if (method === 'ACK') return this.#receiveAck(request, via, source);
    const key = requestKey(request, via, method);
    const existing = this.#servers.get(key);
    if (existing !== undefined) return existing.receiveRetransmission();

    const ctx = this.#context(source.protocol);
    // The transport's packet may carry its bytes; the transaction keeps the addresses only.
    const from = replyPath(source);
    let transaction: ServerTransaction;
    if (method === 'INVITE') {
      transaction = new ServerInviteTransaction(key, request, from, ctx, this.#trying100);
    } else {
      // RFC 3261 §9.2: a CANCEL is its own transaction; it refers to the INVITE with the same key.
      const cancelled = method === 'CANCEL' ? this.#findInvite(request, via) : undefined;
      transaction = new ServerNonInviteTransaction(key, request, from, ctx, cancelled);
    }
    this.#servers.set(key, transaction);
    this.#mutableCounters.created[transaction.kind]++;
    if (transaction.kind === 'server-invite') transaction.start();
    this.#deliverRequest(request, transaction, source);
  }

  /** RFC 3261 §17.1.3: a response goes to the client transaction with its branch and CSeq method, or to `onStrayResponse`. */
  receiveResponse(response: SipResponse, source: MessageSource): void {
    const key = responseKey(response);
    const transaction = key === undefined ? undefined : this.#clients.get(key);
    if (transaction !== undefined) return transaction.receiveResponse(response);
    this.#mutableCounters.strayResponses++;
    try {
      this.#onStrayResponse(response, source);
    } catch (error) {
      this.#logger.error({ err: error, status: response.status }, 'stray response handler threw');
    }
  }

  /**
   * Starts a client transaction: sends the request and runs its timers. Register listeners on the
   * returned transaction right away (events never fire before the current call stack unwinds).
   *
   * Throws a TypeError for an ACK (the TU sends 2xx ACKs with the MessageSender, §17.1.1.3), for a
   * request whose top Via has no RFC 3261 branch (call `addVia` first), and for a branch already in use.
   */
  createClientTransaction(request: SipRequest, destination: Destination): ClientTransaction {
    if (request.method === 'ACK') {
      throw new TypeError('An ACK is not sent in a client transaction: send the ACK for a 2xx with the MessageSender.');
    }
    const via = request.topVia;
    if (via === undefined || !via.rfc3261) {
      throw new TypeError(`The ${request.method} has no top Via with an RFC 3261 branch: call addVia(request, sentBy) first.`);
    }
    const key = clientKey(via.branch as string, request.method);
    if (this.#clients.has(key)) {
      throw new TypeError(`A client transaction with branch ${via.branch} is running: give every request a new branch with addVia().`);
    }
    const ctx = this.#context(destination.protocol);
    const transaction =
      request.method === 'INVITE'
        ? new ClientInviteTransaction(key, request, destination, ctx)
        : new ClientNonInviteTransaction(key, request, destination, ctx);
    this.#clients.set(key, transaction);
    this.#mutableCounters.created[transaction.kind]++;
    transaction.start();
    return transaction;
  }

  /**
   * RFC 3261 §9.1: cancels a pending INVITE with a CANCEL in its own non-INVITE client transaction.
   * The CANCEL goes out at once if a provisional response came, otherwise when the first one comes;
   * the promise resolves with its transaction then, or with `undefined` when the INVITE got a final
   * response (or ended) first. Calling it again for the same INVITE returns the same promise.
   *
   * Hazard: the CANCEL transaction is already sending when the promise resolves; an `await`ing
   * caller sees it before any event, but check `state` if you chain further before listening.
   */
  createCancel(invite: ClientInviteTransaction): Promise<ClientNonInviteTransaction | undefined> {
    const existing = this.#cancels.get(invite);
    if (existing !== undefined) return existing;
    const pending = new Promise<ClientNonInviteTransaction | undefined>((resolve) => {
      const send = (): void => {
        // Proceeding or Calling: the INVITE is still held (a final response would have released it).
        const request = invite.request;
        if (request === undefined) return resolve(undefined);
        const cancel = createCancelRequest(request);
        const key = clientKey(cancel.topVia?.branch as string, 'CANCEL');
        if (this.#clients.has(key)) return resolve(undefined);
        const transaction = new ClientNonInviteTransaction(key, cancel, invite.destination, this.#context(invite.destination.protocol));
        this.#clients.set(key, transaction);
        this.#mutableCounters.created[transaction.kind]++;
        resolve(transaction);
        transaction.start();
      };
      if (invite.state === 'Proceeding') return send();
      if (invite.state !== 'Calling') return resolve(undefined);
      // RFC 3261 §9.1: no CANCEL before a provisional response, and none after a final one.
      const offResponse = invite.onResponse((response) => {
        offResponse();
        offTerminated();
        if (response.status < 200) send();
        else resolve(undefined);
      });
      const offTerminated = invite.onTerminated(() => {
        offResponse();
        resolve(undefined);
      });
    });
    this.#cancels.set(invite, pending);
    return pending;
  }

  /** Stops every timer and drops every transaction without events (shutdown). */
  close(): void {
    for (const transaction of [...this.#clients.values(), ...this.#servers.values()]) transaction.abort();
  }

  #context(protocol: Protocol): TransactionContext {
    return this.#sender.isReliable(protocol) ? this.#reliable : this.#unreliable;
  }

  #forget(transaction: Transaction): void {
    if (this.#clients.get(transaction.id) === transaction) this.#clients.delete(transaction.id);
    else if (this.#servers.get(transaction.id) === transaction) this.#servers.delete(transaction.id);
  }

  #findInvite(request: SipRequest, via: Via): ServerInviteTransaction | undefined {
    const found = this.#servers.get(requestKey(request, via, 'INVITE'));
    return found?.kind === 'server-invite' ? found : undefined;
  }

  /** RFC 3261 §17.2.3: the ACK for a non-2xx matches its INVITE transaction; a 2xx ACK matches none. */
  #receiveAck(ack: SipRequest, via: Via, source: MessageSource): void {
    let invite = this.#findInvite(ack, via);
    if (invite === undefined && !via.rfc3261) {
      // RFC 2543: the ACK carries the To tag of the response, the INVITE that made the key had none.
      const candidate = this.#servers.get(rfc2543Key(ack, via, 'INVITE', ''));
      if (candidate?.kind === 'server-invite' && candidate.toTag !== undefined && candidate.toTag === ack.to.tag) {
        invite = candidate;
      }
    }
    if (invite !== undefined) return invite.receiveAck(ack, source);
    this.#mutableCounters.strayAcks++;
    this.#deliverAck(ack, source);
  }

  #deliverAck(ack: SipRequest, source: MessageSource): void {
    try {
      this.#onAck(ack, source);
    } catch (error) {
      this.#logger.error({ err: error, callId: ack.callId }, 'ACK handler threw');
    }
  }

  #deliverRequest(request: SipRequest, transaction: ServerTransaction, source: MessageSource): void {
    try {
      this.#onRequest(request, transaction, source);
    } catch (error) {
      this.#logger.error({ err: error, method: request.method, transaction: transaction.id }, 'request handler threw');
      // Last resort, so the transaction does not stay open forever: the dispatcher above is the
      // place that maps errors to responses, and it should never let one reach this layer.
      const last = transaction.lastResponse;
      if (last === undefined || last.status < 200) transaction.respond(createResponse(request, 500));
    }
  }
}

/** The part of a source responses go back along (RFC 3261 §18.2.2), without what else the transport attached. */
function replyPath(source: MessageSource): MessageSource {
  const path: MessageSource = { protocol: source.protocol, local: source.local, remote: source.remote };
  if (source.connectionId !== undefined) path.connectionId = source.connectionId;
  return path;
}
